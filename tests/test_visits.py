"""Visits: logging (with needs, photos, contact and stage moves), editing with history, archiving,
scoping, validation, idempotency, comments, the ledger and its export, the file timeline."""
import io
import re
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from crm.common.timeutil import local_today
from crm.enterprises.models import Enterprise
from crm.fieldwork.models import RecordChange
from crm.founding.models import FoundingEvent
from crm.needs.models import Need
from crm.photos.models import Photo
from crm.visits.models import Visit, VisitComment, VisitVisitor
from tests.conftest import BASE_PG_URL, csrf_token, login_as
from tests.fieldwork_helpers import big_png, form_keys, jpeg

TODAY = local_today()


@pytest.fixture
def town(make):
    org = make.org("甲镇总工会")
    return {"org": org, "staff": make.user("staff", org=org, name="刘小琴"),
            "supervisor": make.user("supervisor", org=org, name="寇玉杰"),
            "viewer": make.user("viewer", org=org), "ent": make.enterprise(org=org, name="京东物流大兴站")}


def new_visit(client, ent, **changes):
    """Post the visit form as a browser would: what the page pre-filled, plus `changes`."""
    path = f"/enterprises/{ent.id}/visits/new"
    html = client.get(path).get_data(as_text=True)
    token, key, _ = form_keys(client, path)
    ticked = re.findall(r'name="visitor_ids" id="[^"]+" value="(\d+)" autocomplete="off" checked', html)
    assert ticked, "the current user is ticked as visitor"
    # today when posted (a test may have fixed the clock since this module was imported)
    data = {"csrf_token": token, "form_key": key, "visited_on": local_today().isoformat(), "visit_time": "10:30",
            "kind": "door", "purposes": ["founding"], "summary": "见到人事经理，介绍建会流程",
            "visitor_ids": ticked, "move_to": ""}
    data.update(changes)
    return client.post(path, data=data, content_type="multipart/form-data"), key


def test_log_a_visit_makes_contact_needs_and_photo(app, town):
    client = login_as(app.test_client(), town["staff"])
    ent = town["ent"]
    resp, key = new_visit(client, ent, visitor_ids=[str(town["staff"].id), str(town["supervisor"].id)],
                          need_categories=["legal", "training"], need_detail="劳动合同咨询；安全培训",
                          next_step="送建会材料", next_step_on=(TODAY + timedelta(days=7)).isoformat(),
                          photos=(jpeg(), "现场.jpg"))
    assert resp.status_code == 302
    visit = Visit.get(Visit.form_key == key)
    assert resp.headers["Location"].endswith(f"/visits/{visit.id}")
    assert {r.user_id for r in VisitVisitor.select().where(VisitVisitor.visit == visit)} == \
        {town["staff"].id, town["supervisor"].id}
    needs = list(Need.select().where(Need.visit == visit).order_by(Need.id))
    assert [n.category for n in needs] == ["legal", "training"] and all(n.status == "open" for n in needs)
    assert needs[0].enterprise_id == ent.id and needs[0].org_unit_id == town["org"].id
    photo = Photo.get(Photo.kind == "visit", Photo.record_id == visit.id)
    assert photo.width == 800 and len(photo.sha256) == 64
    ent = Enterprise.get_by_id(ent.id)
    assert ent.stage == "contacted" and ent.last_contact_on == TODAY
    move = FoundingEvent.get(FoundingEvent.enterprise == ent.id, FoundingEvent.to_stage == "contacted")
    assert (move.record_kind, move.record_id, move.kind) == ("visit", visit.id, "forward")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "见到人事经理" in page and "法律咨询" in page and "刘小琴、寇玉杰" in page
    assert f'content="{key}"' in page  # tells the browser to drop the draft of this form


def test_stage_move_in_the_same_form(app, town):
    client = login_as(app.test_client(), town["staff"])
    resp, _ = new_visit(client, town["ent"], move_to="willing")
    assert resp.status_code == 302
    events = [(e.from_stage, e.to_stage) for e in FoundingEvent.select()
              .where(FoundingEvent.enterprise == town["ent"].id, FoundingEvent.kind != "initial")
              .order_by(FoundingEvent.id)]
    assert events == [("not_contacted", "contacted"), ("contacted", "willing")]


def test_a_move_that_needs_a_note_saves_nothing_without_it(app, town):
    client = login_as(app.test_client(), town["staff"])
    resp, _ = new_visit(client, town["ent"], move_to="preparing", summary="企业同意筹备")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "跨阶段推进需要填写说明" in html
    assert "企业同意筹备" in html  # what was typed stays
    assert Visit.select().count() == 0 and Need.select().count() == 0
    assert Enterprise.get_by_id(town["ent"].id).stage == "not_contacted"


@pytest.mark.parametrize("changes, message", [
    ({"visited_on": (TODAY + timedelta(days=1)).isoformat()}, "日期不能晚于今天"),
    ({"visited_on": "2026-13-45"}, "日期格式不正确"),
    ({"summary": "   "}, "请填写内容摘要"),
    ({"next_step_on": (TODAY - timedelta(days=400)).isoformat(), "visited_on": TODAY.isoformat()},
     "下一步日期不能早于走访日期"),
])
def test_validation_messages_keep_the_form(app, town, changes, message):
    client = login_as(app.test_client(), town["staff"])
    resp, _ = new_visit(client, town["ent"], contacts_met="王经理", **changes)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert message in html
    assert 'value="王经理"' in html
    assert Visit.select().count() == 0


def test_a_text_file_named_jpg_is_refused_and_the_form_kept(app, town):
    client = login_as(app.test_client(), town["staff"])
    resp, key = new_visit(client, town["ent"], summary="带了宣传折页",
                          photos=[(io.BytesIO(b"just some notes, not a picture"), "notes.jpg"),
                                  (jpeg(color="blue"), "good.jpg")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "“notes.jpg”不是可用的图片：只能上传 JPEG、PNG 或 WebP 格式的照片" in html
    assert "带了宣传折页" in html and Visit.select().count() == 0
    # The good photo is kept, pending, and shown; saving the form gives it to the visit.
    pending = Photo.get(Photo.form_key == key)
    assert pending.kind is None and f"/photos/{pending.id}/thumb" in html
    token = csrf_token(client, f"/enterprises/{town['ent'].id}")
    resp = client.post(f"/enterprises/{town['ent'].id}/visits/new", content_type="multipart/form-data", data={
        "csrf_token": token, "form_key": key, "visited_on": TODAY.isoformat(), "kind": "door",
        "summary": "带了宣传折页", "visitor_ids": [str(town["staff"].id)], "move_to": ""})
    assert resp.status_code == 302
    visit = Visit.get(Visit.form_key == key)
    assert [p.id for p in Photo.select().where(Photo.kind == "visit", Photo.record_id == visit.id)] == [pending.id]


def test_a_12_mb_image_is_refused(app, town):
    client = login_as(app.test_client(), town["staff"])
    resp, _ = new_visit(client, town["ent"], visitor_ids=[str(town["staff"].id)], photos=(big_png(12), "big.png"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "超过 10 MB 的上限" in html and "“big.png”有 12." in html
    assert Visit.select().count() == 0 and Photo.select().count() == 0


def test_photos_are_turned_upright_and_lose_their_location(app, town):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif[0x8825] = {1: "N", 2: (39.0, 46.0, 0.0), 3: "E", 4: (116.0, 20.0, 0.0)}  # GPS
    client = login_as(app.test_client(), town["staff"])
    resp, key = new_visit(client, town["ent"], visitor_ids=[str(town["staff"].id)],
                          photos=(jpeg(size=(800, 600), exif=exif), "rotated.jpg"))
    assert resp.status_code == 302
    photo = Photo.get(Photo.form_key == key)
    assert (photo.width, photo.height) == (600, 800)
    body = client.get(f"/photos/{photo.id}").data
    served = Image.open(io.BytesIO(body))
    assert served.size == (600, 800) and not served.getexif()
    thumb = Image.open(io.BytesIO(client.get(f"/photos/{photo.id}/thumb").data))
    assert max(thumb.size) == 400
    assert b"rotated" not in body


def test_photos_are_served_only_in_scope(app, town, make):
    client = login_as(app.test_client(), town["staff"])
    resp, key = new_visit(client, town["ent"], visitor_ids=[str(town["staff"].id)], photos=(jpeg(), "a.jpg"))
    photo = Photo.get(Photo.form_key == key)
    assert client.get(f"/photos/{photo.id}").status_code == 200
    other = make.user("staff", org=make.org("乙镇总工会"))
    outsider = login_as(app.test_client(), other)
    assert outsider.get(f"/photos/{photo.id}").status_code == 404
    assert outsider.get(f"/photos/{photo.id}/thumb").status_code == 404
    assert app.test_client().get(f"/photos/{photo.id}").status_code == 302  # to the login page
    # Stored under the upload dir with a random name, not the uploaded one.
    files = list(Path(app.config["UPLOAD_DIR"]).rglob("*.jpg"))
    assert len(files) == 2 and all(re.fullmatch(r"[0-9a-f]{32}(_t)?\.jpg", f.name) for f in files)


def test_one_key_posted_five_times_three_at_once_makes_one_visit(app, town):
    client = login_as(app.test_client(), town["staff"])
    path = f"/enterprises/{town['ent'].id}/visits/new"
    token, key, _ = form_keys(client, path)
    data = {"csrf_token": token, "form_key": key, "visited_on": TODAY.isoformat(), "kind": "door",
            "summary": "重发测试", "visitor_ids": [str(town["staff"].id)], "move_to": "",
            "need_categories": ["legal"]}
    statuses = []

    def post():
        c = login_as(app.test_client(), town["staff"])
        with c.session_transaction() as sess:  # the same session as the page that holds the token
            with client.session_transaction() as src:
                sess.update(dict(src))
        statuses.append(c.post(path, data=data).status_code)

    threads = [threading.Thread(target=post) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    post()
    post()
    assert statuses == [302] * 5
    assert Visit.select().where(Visit.form_key == key).count() == 1
    assert Visit.select().count() == 1
    assert Need.select().count() == 1
    assert FoundingEvent.select().where(FoundingEvent.to_stage == "contacted").count() == 1


def test_edit_is_versioned_and_a_stale_edit_is_refused(app, town):
    client = login_as(app.test_client(), town["staff"])
    _, key = new_visit(client, town["ent"], visitor_ids=[str(town["staff"].id)])
    visit = Visit.get(Visit.form_key == key)
    path = f"/visits/{visit.id}/edit"
    token, edit_key, version = form_keys(client, path)
    assert version == "1"
    earlier = TODAY - timedelta(days=100)  # a quarter ago, whatever the day
    base = {"csrf_token": token, "form_key": edit_key, "version": "1", "visited_on": earlier.isoformat(),
            "kind": "phone", "summary": "电话回访，企业同意下周再谈", "visitor_ids": [str(town["staff"].id)]}
    assert client.post(path, data=base).status_code == 302
    visit = Visit.get_by_id(visit.id)
    assert visit.version == 2 and visit.kind == "phone"
    # the file's last visit moves with the date: not visited this quarter any more
    assert Enterprise.get_by_id(town["ent"].id).last_visit_on == earlier
    assert "京东物流大兴站" in client.get("/enterprises/?visit_q=none").get_data(as_text=True)
    changes = {c.field: (c.old_value, c.new_value) for c in RecordChange.select().where(
        RecordChange.kind == "visit", RecordChange.record_id == visit.id)}
    assert changes["内容摘要"] == ("见到人事经理，介绍建会流程", "电话回访，企业同意下周再谈")
    assert changes["走访方式"] == ("上门走访", "电话")
    # A second page still on version 1 is refused with both versions shown.
    stale = dict(base, summary="另一个人的修改", form_key=edit_key + "x")
    resp = client.post(path, data=stale)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "另一个人的修改" in html and "电话回访，企业同意下周再谈" in html
    assert Visit.get_by_id(visit.id).summary == "电话回访，企业同意下周再谈"
    shown = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "修改记录" in shown and "第 2 版" in shown


def test_archive_needs_a_reason_recomputes_contact_and_restores(app, town):
    client = login_as(app.test_client(), town["staff"])
    old = (TODAY - timedelta(days=30)).isoformat()
    _, first = new_visit(client, town["ent"], visited_on=old, visitor_ids=[str(town["staff"].id)])
    _, second = new_visit(client, town["ent"], visitor_ids=[str(town["staff"].id)])
    visit = Visit.get(Visit.form_key == second)
    assert Enterprise.get_by_id(town["ent"].id).last_contact_on == TODAY
    assert Enterprise.get_by_id(town["ent"].id).last_visit_on == TODAY
    token = csrf_token(client, f"/visits/{visit.id}")
    client.post(f"/visits/{visit.id}/archive", data={"csrf_token": token, "reason": ""})
    assert not Visit.get_by_id(visit.id).archived
    client.post(f"/visits/{visit.id}/archive", data={"csrf_token": token, "reason": "重复录入"})
    assert Visit.get_by_id(visit.id).archived
    assert Enterprise.get_by_id(town["ent"].id).last_contact_on == date.fromisoformat(old)
    assert Enterprise.get_by_id(town["ent"].id).last_visit_on == date.fromisoformat(old)
    assert client.get(f"/visits/{visit.id}").status_code == 200  # still readable
    assert "重复录入" in client.get(f"/visits/{visit.id}").get_data(as_text=True)
    client.post(f"/visits/{visit.id}/restore", data={"csrf_token": token})
    assert not Visit.get_by_id(visit.id).archived
    assert Enterprise.get_by_id(town["ent"].id).last_contact_on == TODAY
    assert Enterprise.get_by_id(town["ent"].id).last_visit_on == TODAY


def test_scoping_and_roles(app, town, make):
    client = login_as(app.test_client(), town["staff"])
    _, key = new_visit(client, town["ent"], visitor_ids=[str(town["staff"].id)])
    visit = Visit.get(Visit.form_key == key)
    outsider = login_as(app.test_client(), make.user("supervisor", org=make.org("乙镇总工会")))
    for path in (f"/visits/{visit.id}", f"/visits/{visit.id}/edit", f"/enterprises/{town['ent'].id}/visits/new"):
        assert outsider.get(path).status_code == 404, path
    assert "京东物流大兴站" not in outsider.get("/visits/").get_data(as_text=True)
    viewer = login_as(app.test_client(), town["viewer"])
    assert viewer.get(f"/visits/{visit.id}").status_code == 200
    assert viewer.get(f"/enterprises/{town['ent'].id}/visits/new").status_code == 403
    token = csrf_token(viewer, "/")
    assert viewer.post(f"/visits/{visit.id}/archive", data={"csrf_token": token, "reason": "x"}).status_code == 403
    assert "修改</a>" not in viewer.get(f"/visits/{visit.id}").get_data(as_text=True)


def test_supervisors_comment_staff_cannot(app, town):
    staff = login_as(app.test_client(), town["staff"])
    _, key = new_visit(staff, town["ent"], visitor_ids=[str(town["staff"].id)])
    visit = Visit.get(Visit.form_key == key)
    token = csrf_token(staff, f"/visits/{visit.id}")
    assert staff.post(f"/visits/{visit.id}/comments", data={"csrf_token": token, "text": "我来点评"}).status_code == 403
    boss = login_as(app.test_client(), town["supervisor"])
    token = csrf_token(boss, f"/visits/{visit.id}")
    assert boss.post(f"/visits/{visit.id}/comments", data={"csrf_token": token, "text": "下次带上建会指南"}).status_code == 302
    assert VisitComment.get().text == "下次带上建会指南"
    assert "下次带上建会指南" in staff.get(f"/visits/{visit.id}").get_data(as_text=True)


def test_ledger_filters_and_export_has_exactly_the_filtered_rows(app, town, make):
    client = login_as(app.test_client(), town["staff"])
    other = make.enterprise(org=town["org"], name="顺丰速运")
    new_visit(client, town["ent"], kind="door", visited_on=(TODAY - timedelta(days=3)).isoformat(),
              visitor_ids=[str(town["staff"].id)])
    new_visit(client, other, kind="phone", summary="电话联系", visitor_ids=[str(town["supervisor"].id)])
    new_visit(client, other, kind="door", summary="再次上门", visited_on=(TODAY - timedelta(days=40)).isoformat(),
              visitor_ids=[str(town["staff"].id)])
    html = client.get("/visits/?kind=door").get_data(as_text=True)
    assert "再次上门" in html and "电话联系" not in html
    html = client.get(f"/visits/?staff={town['supervisor'].id}").get_data(as_text=True)
    assert "电话联系" in html and "再次上门" not in html
    since = (TODAY - timedelta(days=10)).isoformat()
    resp = client.get(f"/visits/export.xlsx?kind=door&date_from={since}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("走访日期", "时间", "企业名称", "所属工会")
    assert [r[2] for r in rows[1:]] == ["京东物流大兴站"]
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["C"].width == 36
    bad = client.get("/visits/?date_from=2026-99-01").get_data(as_text=True)
    assert "日期格式应为" in bad


def test_timeline_shows_visits_needs_moves_and_edits_newest_first(app, town):
    client = login_as(app.test_client(), town["staff"])
    ent = town["ent"]
    new_visit(client, ent, visited_on=(TODAY - timedelta(days=5)).isoformat(), summary="第一次上门",
              need_categories=["legal"], visitor_ids=[str(town["staff"].id)])
    with app.app_context():
        from crm.enterprises.services import update_enterprise
        update_enterprise(ent.id, {"employees": 120}, town["staff"], Enterprise.get_by_id(ent.id).version)
    page = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    tl = page[page.index('id="timeline"'):]
    for text in ("第一次上门", "法律咨询", "未接触 → 已走访宣传", "修改：职工人数", "建档"):
        assert text in tl, text
    assert tl.index("修改：职工人数") < tl.index("第一次上门")  # today's edit before the visit 5 days ago
    # 25 more visits: the timeline pages by 20.
    for i in range(25):
        new_visit(client, ent, summary=f"回访{i}", visitor_ids=[str(town["staff"].id)])
    first = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    second = client.get(f"/enterprises/{ent.id}?tl_page=2").get_data(as_text=True)
    assert "回访24" in first and "1 / 2" in first and "第一次上门" in second


def test_needs_are_worked_until_resolved(app, town):
    client = login_as(app.test_client(), town["staff"])
    new_visit(client, town["ent"], need_categories=["hardship"], need_detail="职工家属重病",
              visitor_ids=[str(town["staff"].id)])
    need = Need.get()
    assert "职工家属重病" in client.get(f"/enterprises/{town['ent'].id}").get_data(as_text=True)
    assert "职工家属重病" in client.get("/needs/").get_data(as_text=True)
    token, key, version = form_keys(client, f"/needs/{need.id}")
    resp = client.post(f"/needs/{need.id}", data={"csrf_token": token, "form_key": key, "version": version,
                                                  "status": "resolved", "category": "hardship",
                                                  "detail": "职工家属重病", "resolution": ""})
    assert "标记为已解决时请填写解决情况" in resp.get_data(as_text=True)
    resp = client.post(f"/needs/{need.id}", data={"csrf_token": token, "form_key": key, "version": version,
                                                  "status": "resolved", "category": "hardship",
                                                  "detail": "职工家属重病", "resolution": "申请了困难职工帮扶金"})
    assert resp.status_code == 302
    need = Need.get_by_id(need.id)
    assert need.status == "resolved" and need.resolved_on == TODAY and need.version == 2
    assert "职工家属重病" not in client.get("/needs/").get_data(as_text=True)  # the default list is open needs
    assert "职工家属重病" in client.get("/needs/?status=resolved").get_data(as_text=True)
    page = client.get(f"/enterprises/{town['ent'].id}").get_data(as_text=True)
    assert "没有待解决的需求意见" in page


def test_staff_home_shows_recent_field_work_and_buttons(app, town):
    client = login_as(app.test_client(), town["staff"])
    new_visit(client, town["ent"], visitor_ids=[str(town["staff"].id)])
    html = client.get("/").get_data(as_text=True)
    assert "我最近的外勤" in html and "京东物流大兴站（上门走访）" in html and "记录走访" in html


def test_list_filter_by_last_contact(app, town, make):
    client = login_as(app.test_client(), town["staff"])
    stale = make.enterprise(org=town["org"], name="半年前走访过的店")
    new_visit(client, stale, visited_on=(TODAY - timedelta(days=120)).isoformat())
    new_visit(client, town["ent"])
    never = make.enterprise(org=town["org"], name="从没去过的店")

    def names(query):
        html = client.get("/enterprises/?" + query).get_data(as_text=True)
        return {n for n in ("半年前走访过的店", "从没去过的店", "京东物流大兴站") if n in html}

    assert names("contact=never") == {"从没去过的店"}
    assert names("contact=90") == {"从没去过的店", "半年前走访过的店"}
    assert names("contact=365") == {"从没去过的店"}
    assert never.last_contact_on is None


def test_a_need_is_archived_with_a_reason_and_restored(app, town, make):
    client = login_as(app.test_client(), town["staff"])
    new_visit(client, town["ent"], need_categories=["policy"], need_detail="重复录入的需求")
    need = Need.get()
    token = csrf_token(client, f"/needs/{need.id}")
    client.post(f"/needs/{need.id}/archive", data={"csrf_token": token, "reason": ""})
    assert not Need.get_by_id(need.id).archived
    client.post(f"/needs/{need.id}/archive", data={"csrf_token": token, "reason": "重复录入"})
    assert Need.get_by_id(need.id).archived
    assert "重复录入的需求" not in client.get(f"/enterprises/{town['ent'].id}").get_data(as_text=True)
    assert "重复录入的需求" in client.get("/needs/?archived=1").get_data(as_text=True)
    outsider = login_as(app.test_client(), make.user("staff", org=make.org("乙镇总工会")))
    assert outsider.get(f"/needs/{need.id}").status_code == 404
    client.post(f"/needs/{need.id}/restore", data={"csrf_token": token})
    assert not Need.get_by_id(need.id).archived


def test_visits_carry_their_firms_unit_and_move_with_it(app, town, make):
    """The ledgers and scoping read the visit's copy of its firm's unit: it is set when the visit is
    saved (by the form, or by any direct save) and follows the firm to another unit."""
    from crm.enterprises.services import update_enterprise
    client = login_as(app.test_client(), town["staff"])
    _, key = new_visit(client, town["ent"], summary="搬迁前的走访", visitor_ids=[str(town["staff"].id)])
    visit = Visit.get(Visit.form_key == key)
    assert visit.org_unit_id == town["org"].id
    direct = Visit.create(enterprise=town["ent"], visited_on=TODAY, kind="phone", summary="直接保存")
    assert Visit.get_by_id(direct.id).org_unit_id == town["org"].id
    other_org = make.org("乙镇总工会")
    other_staff = make.user("staff", org=other_org)
    other = login_as(app.test_client(), other_staff)
    assert other.get(f"/visits/{visit.id}").status_code == 404
    assert "搬迁前的走访" not in other.get("/visits/").get_data(as_text=True)
    with app.app_context():
        update_enterprise(town["ent"].id, {"org_unit": other_org.id}, make.user("admin"),
                          Enterprise.get_by_id(town["ent"].id).version)
    assert {v.org_unit_id for v in Visit.select()} == {other_org.id}
    assert other.get(f"/visits/{visit.id}").status_code == 200
    assert "搬迁前的走访" in other.get("/visits/").get_data(as_text=True)
    assert "搬迁前的走访" in other.get(f"/visits/?org={other_org.id}").get_data(as_text=True)
    assert client.get(f"/visits/{visit.id}").status_code == 404
    assert "搬迁前的走访" not in client.get("/visits/").get_data(as_text=True)
    admin = login_as(app.test_client(), make.user("admin"))
    assert "搬迁前的走访" not in admin.get(f"/visits/?org={town['org'].id}").get_data(as_text=True)
    # A visit logged after the move is filed under the new unit, its need too.
    _, key = new_visit(other, town["ent"], summary="搬迁后的走访", need_categories=["legal"],
                       visitor_ids=[str(other_staff.id)])
    after = Visit.get(Visit.form_key == key)
    assert after.org_unit_id == other_org.id
    assert Need.get(Need.visit == after.id).org_unit_id == other_org.id


@pytest.mark.skipif(bool(BASE_PG_URL), reason="SQLite query plans")
@pytest.mark.parametrize("who, query, index", [
    ("admin", "org={org}", "visit_org_unit_id_archived_visited_on_id"),
    ("admin", "org={org}&page=1000", "visit_org_unit_id_archived_visited_on_id"),
    ("staff", "", "visit_org_unit_id_archived_visited_on_id"),
    ("admin", "", "visit_visited_on_id_archived"),
    ("admin", "page=1000", "visit_visited_on_id_archived"),
])
def test_a_ledger_page_picks_its_ids_from_one_index(app, town, make, who, query, index):
    """The visits of a unit (or of the district), newest first, are read from one covering index
    without touching the visits' rows or their enterprises: deep pages skip index entries only."""
    from tests.test_enterprise_list_scale import statements
    from crm.db import db
    user = town["staff"] if who == "staff" else make.user("admin")
    client = login_as(app.test_client(), user)
    new_visit(client, town["ent"], visitor_ids=[str(town["staff"].id)])
    with statements() as seen:
        assert client.get("/visits/?" + query.format(org=town["org"].id)).status_code == 200
    sql, params = next((s, p) for s, p in seen if s.startswith('SELECT "t1"."id" FROM "visit"'))
    plan = " | ".join(r[3] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    assert f"COVERING INDEX {index}" in plan and "enterprise" not in sql, (sql, plan)


@pytest.mark.parametrize("who, query", [("staff", ""), ("admin", "org={org}"), ("staff", "org={org}")])
def test_a_ledger_page_names_its_units_as_values(app, town, make, who, query):
    """The units are looked up first and written into the page's query as values, so PostgreSQL
    plans with the actual units (a small unit's visits by their index, not a walk of the district's
    visits by date looking for them)."""
    from tests.test_enterprise_list_scale import statements
    user = town["staff"] if who == "staff" else make.user("admin")
    below = make.org("甲镇总工会服务站", kind="station", parent=town["org"])
    client = login_as(app.test_client(), user)
    new_visit(client, town["ent"], summary="本镇的走访", visitor_ids=[str(town["staff"].id)])
    with statements() as seen:
        html = client.get("/visits/?" + query.format(org=town["org"].id)).get_data(as_text=True)
    assert "本镇的走访" in html
    sql, params = next((s, p) for s, p in seen if s.startswith('SELECT "t1"."id" FROM "visit"'))
    assert "org_unit" not in sql.replace('"org_unit_id"', "") and town["org"].id in params and below.id in params
