"""Rules every field-work record keeps: names of files outside the reader's scope stay hidden,
exports never hold live formulas, removed photos are gone, archived records are read-only and
take their needs with them, a re-sent form finds its record, odd input never makes a 500."""
import io
from datetime import timedelta

from openpyxl import load_workbook
from PIL import Image

from crm.common.timeutil import local_today
from crm.fieldwork.models import RecordChange
from crm.meetings.models import MeetingEnterprise
from crm.needs.models import Need
from crm.photos.models import Photo
from crm.visits.models import Visit
from tests.conftest import csrf_token, login_as
from tests.fieldwork_helpers import form_keys, jpeg
from tests.test_visits import new_visit

TODAY = local_today()


def _meeting_with_firms(make, unit, firms, user):
    from crm.meetings.services import create_meeting
    data = {"kind": "enterprise", "level": "district", "format": "collective", "org_unit": unit.id,
            "held_on": TODAY, "summary": "区级企业沟通会", "enterprise_ids": [f.id for f in firms],
            "title": "跨镇企业沟通会"}
    meeting, _ = create_meeting(data, user, "rules-meeting-key-0001")
    return meeting


def test_names_of_files_outside_the_scope_stay_hidden(app, make):
    town_a, town_b = make.org("甲镇总工会"), make.org("乙镇总工会")
    admin = make.user("admin")
    mine, theirs = make.enterprise(org=town_a, name="甲镇可见企业"), make.enterprise(org=town_b, name="乙镇保密企业")
    with app.test_request_context():
        meeting = _meeting_with_firms(make, town_a, [mine, theirs], admin)
    staff = make.user("staff", org=town_a)
    client = login_as(app.test_client(), staff)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "甲镇可见企业" in page and "乙镇保密企业" not in page
    ws = load_workbook(io.BytesIO(client.get("/meetings/export.xlsx").data)).active
    assert "乙镇保密企业" not in str(list(ws.iter_rows(values_only=True)))
    # Editing keeps the participant the editor cannot see.
    token, key, version = form_keys(client, f"/meetings/{meeting.id}/edit")
    edit = client.get(f"/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert "乙镇保密企业" not in edit
    resp = client.post(f"/meetings/{meeting.id}/edit", data={
        "csrf_token": token, "form_key": key, "version": version, "kind": "enterprise", "level": "district",
        "format": "collective", "org_unit": str(town_a.id), "held_on": TODAY.isoformat(),
        "summary": "改了摘要", "enterprise_ids": [str(mine.id)], "attendees": "0"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    kept = {r.enterprise_id for r in MeetingEnterprise.select().where(MeetingEnterprise.meeting == meeting.id)}
    assert kept == {mine.id, theirs.id}
    # On 甲镇's file the meeting shows; 乙镇's staff sees on their file only that it happened.
    other = login_as(app.test_client(), make.user("staff", org=town_b))
    file_page = other.get(f"/enterprises/{theirs.id}").get_data(as_text=True)
    assert "企业沟通会（区级）" in file_page and "跨镇企业沟通会" not in file_page
    assert f"/meetings/{meeting.id}" not in file_page


def test_exports_hold_no_live_formulas(app, make):
    org = make.org("甲镇总工会")
    staff = make.user("staff", org=org)
    ent = make.enterprise(org=org, name="=HYPERLINK(\"http://evil.example\",\"点我\")")
    client = login_as(app.test_client(), staff)
    new_visit(client, ent, summary="=1+1", contacts_met="@SUM(A1)")
    ws = load_workbook(io.BytesIO(client.get("/visits/export.xlsx").data)).active
    row = [c for c in next(ws.iter_rows(min_row=2, max_row=2))]
    values = {c.value for c in row}
    assert "=1+1" in values and "@SUM(A1)" in values and ent.name in values
    assert all(c.data_type == "s" for c in row if isinstance(c.value, str) and c.value[:1] in "=@")


def test_removed_photos_are_not_served(app, make):
    org = make.org("甲镇总工会")
    staff = make.user("staff", org=org)
    client = login_as(app.test_client(), staff)
    resp, key = new_visit(client, make.enterprise(org=org), photos=(jpeg(), "a.jpg"))
    photo = Photo.get(Photo.form_key == key)
    assert client.get(f"/photos/{photo.id}").status_code == 200
    token = csrf_token(client, resp.headers["Location"])
    assert client.post(f"/photos/{photo.id}/remove", data={"csrf_token": token}).status_code == 302
    assert client.get(f"/photos/{photo.id}").status_code == 404
    assert client.get(f"/photos/{photo.id}/thumb").status_code == 404
    change = RecordChange.get(RecordChange.field == "照片")
    assert change.new_value == "（已移除）"


def test_archived_records_are_read_only_and_take_their_needs(app, make):
    org = make.org("甲镇总工会")
    staff = make.user("staff", org=org)
    client = login_as(app.test_client(), staff)
    ent = make.enterprise(org=org)
    _, key = new_visit(client, ent, need_categories=["legal"], need_detail="合同咨询")
    visit = Visit.get(Visit.form_key == key)
    token, edit_key, version = form_keys(client, f"/visits/{visit.id}/edit")
    client.post(f"/visits/{visit.id}/archive", data={"csrf_token": token, "reason": "重复录入"})
    assert Need.get().archived
    resp = client.post(f"/visits/{visit.id}/edit", data={
        "csrf_token": token, "form_key": edit_key, "version": str(Visit.get_by_id(visit.id).version),
        "visited_on": TODAY.isoformat(), "kind": "door", "summary": "归档后再改", "visitor_ids": [str(staff.id)]})
    assert "已归档，不能修改" in resp.get_data(as_text=True)
    assert Visit.get_by_id(visit.id).summary != "归档后再改"
    client.post(f"/visits/{visit.id}/restore", data={"csrf_token": token})
    assert not Need.get().archived


def test_a_resent_visit_that_moved_the_stage_lands_on_its_record(app, make):
    org = make.org("甲镇总工会")
    staff = make.user("staff", org=org)
    client = login_as(app.test_client(), staff)
    ent = make.enterprise(org=org)
    path = f"/enterprises/{ent.id}/visits/new"
    token, key, _ = form_keys(client, path)
    data = {"csrf_token": token, "form_key": key, "visited_on": TODAY.isoformat(), "kind": "door",
            "summary": "同意建会", "visitor_ids": [str(staff.id)], "move_to": "willing"}
    first = client.post(path, data=data)
    again = client.post(path, data=data)  # 有建会意向 is no longer offered: the key decides first
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert Visit.select().count() == 1


def test_photos_added_on_edit_are_a_new_version(app, make):
    org = make.org("甲镇总工会")
    staff = make.user("staff", org=org)
    client = login_as(app.test_client(), staff)
    _, key = new_visit(client, make.enterprise(org=org))
    visit = Visit.get(Visit.form_key == key)
    token, edit_key, version = form_keys(client, f"/visits/{visit.id}/edit")
    resp = client.post(f"/visits/{visit.id}/edit", content_type="multipart/form-data", data={
        "csrf_token": token, "form_key": edit_key, "version": version, "visited_on": visit.visited_on.isoformat(),
        "visit_time": "10:30", "kind": "door", "purposes": ["founding"], "summary": visit.summary,
        "visitor_ids": [str(staff.id)], "photos": (jpeg(), "补拍.jpg")})
    assert resp.status_code == 302
    assert Visit.get_by_id(visit.id).version == 2
    assert RecordChange.get(RecordChange.field == "照片").new_value == "新增 1 张"


def test_odd_input_never_makes_a_500(app, make):
    org = make.org("甲镇总工会")
    staff = make.user("staff", org=org)
    client = login_as(app.test_client(), staff)
    ent = make.enterprise(org=org)
    # Half a location is no location.
    resp, key = new_visit(client, ent, latitude="39.9", longitude="999")
    visit = Visit.get(Visit.form_key == key)
    assert visit.latitude is None and visit.longitude is None
    assert client.get(f"/visits/{visit.id}").status_code == 200
    # Not-a-number hours.
    token, tkey, _ = form_keys(client, "/trainings/new")
    resp = client.post("/trainings/new", data={"csrf_token": token, "form_key": tkey, "title": "培训",
                                               "category": "quality", "held_on": TODAY.isoformat(),
                                               "org_unit": str(org.id), "hours": "sNaN", "summary": "x"})
    assert resp.status_code == 200 and "学时应为数字" in resp.get_data(as_text=True)
    # Query arguments named like url_for's own parameters.
    for path in ("/visits/?endpoint=x&page=1", "/meetings/?values=1", "/needs/?endpoint=x",
                 "/enterprises/?endpoint=x"):
        assert client.get(path).status_code == 200, path
    # A bad meeting date says so.
    token, mkey, _ = form_keys(client, "/meetings/new")
    resp = client.post("/meetings/new", data={"csrf_token": token, "form_key": mkey, "kind": "staff",
                                              "level": "routine", "format": "face", "org_unit": str(org.id),
                                              "held_on": "2026-13-45", "summary": "x"})
    assert "日期格式不正确" in resp.get_data(as_text=True)


def test_camera_mpo_accepted_and_eleven_photos_refused(app, make):
    org = make.org("甲镇总工会")
    staff = make.user("staff", org=org)
    client = login_as(app.test_client(), staff)
    ent = make.enterprise(org=org)
    mpo = io.BytesIO()
    Image.new("RGB", (640, 480), "green").save(mpo, "MPO", save_all=True,
                                                append_images=[Image.new("RGB", (640, 480), "blue")])
    mpo.seek(0)
    assert Image.open(io.BytesIO(mpo.getvalue())).format == "MPO"
    resp, key = new_visit(client, ent, photos=(mpo, "camera.jpg"))
    assert resp.status_code == 302 and Photo.get(Photo.form_key == key).kind == "visit"
    resp, _ = new_visit(client, ent, photos=[(jpeg(), f"{i}.jpg") for i in range(11)])
    assert "一次最多上传 10 张照片" in resp.get_data(as_text=True)
    assert Visit.select().count() == 1


def test_home_lists_only_work_in_scope(app, make):
    town_a, town_b = make.org("甲镇总工会"), make.org("乙镇总工会")
    staff = make.user("staff", org=town_a)
    client = login_as(app.test_client(), staff)
    ent = make.enterprise(org=town_a, name="后来划走的企业")
    new_visit(client, ent, visited_on=(TODAY - timedelta(days=1)).isoformat())
    assert "后来划走的企业" in client.get("/").get_data(as_text=True)
    from crm.enterprises.models import Enterprise
    from crm.enterprises.services import update_enterprise
    with app.app_context():  # moved to another town (its visits go with it)
        update_enterprise(ent.id, {"org_unit": town_b.id}, make.user("admin"), Enterprise.get_by_id(ent.id).version)
    assert "后来划走的企业" not in client.get("/").get_data(as_text=True)
