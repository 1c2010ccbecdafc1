"""建会材料: scanned documents of a founding step (建会请示, 批复, 会员大会决议, 选举结果 …).

Checked by content, never by the file's name or the browser's content type:
- PDF: starts with `%PDF-<version>` and ends (within its last 2 KB) with `startxref <offset>` and
  `%%EOF`, the offset inside the file; a file cut short in transfer has no such end. Kept as sent.
- JPEG, PNG: opened and fully decoded by Pillow within a pixel bound, then re-encoded (JPEG as
  JPEG at quality 90 with the EXIF orientation applied, PNG as lossless PNG) so that no metadata
  block — EXIF with the GPS position of a phone, XMP, comments, text chunks — is kept. A JPEG
  with a side over MAX_SIDE is scaled down to it (an A4 page at 300 dpi fits unscaled).
Each file ≤ 10 MB, at most 10 per form. Files live in the app's storage (crm.storage) under
`founding/ab/<random name><extension>`, are written before their row commits and are never
rewritten or deleted (the backup copies every file of the storage: crm/ops).

A document is uploaded with its form and stays pending (tied to the form's key and its uploader)
until the form is saved, so a move sent back for a mistake keeps its documents.
"""
import hashlib
import re
import secrets
import threading
import warnings
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from crm import storage as filestore
from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.common.uploads import read_limited
from crm.common.text import safe_text
from crm.common.timeutil import utcnow
from crm.db import db
from crm.enterprises.models import Enterprise, EnterpriseChange
from crm.founding import stages
from crm.founding.models import DOCUMENT_KINDS, DOCUMENT_TYPES, FoundingDocument, FoundingEvent
from crm.sync import services as submissions

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10  # per form
SUBDIR = "founding"
MAX_SIDE = 4096
# Decoding is bounded: a JPEG is decoded at a reduced scale (draft) close to what is kept; a PNG
# has no reduced decoding, so it takes fewer pixels. One decode at a time per worker process.
MAX_PIXELS_JPEG = 80_000_000
MAX_PIXELS_PNG = 16_000_000
_DECODES = threading.BoundedSemaphore(1)
HISTORY_FIELD = "建会材料"

NOT_ALLOWED = "只能上传 PDF、JPEG 或 PNG 文件"
_PDF_HEAD = re.compile(rb"%PDF-\d\.\d")
_PDF_TAIL = re.compile(rb"startxref\s+(\d+)\s*%%EOF")
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"}


def key_of(doc: FoundingDocument) -> str:
    """The document's key in the storage."""
    return _key(doc.stored_name, doc.extension)


def _key(name: str, extension: str) -> str:
    return f"{SUBDIR}/{name[:2]}/{name}{extension}"


def clean_name(filename: str) -> str:
    """The file's own name as a person reads it: no folders, no control characters, ≤ 100
    characters with its extension kept."""
    name = safe_text((filename or "").replace("\\", "/").rsplit("/", 1)[-1], multiline=False).strip()
    name = name.strip(" .")
    if len(name) > 100:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:100 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:100]
    return name


def _label(filename: str) -> str:
    return clean_name(filename) or "文件"


def _too_big(name: str, size: int) -> str:
    return f"“{name}”有 {size / 1024 / 1024:.1f} MB，文件不能超过 10 MB，请压缩或分成几份后再上传"


def _check_pdf(data: bytes, name: str) -> None:
    if not _PDF_HEAD.match(data[:8]):
        raise ServiceError(f"“{name}”：{NOT_ALLOWED}", "documents")
    ends = list(_PDF_TAIL.finditer(data[-2048:]))
    if not ends or int(ends[-1].group(1)) >= len(data):
        raise ServiceError(f"“{name}”不是完整的 PDF 文件（可能没有传完或已损坏），请重新扫描或导出后再上传",
                           "documents")


def _reencode(data: bytes, name: str) -> tuple[bytes, str]:
    """(bytes to store, content type) of a JPEG or PNG, or ServiceError."""
    bad = ServiceError(f"“{name}”：{NOT_ALLOWED}", "documents")
    broken = ServiceError(f"“{name}”是损坏或不完整的图片，请重新扫描或拍照后再上传", "documents")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=["JPEG", "PNG"]) as probe:
                kind = probe.format
                if kind not in ("JPEG", "MPO", "PNG"):
                    raise bad
                width, height = probe.size
                jpeg = kind != "PNG"
                if width * height > (MAX_PIXELS_JPEG if jpeg else MAX_PIXELS_PNG):
                    raise ServiceError(f"“{name}”的像素太多，无法处理：JPEG 最多 8000 万像素，PNG 最多 1600 万像素，"
                                       "请以 300 dpi 扫描或转成 PDF 后再上传", "documents")
                probe.verify()
            with _DECODES:
                return _decode_and_encode(data, jpeg, width, height)
    except ServiceError:
        raise
    except UnidentifiedImageError:
        raise bad
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise broken


def _decode_and_encode(data: bytes, jpeg: bool, width: int, height: int) -> tuple[bytes, str]:
    image = Image.open(BytesIO(data))
    try:
        dpi = image.info.get("dpi")
        if jpeg:
            scale = min(1.0, MAX_SIDE / max(width, height))
            mode = "L" if image.mode == "L" else "RGB"
            image.draft(mode, (max(1, int(width * scale)), max(1, int(height * scale))))
        image.load()
        upright = ImageOps.exif_transpose(image)  # before the metadata goes
        if upright is not image:
            image.close()
            image = upright
        out = BytesIO()
        if jpeg:
            if image.mode not in ("L", "RGB"):
                converted = image.convert("RGB")
                image.close()
                image = converted
            if max(image.size) > MAX_SIDE:
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            image.info = {}
            extra = {"dpi": tuple(round(float(d)) for d in dpi)} if _usable_dpi(dpi) else {}
            image.save(out, "JPEG", quality=90, optimize=True, **extra)  # no exif=: nothing carried over
            return out.getvalue(), "image/jpeg"
        if image.mode not in _PNG_MODES:
            converted = image.convert("RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")
            image.close()
            image = converted
        transparency = image.info.get("transparency")
        image.info = {"transparency": transparency} if transparency is not None else {}
        extra = {"dpi": tuple(float(d) for d in dpi)} if _usable_dpi(dpi) else {}
        image.save(out, "PNG", optimize=False, compress_level=6, **extra)
        return out.getvalue(), "image/png"
    finally:
        image.close()


def _usable_dpi(dpi) -> bool:
    try:
        return bool(dpi) and len(dpi) == 2 and all(0 < float(d) < 10000 for d in dpi)
    except (TypeError, ValueError):
        return False


def check(data: bytes, filename: str) -> tuple[bytes, str]:
    """(bytes to store, content type) of an uploaded document, or ServiceError with a clear
    message naming the file."""
    name = _label(filename)
    if not data:
        raise ServiceError(f"“{name}”是空文件", "documents")
    if len(data) > MAX_BYTES:
        raise ServiceError(_too_big(name, len(data)), "documents")
    if data[:5] == b"%PDF-":
        _check_pdf(data, name)
        return data, "application/pdf"
    return _reencode(data, name)


def _store(data: bytes, content_type: str) -> str:
    name = secrets.token_hex(16)
    filestore.current().put(_key(name, DOCUMENT_TYPES[content_type]), data)
    return name


def pending(ent, form_key: str, user) -> list[FoundingDocument]:
    if not form_key:
        return []
    return list(FoundingDocument.select().where(
        FoundingDocument.form_key == form_key, FoundingDocument.event.is_null(),
        FoundingDocument.enterprise == ent.id, FoundingDocument.uploaded_by == user,
        FoundingDocument.archived == False).order_by(FoundingDocument.id))  # noqa: E712


def stage(files, ent, form_key: str, user, kind: str = "other", title: str = "") -> list[str]:
    """Keep the uploaded files as pending documents of this form. Returns the messages for the
    files refused; the good ones are kept either way."""
    files = [f for f in files if f is not None and f.filename]
    if not files:
        return []
    waiting = len(pending(ent, form_key, user))
    if waiting + len(files) > MAX_FILES:
        already = f"（已上传 {waiting} 个）" if waiting else ""
        return [f"一次最多上传 {MAX_FILES} 个文件{already}，这次选了 {len(files)} 个，请分几次上传"]
    kind = kind if kind in DOCUMENT_KINDS else "other"
    errors = []
    for storage in files:
        data, size = read_limited(storage, MAX_BYTES)
        if data is None:
            errors.append(_too_big(_label(storage.filename), size))
            continue
        try:
            kept, content_type = check(data, storage.filename)
        except ServiceError as exc:
            errors.append(str(exc))
            continue
        stored = _store(kept, content_type)
        FoundingDocument.create(enterprise=ent.id, form_key=form_key, kind=kind, title=(title or "")[:100],
                                original_name=clean_name(storage.filename), stored_name=stored,
                                content_type=content_type, sha256=hashlib.sha256(kept).hexdigest(),
                                size_bytes=len(kept), uploaded_by=user)
    return errors


def _history(ent_id: int, user, old: str, new: str):
    version = Enterprise.select(Enterprise.version).where(Enterprise.id == ent_id).scalar()
    EnterpriseChange.create(enterprise=ent_id, user=user, version=version, field=HISTORY_FIELD,
                            old_value=old, new_value=new, source="founding")


def describe(doc: FoundingDocument, event: FoundingEvent | None = None) -> str:
    what = doc.title or doc.kind_label
    step = f"（{stages.label(event.to_stage)}，{event.occurred_on.isoformat()}）" if event else ""
    return f"{what}：{doc.original_name or doc.download_name}{step}"


def attach(event: FoundingEvent, form_key: str, user, kind: str | None = None,
           title: str | None = None) -> list[FoundingDocument]:
    """Give the form's pending documents to the saved step (inside its transaction), with the
    kind and title the form was saved with. The same file twice on one step (a re-sent form, a
    file picked again) is attached once. Each one added is in the file's 变更记录."""
    have = {d.sha256 for d in FoundingDocument.select(FoundingDocument.sha256)
            .where(FoundingDocument.event == event.id, FoundingDocument.archived == False)}  # noqa: E712
    ent = Enterprise.get_by_id(event.enterprise_id)
    attached = []
    for doc in pending(ent, form_key, user):
        if doc.sha256 in have:
            FoundingDocument.update(archived=True, archived_by=user, archived_at=utcnow())\
                .where(FoundingDocument.id == doc.id).execute()
            continue
        have.add(doc.sha256)
        values = {"event": event.id}
        if kind in DOCUMENT_KINDS:
            values["kind"] = doc.kind = kind
        if title is not None:
            values["title"] = doc.title = title[:100]
        FoundingDocument.update(**values).where(FoundingDocument.id == doc.id).execute()
        doc.event = event
        _history(ent.id, user, "", describe(doc, event))
        attached.append(doc)
    return attached


def add(event: FoundingEvent, sent, user, kind: str, title: str = "") -> tuple[list[FoundingDocument], bool]:
    """添加材料 to a saved step: the form's pending documents, in one transaction with the form's
    submission (crm.sync), so a re-sent form adds nothing. Returns (documents added, created)."""
    added: list[FoundingDocument] = []

    def build():
        added.extend(attach(event, sent.key, user, kind, title))
        return event

    _, created = submissions.once("stage_docs", sent, user, build,
                                  lambda found: FoundingEvent.get_by_id(found.record_id))
    return added, created


def store(event: FoundingEvent, data: bytes, filename: str, user, kind: str = "other",
          title: str = "") -> FoundingDocument:
    """One document straight onto a saved step (the demo data, scripts): checked like an upload."""
    kept, content_type = check(data, filename)
    with db.atomic():
        doc = FoundingDocument.create(
            event=event.id, enterprise=event.enterprise_id, form_key=f"direct-{secrets.token_hex(8)}",
            kind=kind if kind in DOCUMENT_KINDS else "other", title=(title or "")[:100],
            original_name=clean_name(filename), stored_name=_store(kept, content_type),
            content_type=content_type, sha256=hashlib.sha256(kept).hexdigest(), size_bytes=len(kept),
            uploaded_by=user)
        _history(event.enterprise_id, user, "", describe(doc, event))
    return doc


def remove(doc: FoundingDocument, user):
    """Documents are archived, not deleted: the row and the file stay; the 变更记录 says so."""
    with db.atomic():
        FoundingDocument.update(archived=True, archived_by=user, archived_at=utcnow())\
            .where(FoundingDocument.id == doc.id).execute()
        event = FoundingEvent.get_or_none(FoundingEvent.id == doc.event_id) if doc.event_id else None
        _history(doc.enterprise_id, user, describe(doc, event), "（已移除）")


def of_events(event_ids) -> dict[int, list[FoundingDocument]]:
    """{event id: [its documents]} for the track, in one query."""
    ids = list(event_ids)
    out: dict[int, list[FoundingDocument]] = {}
    if not ids:
        return out
    for doc in (FoundingDocument.select(FoundingDocument, User).join(User, on=(FoundingDocument.uploaded_by == User.id))
                .where(FoundingDocument.event.in_(ids), FoundingDocument.archived == False)  # noqa: E712
                .order_by(FoundingDocument.id)):
        out.setdefault(doc.event_id, []).append(doc)
    return out
