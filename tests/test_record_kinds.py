"""The contract every kind of field-work record keeps, checked once for each kind registered in
crm.fieldwork.registry, through the pages as a browser uses them: a form key saves one record
however often it is sent; an edit made on an old version is a 409 that overwrites nothing;
archive needs a reason and restore brings it back; a record outside the user's scope is a 404; a
viewer reads and writes nothing; the ledger lists it, filters it out by date, and its workbook
holds it."""
import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest
from openpyxl import load_workbook

from crm.common.timeutil import local_today
from crm.fieldwork import registry
from tests.conftest import csrf_token, login_as
from tests.fieldwork_helpers import page_form, post_forms, posted

TODAY = local_today()


@dataclass
class Case:
    kind: str
    new_path: Callable      # (world) -> the creating form's page
    typed: Callable         # (world, marker) -> what a user types into it
    marker: str             # the text field an edit changes
    ledger: str             # the ledger's path
    day_field: str          # the record's date
    record_of: Callable = None  # (record made) -> the record of this kind (a need: its visit's)
    edit_path: Callable = None  # (record) -> the edit form's page (default: <record page>/edit)

    @property
    def model(self):
        return registry.get(self.kind).model


def _visit(world, marker):
    return {"visited_on": TODAY.isoformat(), "visit_time": "10:30", "kind": "door", "purposes": ["founding"],
            "summary": marker, "visitor_ids": [str(world["staff"].id)], "move_to": ""}


CASES = [
    Case("visit", lambda w: f"/enterprises/{w['ent'].id}/visits/new", _visit, "summary", "/visits/", "visited_on"),
    Case("meeting", lambda w: f"/meetings/new?ent={w['ent'].id}",
         lambda w, m: {"kind": "enterprise", "level": "routine", "format": "face", "held_on": TODAY.isoformat(),
                       "venue": "镇政府会议室", "attendees": "10", "summary": m,
                       "enterprise_ids": [str(w["ent"].id)]},
         "summary", "/meetings/", "held_on"),
    Case("training", lambda w: f"/trainings/new?ent={w['ent'].id}",
         lambda w, m: {"title": m, "held_on": TODAY.isoformat(), "category": "safety", "hours": "2",
                       "participants": "20", "summary": "安全生产培训"},
         "title", "/trainings/", "held_on"),
    Case("activity", lambda w: f"/activities/new?ent={w['ent'].id}",
         lambda w, m: {"title": m, "held_on": TODAY.isoformat(), "services": ["legal"], "place": "服务站",
                       "participants": "12", "new_members": "2"},
         "title", "/activities/", "held_on"),
    # A need is raised by the visit that records it; it is handled (edited) on its own page.
    Case("need", lambda w: f"/enterprises/{w['ent'].id}/visits/new",
         lambda w, m: {**_visit(w, "走访了解需求"), "need_categories": ["legal"], "need_detail": m},
         "detail", "/needs/", "raised_on",
         record_of=lambda visit: visit.needs.get(),
         edit_path=lambda need: f"/needs/{need.id}"),
]


@pytest.fixture
def world(make):
    mine, theirs = make.org("甲镇总工会"), make.org("乙镇总工会")
    return {"unit": mine, "staff": make.user("staff", org=mine, name="甲镇干部"),
            "viewer": make.user("viewer", org=mine), "outsider": make.user("staff", org=theirs),
            "ent": make.enterprise(org=mine, name="甲镇第一电子有限公司")}


def _send(client, path, fields, typed, files=None):
    data = posted(fields, typed)
    return client.post(path, data=data, content_type="multipart/form-data")


def _create(case, client, world, marker="第一次记录的内容"):
    """Open the creating form, type, save: (response, the form's fields as sent, the record)."""
    path = case.new_path(world)
    fields = page_form(client.get(path).get_data(as_text=True))
    resp = _send(client, path.split("?")[0] if "/visits/" in path else path, fields, case.typed(world, marker))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    record = _latest(case)
    return resp, fields, record


def _latest(case):
    if case.record_of is not None:
        visit = registry.get("visit").model.select().order_by(registry.get("visit").model.id.desc()).first()
        return case.record_of(visit)
    return case.model.select().order_by(case.model.id.desc()).first()


def _record_path(case, record):
    return case.edit_path(record) if case.kind == "need" else f"{case.ledger.rstrip('/')}/{record.id}"


def _edit_form(case, client, record):
    path = case.edit_path(record) if case.edit_path else _record_path(case, record) + "/edit"
    html = client.get(path).get_data(as_text=True)
    forms = [f for _, f in post_forms(html) if any(n == "version" for n, _ in f)]
    assert forms, f"an edit form with a version on {path}"
    return path, forms[0]


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_a_form_key_saves_one_record(app, world, case):
    client = login_as(app.test_client(), world["staff"])
    resp, fields, record = _create(case, client, world)
    before = case.model.select().count()
    path = case.new_path(world)
    again = _send(client, path.split("?")[0] if "/visits/" in path else path, fields,
                  case.typed(world, "第一次记录的内容"))
    assert again.status_code == 302 and again.headers["Location"] == resp.headers["Location"]
    assert case.model.select().count() == before == 1


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_an_edit_on_an_old_version_is_a_conflict(app, world, case):
    client = login_as(app.test_client(), world["staff"])
    _, _, record = _create(case, client, world)
    path, fields = _edit_form(case, client, record)
    first = _send(client, path, fields, {case.marker: "第一人的修改"})
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    second = _send(client, path, fields, {case.marker: "第二人的修改"})
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "第一人的修改" in html and "第二人的修改" in html
    current = case.model.get_by_id(record.id)
    assert getattr(current, case.marker) == "第一人的修改" and current.version == record.version + 1


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_archive_needs_a_reason_and_restore_brings_it_back(app, world, case):
    client = login_as(app.test_client(), world["staff"])
    _, _, record = _create(case, client, world)
    page = _record_path(case, record)
    token = csrf_token(client, page)
    client.post(page + "/archive", data={"reason": "", "csrf_token": token})
    assert not case.model.get_by_id(record.id).archived
    client.post(page + "/archive", data={"reason": "重复录入", "csrf_token": token})
    assert case.model.get_by_id(record.id).archived
    assert f'href="{page}"' not in client.get(case.ledger).get_data(as_text=True)
    client.post(page + "/restore", data={"csrf_token": token})
    assert not case.model.get_by_id(record.id).archived


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_out_of_scope_is_404_and_a_viewer_writes_nothing(app, world, case):
    _, _, record = _create(case, login_as(app.test_client(), world["staff"]), world)
    page = _record_path(case, record)
    outsider = login_as(app.test_client(), world["outsider"])
    assert outsider.get(page).status_code == 404
    token = csrf_token(outsider, case.ledger)
    assert outsider.post(page + "/archive", data={"reason": "x", "csrf_token": token}).status_code == 404
    viewer = login_as(app.test_client(), world["viewer"])
    assert viewer.get(page).status_code == 200
    token = csrf_token(viewer, case.ledger)
    assert viewer.post(page + "/archive", data={"reason": "x", "csrf_token": token}).status_code == 403
    edit = case.edit_path(record) if case.edit_path else page + "/edit"
    assert viewer.post(edit, data={case.marker: "领导改的", "version": "1", "csrf_token": token}).status_code == 403
    current = case.model.get_by_id(record.id)
    assert not current.archived and current.version == record.version


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_the_ledger_filters_by_date_and_exports_the_record(app, world, case):
    client = login_as(app.test_client(), world["staff"])
    _, _, record = _create(case, client, world)
    page = _record_path(case, record)
    assert f'href="{page}"' in client.get(case.ledger + "?status=").get_data(as_text=True)
    later = (TODAY + timedelta(days=1)).isoformat()
    assert f'href="{page}"' not in client.get(f"{case.ledger}?status=&date_from={later}").get_data(as_text=True)
    book = load_workbook(io.BytesIO(client.get(case.ledger + "export.xlsx?status=").data))
    cells = {str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None}
    assert any("第一次记录的内容" in c for c in cells)
    empty = load_workbook(io.BytesIO(client.get(f"{case.ledger}export.xlsx?status=&date_from={later}").data))
    assert not any("第一次记录的内容" in str(c.value) for row in empty.active.iter_rows() for c in row if c.value)


def test_every_registered_kind_with_a_ledger_is_checked():
    """A new kind of record is held to the contract as soon as it registers (points are checked
    with the meetings they belong to)."""
    assert {k for k in registry.KINDS} - {"point"} == {c.kind for c in CASES}


def test_the_factories_build_every_kind_through_its_service(make):
    """The `make` factory's records are what the forms would have saved (their history, links,
    contact dates)."""
    unit = make.org("丙镇总工会")
    staff = make.user("staff", org=unit)
    ent = make.enterprise(org=unit, user=staff)
    visit, need = make.visit(ent, staff), make.need(ent, staff, detail="法律咨询")
    meeting, training = make.meeting(staff, [ent]), make.training(staff, [ent])
    activity, task = make.activity(staff, [ent]), make.followup(staff, ent)
    assert visit.enterprise_id == ent.id and need.detail == "法律咨询" and need.enterprise_id == ent.id
    assert [r.enterprise_id for r in meeting.enterprise_rows] == [ent.id]
    assert [r.enterprise_id for r in training.enterprise_rows] == [ent.id] == [r.enterprise_id for r in activity.enterprise_rows]
    assert task.is_open and task.assignee_id == staff.id
    assert type(ent).get_by_id(ent.id).last_contact_on == local_today()  # the visit and the meeting count
