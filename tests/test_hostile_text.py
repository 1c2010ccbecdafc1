"""Text is cleaned at the boundary and every workbook stays valid XML whatever is in the database;
integers from outside are ids or nothing; personal data is never cached; messages are Chinese."""
import io
import zipfile
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from crm.common.numbers import arg_page, id_list, to_id, to_int
from crm.common.text import safe_text
from crm.common.timeutil import local_today
from crm.enterprises.models import Enterprise
from crm.org.models import OrgUnit
from crm.visits.models import Visit
from tests.conftest import login_as
from tests.fieldwork_helpers import page_form, posted

DIRTY = "控制\x00\x01\x1b[0m\x7f\x85字符\ufffe\uffff\U0010ffff补充平面😀\U00020000"
# What a database can already hold: PostgreSQL refuses NUL in text, SQLite keeps it.
STORED = DIRTY if not __import__("os").environ.get("CRM_TEST_DATABASE_URL") else DIRTY.replace("\x00", "")
EXPORTS = ["/enterprises/export.xlsx", "/visits/export.xlsx", "/meetings/export.xlsx", "/trainings/export.xlsx",
           "/activities/export.xlsx", "/needs/export.xlsx", "/followups/export.xlsx",
           "/meetings/points/export.xlsx", "/admin/users/export.xlsx", "/compliance/export.xlsx",
           "/dashboard/export.xlsx"] + [f"/followups/suggestions/export.xlsx?rule={rule}"
                                        for rule in ("never", "stale", "key", "stalled", "term", "need")]


def test_safe_text_keeps_what_people_type():
    assert safe_text(DIRTY) == "控制[0m字符补充平面😀\U00020000"
    assert safe_text("第一行\r\n第二行\t！", multiline=True) == "第一行\n第二行\t！"
    assert safe_text("一行\n两行") == "一行 两行"
    assert safe_text("\ud800孤") == "孤"  # a lone surrogate


def test_integers_from_outside():
    assert [to_id(v) for v in ("12", " 7 ", "0", "-3", "1e3", "1.0", "NaN", "9" * 25, "2147483647",
                               "2147483648", "１２", None, True)] == \
        [12, 7, None, None, None, None, None, None, 2147483647, None, None, None, None]
    assert to_int("-5") == -5 and to_int("2147483648", 0, 2 ** 31 - 1) is None
    assert id_list(["3", "x", "3", "99999999999999999999", "4"]) == [3, 4]
    assert arg_page({"page": "9" * 5000}) == 100_000 and arg_page({"page": "abc"}) == 1 and arg_page({}) == 1


def test_ids_out_of_range_are_not_found_and_filters_are_ignored(app, make):
    staff = make.user("staff")
    client = login_as(app.test_client(), staff)
    huge = "99999999999999999999"
    for path in (f"/visits/{huge}", f"/enterprises/{huge}", f"/enterprises/{huge}/visits/new",
                 f"/meetings/new?point={huge}", f"/meetings/new?ent={huge}", f"/followups/new?need={huge}"):
        assert client.get(path).status_code == 404, path
    for path in (f"/enterprises/?org={huge}&page={huge}", f"/visits/?org={huge}&staff={huge}",
                 f"/followups/?assignee={huge}&org={huge}", f"/enterprises/1?tl_page={huge}",
                 f"/activities/new?point=&ent={huge}", f"/trainings/new?ent={huge}"):
        assert client.get(path).status_code in (200, 404), path


def test_number_fields_say_in_chinese_what_is_wrong(app, make):
    staff = make.user("staff")
    client = login_as(app.test_client(), staff)
    path = "/enterprises/new"
    fields = page_form(client.get(path).get_data(as_text=True))
    html = client.post(path, data=posted(fields, {"name": "测试企业", "employees": "99999999999",
                                                  "new_form_workers": "1e309", "org_unit": "99999999999999999999"}),
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "数值太大，请检查" in html or "不能大于" in html
    assert "请填写整数" in html and "请选择所属工会" in html  # an id that is no id: no choice made
    assert "Not a valid" not in html and Enterprise.select().count() == 0


def test_a_visitor_outside_my_scope_gets_a_chinese_message(app, make):
    org = make.org("甲镇总工会")
    staff = make.user("staff", org=org)
    outsider = make.user("staff")
    ent = make.enterprise(org=org)
    client = login_as(app.test_client(), staff)
    path = f"/enterprises/{ent.id}/visits/new"
    fields = page_form(client.get(path).get_data(as_text=True))
    html = client.post(path, data=posted(fields, {"summary": "走访", "visitor_ids": [str(outsider.id)]}),
                       content_type="multipart/form-data").get_data(as_text=True)
    assert f"所选的“{outsider.id}”不是可选的选项" in html and "is not a valid choice" not in html


def test_forms_drop_control_characters_and_non_characters(app, make):
    admin = make.user("admin")
    client = login_as(app.test_client(), admin)
    org = make.org("乙镇总工会")
    staff = make.user("staff", org=org)
    ent = make.enterprise(org=org, name="原名")
    staff_client = login_as(app.test_client(), staff)
    path = f"/enterprises/{ent.id}/visits/new"
    fields = page_form(staff_client.get(path).get_data(as_text=True))
    assert staff_client.post(path, data=posted(fields, {"summary": "第一行\r\n" + DIRTY}),
                             content_type="multipart/form-data").status_code == 302
    assert Visit.get().summary == "第一行\n控制[0m字符补充平面😀\U00020000"
    # An admin form too: the unit's name.
    rename = f"/admin/org-units/{org.id}/rename"
    resp = client.get(rename)
    if resp.status_code == 200:
        fields = page_form(resp.get_data(as_text=True)) if "form_key" in resp.get_data(as_text=True) else None
    from tests.conftest import csrf_token
    token = csrf_token(client, "/admin/org-units")
    client.post(rename, data={"csrf_token": token, "name": "乙镇\x00总工会\ufffe"})
    assert OrgUnit.get_by_id(org.id).name == "乙镇总工会"


def _valid_xlsx(data: bytes, what: str):
    load_workbook(io.BytesIO(data))  # openpyxl reads it
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith(".xml") or name.endswith(".rels"):
                ElementTree.fromstring(z.read(name))  # every part is well-formed XML


def test_every_workbook_is_valid_whatever_the_database_holds(app, make):
    """Records written behind the forms' back (an old import, a script) with control characters,
    U+FFFE/U+FFFF and supplementary-plane characters: every export still opens."""
    from crm.activities import services as activities
    from crm.followups.services import Task, create
    from crm.meetings import services as meetings
    from crm.sync.services import new_form_key
    from crm.trainings import services as trainings
    from crm.visits import services as visits
    org = make.org("丙镇总工会")
    admin = make.user("admin")
    staff = make.user("staff", org=org)
    ent = make.enterprise(org=org, name="干净的名字")
    day = local_today() - timedelta(days=1)
    with app.app_context():
        visits.create_visit(ent, {"visited_on": day, "kind": "door", "summary": STORED, "purposes": [],
                                  "visitor_ids": [staff.id], "need_categories": ["legal"], "need_detail": STORED},
                            staff, new_form_key(), {staff.id})
        meetings.create_meeting({"kind": "staff", "level": "routine", "format": "face", "org_unit": org.id,
                                 "held_on": day, "summary": STORED, "venue": STORED, "attendees": 3,
                                 "enterprise_ids": [ent.id], "new_members": {}}, staff, new_form_key())
        trainings.create_training({"title": STORED, "category": "safety", "held_on": day, "org_unit": org.id,
                                   "summary": STORED, "enterprise_ids": [ent.id]}, staff, new_form_key())
        activities.create_activity({"title": STORED, "held_on": day, "org_unit": org.id, "summary": STORED,
                                    "place": STORED, "enterprise_ids": []}, staff, new_form_key())
        create(staff, Task(title="跟进", enterprise=ent, detail=STORED), staff, local_today(), "medium", new_form_key())
        meetings.create_point({"name": "点位", "kind": "supermarket", "org_unit": org.id}, staff, new_form_key())
    from crm.auth.models import User
    from crm.meetings.models import OutreachPoint
    OutreachPoint.update(name=STORED, address=STORED, schedule=STORED, notes=STORED).execute()
    User.update(name=STORED).where(User.id == staff.id).execute()
    Enterprise.update(is_key=True, union_term_end=local_today()).where(Enterprise.id == ent.id).execute()
    Enterprise.update(name=STORED, address=STORED).where(Enterprise.id == ent.id).execute()
    OrgUnit.update(name="丙镇\x01总工会\ufffe").where(OrgUnit.id == org.id).execute()
    client = login_as(app.test_client(), admin)
    month = local_today().strftime("%Y-%m")
    for path in EXPORTS + [f"/reports/monthly.xlsx?ym={month}", f"/reports/monthly.xlsx?ym={month}&org={org.id}",
                           f"/compliance/units/{org.id}/export.xlsx", f"/dashboard/export.xlsx?org={org.id}"]:
        resp = client.get(path)
        assert resp.status_code == 200, path
        _valid_xlsx(resp.data, path)


@pytest.mark.parametrize("path", ["/", "/enterprises/", "/enterprises/lookup?q=京东", "/enterprises/export.xlsx",
                                  "/visits/export.xlsx", "/sync/state"])
def test_personal_data_is_never_cached(app, make, path):
    client = login_as(app.test_client(), make.user("supervisor"))
    resp = client.get(path)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store", path


def test_static_files_may_be_cached(app):
    resp = app.test_client().get("/static/app.css")
    assert resp.headers.get("Cache-Control") != "no-store"


def test_a_number_of_hundreds_of_digits_is_refused_beside_its_field(app, make):
    """Every integer field: a number no column holds is refused with a message before any other
    check (a range check would compare it as a float, which overflows)."""
    from tests.conftest import login_as, post_form
    user = make.user("staff")
    client = login_as(app.test_client(), user)
    for path, field in (("/meetings/new", "attendees"), ("/meetings/new", "new_rider"), ("/trainings/new", "participants")):
        resp = post_form(client, path, {field: "9" * 400})
        assert resp.status_code in (200, 422) and "数值太大，请检查" in resp.get_data(as_text=True), path
