"""建会材料: scanned documents on founding steps. Checked by content (a PNG named .pdf is a PNG, a
text file named .pdf, a cut-off PDF and a file over 10 MB are refused next to the field with the
rest kept), stored under the upload directory with random names, attached once however often the
form is sent, downloaded as an attachment only by users who may see the file, removed by editors
only (kept in the history), and copied by the backup."""
import hashlib
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image

from crm import storage
from crm.common.timeutil import local_today
from crm.enterprises.models import Enterprise, EnterpriseChange
from crm.founding import documents
from crm.founding.models import FoundingDocument, FoundingEvent
from tests.conftest import csrf_token, login_as
from tests.fieldwork_helpers import form_keys, jpeg


def pdf_bytes(color=255) -> bytes:
    """A real one-page PDF (Pillow writes it with its xref table and %%EOF)."""
    out = io.BytesIO()
    Image.new("L", (120, 170), color).save(out, "PDF", resolution=20.0)
    return out.getvalue()


def png_bytes(color="blue", size=(60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def gps_jpeg() -> bytes:
    """A phone photo of a document: EXIF with a GPS position and a camera model."""
    exif = Image.Exif()
    exif[0x0110] = "PhoneCam X"  # Model
    exif[0x8825] = {1: "N", 2: (39.0, 47.0, 1.0), 3: "E", 4: (116.0, 20.0, 2.0)}  # GPSInfo
    return jpeg(size=(300, 200), exif=exif).getvalue()


def upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


@pytest.fixture
def world(make):
    town, other_town = make.org("高米店街道总工会", kind="street"), make.org("瀛海镇总工会")
    staff = make.user("staff", org=town, name="刘晓晴")
    ent = make.enterprise(org=town, user=staff, name="北京兴业物流有限公司", initial_stage="willing")
    return {"town": town, "staff": staff, "ent": ent,
            "viewer": make.user("viewer", org=town), "outsider": make.user("staff", org=other_town)}


def move_path(ent, to="applied"):
    return f"/enterprises/{ent.id}/stage?to={to}"


def post_move(client, ent, files=(), to="applied", key=None, token=None, **typed):
    path = move_path(ent, to)
    if token is None or key is None:
        token, key, _ = form_keys(client, path)
    body = {"csrf_token": token, "form_key": key, "from_stage": "willing",
            "occurred_on": local_today().isoformat(), "note": "", "evidence_text": "",
            "document_kind": "request", "document_title": "", **typed}
    if files:
        body["documents"] = list(files)
    return client.post(path, data=body, content_type="multipart/form-data"), key, token


def moved(ent) -> FoundingEvent:
    return FoundingEvent.get(FoundingEvent.enterprise == ent.id, FoundingEvent.kind != "initial")


def add_path(ent, event):
    return f"/enterprises/{ent.id}/founding/{event.id}/documents"


def post_add(client, ent, event, files=(), kind="approval", title="", key=None, token=None):
    path = add_path(ent, event)
    if token is None or key is None:
        token, key, _ = form_keys(client, path)
    body = {"csrf_token": token, "form_key": key, "document_kind": kind, "document_title": title}
    if files:
        body["documents"] = list(files)
    return client.post(path, data=body, content_type="multipart/form-data"), key, token


def doc_url(doc):
    return f"/enterprises/{doc.enterprise_id}/founding/documents/{doc.id}"


def saved_event(app, world, files):
    """A move with documents, saved by the staff member; returns (client, event)."""
    client = login_as(app.test_client(), world["staff"])
    resp, _, _ = post_move(client, world["ent"], files)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    return client, moved(world["ent"])


# ---- on the move form ------------------------------------------------------------------------

def test_documents_uploaded_with_the_move_are_attached_stored_and_listed(app, world):
    pdf = pdf_bytes()
    client, event = saved_event(app, world, [upload(pdf, "关于成立工会的请示.pdf"), upload(png_bytes(), "附件.png")])
    docs = list(FoundingDocument.select().order_by(FoundingDocument.id))
    assert [(d.event_id, d.kind, d.content_type) for d in docs] == \
        [(event.id, "request", "application/pdf"), (event.id, "request", "image/png")]
    first = docs[0]
    assert first.original_name == "关于成立工会的请示.pdf" and first.uploaded_by_id == world["staff"].id
    assert re.fullmatch(r"[0-9a-f]{32}", first.stored_name) and first.stored_name not in first.original_name
    with app.app_context():
        key = documents.key_of(first)
        path = Path(app.config["UPLOAD_DIR"]).joinpath(*key.split("/"))  # where it has always been
        assert path.parent.parent == Path(app.config["UPLOAD_DIR"]) / "founding"
        assert path.read_bytes() == pdf == storage.current().read(key)  # a PDF is kept as sent
        assert documents.key_of(docs[1]).endswith(".png")
    assert first.sha256 == hashlib.sha256(pdf).hexdigest() and first.size_bytes == len(pdf)

    page = client.get(f"/enterprises/{world['ent'].id}").get_data(as_text=True)
    start = page.index(f'id="founding-{event.id}"')
    section = page[start:page.index("</section>", start)]
    assert "关于成立工会的请示.pdf" in section and "附件.png" in section and "建会请示" in section
    assert "PDF · " in section and " KB" in section and "刘晓晴" in section
    assert doc_url(first) in section and "添加材料" in section and "移除" in section
    history = [(c.field, c.new_value) for c in EnterpriseChange.select().where(EnterpriseChange.field == "建会材料")]
    assert ("建会材料", f"建会请示：关于成立工会的请示.pdf（已提交建会请示，{event.occurred_on.isoformat()}）") in history


def test_a_text_file_named_pdf_is_refused_next_to_the_field_and_nothing_typed_is_lost(app, world):
    client = login_as(app.test_client(), world["staff"])
    resp, key, _ = post_move(client, world["ent"], [upload(b"minutes of the meeting, typed", "请示.pdf"),
                                                    upload(png_bytes(), "好的.png")],
                             evidence_text="请示已报送街道总工会", document_title="请示正文")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "“请示.pdf”：只能上传 PDF、JPEG 或 PNG 文件" in html
    assert 'class="invalid-feedback d-block" role="alert">“请示.pdf”' in html  # next to the file field
    assert "请示已报送街道总工会" in html and 'value="请示正文"' in html  # what was typed stays
    assert Enterprise.get_by_id(world["ent"].id).stage == "willing"  # nothing saved
    waiting = FoundingDocument.get()  # the good file waits for the save
    assert waiting.event_id is None and waiting.form_key == key and "已上传，保存后生效" in html

    # Sent again without the bad file: the move is saved with the file kept from the first send.
    resp, _, _ = post_move(client, world["ent"], key=key, token=re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1),
        evidence_text="请示已报送街道总工会", document_title="请示正文")
    assert resp.status_code == 302
    doc = FoundingDocument.get_by_id(waiting.id)
    assert doc.event_id == moved(world["ent"]).id and doc.title == "请示正文"


@pytest.mark.parametrize("name", ["批复.pdf", "批复"])
def test_a_png_named_pdf_is_taken_as_the_png_it_is(app, world, name):
    client, event = saved_event(app, world, [upload(png_bytes(), name)])
    doc = FoundingDocument.get()
    assert doc.content_type == "image/png" and doc.download_name == "批复.png"
    resp = client.get(doc_url(doc))
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert Image.open(io.BytesIO(resp.data)).format == "PNG"
    assert "filename*=UTF-8''" + quote("批复.png") in resp.headers["Content-Disposition"]


def test_a_truncated_pdf_is_refused(app, world):
    client = login_as(app.test_client(), world["staff"])
    whole = pdf_bytes()
    resp, _, _ = post_move(client, world["ent"], [upload(whole[: len(whole) // 2], "批复.pdf")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "“批复.pdf”不是完整的 PDF 文件" in html
    assert FoundingDocument.select().count() == 0 and FoundingEvent.select().count() == 1


def test_a_broken_image_is_refused(app, world):
    client = login_as(app.test_client(), world["staff"])
    whole = png_bytes(size=(400, 300))
    resp, _, _ = post_move(client, world["ent"], [upload(whole[: len(whole) // 2], "扫描.png")])
    assert "“扫描.png”是损坏或不完整的图片" in resp.get_data(as_text=True)
    assert FoundingDocument.select().count() == 0


def test_a_file_over_10_mb_is_refused(app, world):
    client = login_as(app.test_client(), world["staff"])
    big = pdf_bytes()
    big = big[:20] + b"%" + b"0" * (10 * 1024 * 1024) + b"\n" + big[20:]  # a comment line pads it out
    resp, _, _ = post_move(client, world["ent"], [upload(big, "大文件.pdf")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "“大文件.pdf”有 10.0 MB，文件不能超过 10 MB" in html
    assert FoundingDocument.select().count() == 0 and Enterprise.get_by_id(world["ent"].id).stage == "willing"
    with app.app_context():
        folder = Path(app.config["UPLOAD_DIR"]) / "founding"
        assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def test_more_than_10_files_are_refused(app, world):
    client = login_as(app.test_client(), world["staff"])
    files = [upload(png_bytes(color=(i * 20, 0, 0)), f"第{i}页.png") for i in range(11)]
    resp, _, _ = post_move(client, world["ent"], files)
    assert "一次最多上传 10 个文件，这次选了 11 个" in resp.get_data(as_text=True)
    assert FoundingDocument.select().count() == 0


def test_too_many_pixels_are_refused(app, world):
    out = io.BytesIO()
    Image.new("1", (5000, 4000), 1).save(out, "PNG")  # 20 MP: small on disk, big when decoded
    client = login_as(app.test_client(), world["staff"])
    resp, _, _ = post_move(client, world["ent"], [upload(out.getvalue(), "大图.png")])
    assert "“大图.png”的像素太多" in resp.get_data(as_text=True)


def test_a_resent_move_form_does_not_duplicate_documents(app, world):
    client = login_as(app.test_client(), world["staff"])
    pdf = pdf_bytes()  # once: Pillow stamps each PDF with the second it was made
    files = lambda: [upload(pdf, "请示.pdf"), upload(png_bytes(), "签字页.png")]  # noqa: E731
    first, key, token = post_move(client, world["ent"], files())
    assert first.status_code == 302
    again, _, _ = post_move(client, world["ent"], files(), key=key, token=token)
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert FoundingEvent.select().where(FoundingEvent.kind != "initial").count() == 1
    assert FoundingDocument.select().count() == 2
    assert EnterpriseChange.select().where(EnterpriseChange.field == "建会材料").count() == 2


def test_jpeg_is_stored_without_its_metadata(app, world):
    _, event = saved_event(app, world, [upload(gps_jpeg(), "现场照片.jpg")])
    doc = FoundingDocument.get()
    with app.app_context():
        stored = storage.current().read(documents.key_of(doc))
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (300, 200)
    assert not image.getexif() and b"PhoneCam" not in stored and "exif" not in image.info
    assert doc.size_bytes == len(stored)


# ---- afterwards, on the file page ------------------------------------------------------------

def test_add_documents_to_a_saved_step(app, world):
    client, event = saved_event(app, world, [])
    page = client.get(add_path(world["ent"], event))
    assert page.status_code == 200 and 'name="documents"' in page.get_data(as_text=True)
    resp, _, _ = post_add(client, world["ent"], event, [upload(pdf_bytes(), "批复.pdf")], kind="approval",
                          title="兴工筹字〔2026〕12号批复")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"#founding-{event.id}")
    doc = FoundingDocument.get()
    assert (doc.event_id, doc.kind, doc.title) == (event.id, "approval", "兴工筹字〔2026〕12号批复")
    html = client.get(f"/enterprises/{world['ent'].id}").get_data(as_text=True)
    assert "兴工筹字〔2026〕12号批复" in html and "已添加 1 份建会材料" in html


def test_add_without_a_file_says_so(app, world):
    client, event = saved_event(app, world, [])
    resp, _, _ = post_add(client, world["ent"], event, [], title="补充材料")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "请选择要上传的 PDF、JPEG 或 PNG 文件" in html and 'value="补充材料"' in html


def test_a_resent_add_form_does_not_duplicate(app, world):
    client, event = saved_event(app, world, [])
    pdf = pdf_bytes()  # once: Pillow stamps each PDF it writes with the second it was made
    first, key, token = post_add(client, world["ent"], event, [upload(pdf, "决议.pdf")])
    again, _, _ = post_add(client, world["ent"], event, [upload(pdf, "决议.pdf")], key=key, token=token)
    assert first.status_code == again.status_code == 302
    assert FoundingDocument.select().where(FoundingDocument.event == event.id).count() == 1
    # The same file picked again in a new form is not attached twice either.
    third, _, _ = post_add(client, world["ent"], event, [upload(pdf, "决议（再传）.pdf")])
    assert third.status_code == 302
    assert FoundingDocument.select().where(FoundingDocument.event == event.id,
                                           FoundingDocument.archived == False).count() == 1  # noqa: E712


# ---- download and scope ----------------------------------------------------------------------

def test_download_by_a_user_in_scope(app, world):
    pdf = pdf_bytes()
    client, _ = saved_event(app, world, [upload(pdf, "会员大会决议（第一次）.pdf")])
    doc = FoundingDocument.get()
    for user in (world["staff"], world["viewer"]):
        resp = login_as(client, user).get(doc_url(doc))
        assert resp.status_code == 200 and resp.data == pdf
        assert resp.mimetype == "application/pdf"
        disposition = resp.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote('会员大会决议（第一次）.pdf', safe='')}" in disposition
        assert re.search(r'filename="[A-Za-z0-9._-]+\.pdf"', disposition)
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Cache-Control"].startswith("private")


def test_out_of_scope_staff_get_404_everywhere(app, world):
    client, event = saved_event(app, world, [upload(pdf_bytes(), "请示.pdf")])
    doc = FoundingDocument.get()
    login_as(client, world["outsider"])
    assert client.get(doc_url(doc)).status_code == 404
    assert client.get(add_path(world["ent"], event)).status_code == 404
    token = csrf_token(client, "/")
    resp = client.post(add_path(world["ent"], event), content_type="multipart/form-data",
                       data={"csrf_token": token, "form_key": "k" * 24, "document_kind": "other",
                             "documents": [upload(pdf_bytes(), "x.pdf")]})
    assert resp.status_code == 404
    assert client.post(doc_url(doc) + "/remove", data={"csrf_token": token}).status_code == 404
    # And the document id does not leak through another firm's address either.
    own = make_own_firm(world)
    assert client.get(f"/enterprises/{own.id}/founding/documents/{doc.id}").status_code == 404
    assert FoundingDocument.select().count() == 1 and not FoundingDocument.get().archived


def make_own_firm(world):
    from crm.enterprises.services import create_enterprise
    return create_enterprise({"name": "瀛海镇自己的企业有限公司", "org_unit": world["outsider"].org_unit_id},
                             world["outsider"])


def test_viewer_downloads_but_may_not_upload_or_remove(app, world):
    client, event = saved_event(app, world, [upload(pdf_bytes(), "请示.pdf")])
    doc = FoundingDocument.get()
    login_as(client, world["viewer"])
    page = client.get(f"/enterprises/{world['ent'].id}").get_data(as_text=True)
    assert doc_url(doc) in page and "添加材料" not in page and "/remove" not in page
    assert client.get(doc_url(doc)).status_code == 200
    assert client.get(add_path(world["ent"], event)).status_code == 403
    token = csrf_token(client, "/")
    resp = client.post(add_path(world["ent"], event), content_type="multipart/form-data",
                       data={"csrf_token": token, "form_key": "v" * 24, "document_kind": "other",
                             "documents": [upload(pdf_bytes(), "x.pdf")]})
    assert resp.status_code == 403
    assert client.post(doc_url(doc) + "/remove", data={"csrf_token": token}).status_code == 403
    assert FoundingDocument.select().count() == 1 and not FoundingDocument.get().archived


def test_a_pending_document_is_only_its_uploaders(app, world, make):
    client = login_as(app.test_client(), world["staff"])
    post_move(client, world["ent"], [upload(pdf_bytes(), "请示.pdf")], note="", to="recruiting")  # refused: skip
    doc = FoundingDocument.get()
    assert doc.event_id is None
    assert client.get(doc_url(doc)).status_code == 200
    colleague = make.user("supervisor", org=world["town"])
    assert login_as(client, colleague).get(doc_url(doc)).status_code == 404


def test_removal_hides_the_document_and_keeps_it_in_history(app, world):
    client, event = saved_event(app, world, [upload(pdf_bytes(), "请示.pdf"), upload(png_bytes(), "附页.png")])
    doc = FoundingDocument.get(FoundingDocument.original_name == "请示.pdf")
    token = csrf_token(client, f"/enterprises/{world['ent'].id}")
    resp = client.post(doc_url(doc) + "/remove", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"#founding-{event.id}")
    kept = FoundingDocument.get_by_id(doc.id)
    assert kept.archived and kept.archived_by_id == world["staff"].id and kept.archived_at is not None
    with app.app_context():
        assert storage.current().exists(documents.key_of(kept))  # the file stays for the history
    page = client.get(f"/enterprises/{world['ent'].id}").get_data(as_text=True)
    assert doc_url(doc) not in page and "附页.png" in page
    assert client.get(doc_url(doc)).status_code == 404  # archived: as if it were not there
    removed = EnterpriseChange.get(EnterpriseChange.field == "建会材料", EnterpriseChange.new_value == "（已移除）")
    assert removed.old_value.startswith("建会请示：请示.pdf") and removed.user_id == world["staff"].id
    history = client.get(f"/enterprises/{world['ent'].id}/history").get_data(as_text=True)
    assert "（已移除）" in history and "建会材料" in history
    # A second removal of the same document finds nothing.
    assert client.post(doc_url(doc) + "/remove", data={"csrf_token": token}).status_code == 404


def test_clean_names():
    assert documents.clean_name("C:\\Users\\张三\\Desktop\\批复.pdf") == "批复.pdf"
    assert documents.clean_name("../../etc/passwd") == "passwd"
    assert documents.clean_name("请示\n\x00.pdf") == "请示 .pdf"
    long = documents.clean_name("长" * 300 + ".pdf")
    assert len(long) == 100 and long.endswith(".pdf")


# ---- backup ------------------------------------------------------------------------------------

def test_the_backup_copies_the_documents(app, world, tmp_path):
    from crm.ops import backup
    pdf = pdf_bytes()
    saved_event(app, world, [upload(pdf, "请示.pdf")])
    doc = FoundingDocument.get()
    with app.app_context():
        rel = documents.key_of(doc)
    manifest = backup.backup(app.config["DATABASE_URL"], app.config["UPLOAD_DIR"], tmp_path / "backup")
    assert manifest["tables"]["founding_document"] == 1
    assert (tmp_path / "backup" / "uploads" / rel).read_bytes() == pdf
    assert json.loads((tmp_path / "backup" / "manifest.json").read_text(encoding="utf-8"))["uploads"]["files"] == 1


# ---- the demo ----------------------------------------------------------------------------------

def test_demo_documents_are_valid_and_attached(app, make):
    from crm.demo.documents import add_founding_documents, scan_pdf, scan_png
    assert documents.check(scan_pdf(), "x.pdf")[1] == "application/pdf"
    assert documents.check(scan_png(), "x.png")[1] == "image/png"
    with app.app_context():
        unit = make.org("高米店街道总工会", kind="street")
        user = make.user("staff", org=unit)
        ent = make.enterprise(org=unit, user=user)
        from crm.founding.services import move
        for step in ("contacted", "willing", "applied", "preparing"):
            move(ent, step, user, expected_from=Enterprise.get_by_id(ent.id).stage,
                 occurred_on=local_today() - timedelta(days=1))
        assert add_founding_documents({"gaomidian": unit}, {"admin": user}) == 2
    docs = list(FoundingDocument.select().join(FoundingEvent).order_by(FoundingDocument.id))
    assert [(d.event.to_stage, d.kind, d.content_type) for d in docs] == \
        [("applied", "request", "application/pdf"), ("preparing", "approval", "image/png")]
