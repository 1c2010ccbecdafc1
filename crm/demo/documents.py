"""建会材料 for the demo: a few small generated scans (a one-page PDF, a PNG) on founding steps of
the 高米店 files, stored through the founding documents service like an upload.

The pictures are drawn without the demo's random generator, so adding them leaves every other
part of the demo as the seed makes it."""
from io import BytesIO

from PIL import Image, ImageDraw

from crm.enterprises.models import Enterprise
from crm.founding import documents
from crm.founding.models import FoundingEvent

UNITS = ("gaomidian", "gaomidian_station")
# The document a step usually has, and its title.
BY_STAGE = {"applied": ("request", "关于成立工会的请示"),
            "preparing": ("approval", "关于同意成立工会筹备组的批复"),
            "elected": ("assembly", "会员大会决议"),
            "approved": ("election", "关于工会选举结果的批复")}
LIMIT = 6


def _page(stamp: bool) -> Image.Image:
    """A small grey page that looks like a scanned letter: a heading, lines of text, a seal."""
    page = Image.new("L", (248, 350), 255)
    draw = ImageDraw.Draw(page)
    draw.rectangle((64, 28, 184, 38), fill=40)
    for i, y in enumerate(range(62, 282, 14)):
        draw.rectangle((28 if i % 5 == 0 else 20, y, 228 - (i * 37) % 60, y + 5), fill=110)
    if stamp:
        draw.ellipse((150, 270, 218, 338), outline=70, width=4)
    return page


def scan_pdf() -> bytes:
    out = BytesIO()
    _page(stamp=True).save(out, "PDF", resolution=30.0)
    return out.getvalue()


def scan_png() -> bytes:
    out = BytesIO()
    _page(stamp=False).save(out, "PNG", optimize=True)
    return out.getvalue()


def add_founding_documents(units: dict, users: dict) -> int:
    """Attach a document to each of the first few 请示 / 批复 / 大会 steps of 高米店's files."""
    unit_ids = [units[code].id for code in UNITS if code in units]
    if not unit_ids:
        return 0
    events = list(FoundingEvent.select().join(Enterprise)
                  .where(Enterprise.org_unit.in_(unit_ids), FoundingEvent.to_stage.in_(list(BY_STAGE)),
                         FoundingEvent.kind != "initial")
                  .order_by(FoundingEvent.id).limit(LIMIT))
    pdf, png = scan_pdf(), scan_png()
    for i, event in enumerate(events):
        kind, title = BY_STAGE[event.to_stage]
        data, ext = (pdf, ".pdf") if i % 2 == 0 else (png, ".png")
        documents.store(event, data, f"{title}{ext}", event.user or users["admin"], kind)
    return len(events)
