"""服务活动: recording (also from an outreach point) with served enterprises, editing with history
and version checks, archiving, scoping and roles, validation, idempotent saves, the ledger
filters (service, target group, dates) and its Excel export."""
import io
import logging
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from crm.activities.models import ActivityEnterprise, ServiceActivity
from crm.common.timeutil import local_today
from crm.enterprises.models import Enterprise
from crm.fieldwork.models import RecordChange
from crm.meetings.models import OutreachPoint
from tests.conftest import csrf_token, login_as

HEADERS = ["日期", "活动名称", "服务内容", "地点", "固定点位", "组织单位", "面向群体", "合作单位", "服务人数",
           "新入会人数", "服务企业", "内容摘要", "记录人"]


@pytest.fixture
def world(make):
    town_a, town_b = make.org("甲镇总工会"), make.org("乙镇总工会")
    point = OutreachPoint.create(name="环宇坊暖心驿站", address="瀛海镇环宇坊", org_unit=town_a,
                                 kind="warm_station", schedule="每周四上午", target_groups=",courier,rider,")
    their_point = OutreachPoint.create(name="乙镇快递点", org_unit=town_b, kind="express_station")
    return {
        "unit": town_a, "other_unit": town_b, "point": point, "their_point": their_point,
        "staff": make.user("staff", org=town_a, name="甲镇干部"),
        "viewer": make.user("viewer", org=town_a),
        "other": make.user("staff", org=town_b),
        "e1": make.enterprise(org=town_a, name="甲镇快递服务站有限公司"),
        "e2": make.enterprise(org=town_a, name="甲镇外卖配送有限公司"),
        "theirs": make.enterprise(org=town_b, name="乙镇保密企业有限公司"),
    }


def key(n=1):
    return f"test-activity-key-{n:04d}"


def fields(world, **over):
    data = {"title": "夏季骑手服务日", "held_on": local_today().isoformat(), "services": ["haircut", "cooling"],
            "point": str(world["point"].id), "place": "环宇坊北门", "org_unit": str(world["unit"].id),
            "target_groups": ["rider", "courier"], "partners": ["bank"], "participants": "60",
            "new_members": "12", "summary": "为骑手义务理发并发放清凉包。",
            "enterprise_ids": [str(world["e1"].id), str(world["e2"].id)], "form_key": key()}
    data.update(over)
    return data


def post(client, path, data, token_from=None):
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token}, content_type="multipart/form-data")


def create(client, world, **over):
    resp = post(client, "/activities/new", fields(world, **over))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return ServiceActivity.get(ServiceActivity.form_key == (over.get("form_key") or key()))


def test_create_with_two_served_enterprises(app, world):
    client = login_as(app.test_client(), world["staff"])
    activity = create(client, world)
    assert activity.services == ",haircut,cooling," and activity.target_groups == ",rider,courier,"
    assert activity.partners == ",bank," and activity.point_id == world["point"].id
    assert (activity.participants, activity.new_members, activity.place) == (60, 12, "环宇坊北门")
    served = [r.enterprise_id for r in ActivityEnterprise.select().where(ActivityEnterprise.activity == activity)
              .order_by(ActivityEnterprise.id)]
    assert served == [world["e1"].id, world["e2"].id]
    html = client.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "甲镇快递服务站有限公司" in html and "甲镇外卖配送有限公司" in html
    assert f'/enterprises/{world["e2"].id}' in html
    assert "义务理发、送清凉" in html and "外卖送餐员、快递员" in html and "环宇坊暖心驿站" in html
    # An activity is not a contact: no stage move, no last-contact date.
    ent = Enterprise.get_by_id(world["e1"].id)
    assert ent.stage == "not_contacted" and ent.last_contact_on is None


def test_new_form_from_an_outreach_point(app, world):
    client = login_as(app.test_client(), world["staff"])
    html = client.get(f"/activities/new?point={world['point'].id}&ent={world['e1'].id}").get_data(as_text=True)
    assert 'value="环宇坊暖心驿站"' in html  # the place
    assert f'<option selected value="{world["point"].id}">' in html
    assert 'value="courier" autocomplete="off" checked' in html and 'value="rider" autocomplete="off" checked' in html
    assert f'name="enterprise_ids" value="{world["e1"].id}"' in html
    assert f'data-draft="activity:point={world["point"].id}&amp;ent={world["e1"].id}:new"' in html
    assert local_today().isoformat() in html
    assert client.get(f"/activities/new?point={world['their_point'].id}").status_code == 404
    # The place defaults to the point's name when left blank.
    activity = create(client, world, place="", form_key=key(5))
    assert activity.place == "环宇坊暖心驿站"


def test_a_point_of_another_unit_is_refused(app, world):
    client = login_as(app.test_client(), world["staff"])
    resp = post(client, "/activities/new", fields(world, point=str(world["their_point"].id)))
    assert resp.status_code == 200 and ServiceActivity.select().count() == 0


def test_edit_bumps_version_and_records_changes(app, world):
    client = login_as(app.test_client(), world["staff"])
    activity = create(client, world)
    page = client.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert f'data-draft="activity:edit:{activity.id}"' in page and 'value="haircut" autocomplete="off" checked' in page
    resp = post(client, f"/activities/{activity.id}/edit",
                fields(world, services=["health_check"], new_members="20", enterprise_ids=[str(world["e1"].id)],
                       version="1", form_key=key(2)))
    assert resp.status_code == 302
    activity = ServiceActivity.get_by_id(activity.id)
    assert activity.version == 2 and activity.services == ",health_check," and activity.new_members == 20
    changes = {c.field: (c.old_value, c.new_value) for c in
               RecordChange.select().where(RecordChange.kind == "activity", RecordChange.record_id == activity.id)}
    assert changes["服务内容"] == ("义务理发、送清凉", "免费体检")
    assert changes["新入会人数（纸质登记）"] == ("12", "20")
    assert changes["服务企业"] == ("甲镇快递服务站有限公司、甲镇外卖配送有限公司", "甲镇快递服务站有限公司")
    assert "活动名称" not in changes
    assert "第 2 版" in client.get(f"/activities/{activity.id}").get_data(as_text=True)






TOMORROW = object()  # stands for the day after the test's today


@pytest.mark.parametrize("over, message", [
    ({"held_on": TOMORROW}, "日期不能晚于今天"),
    ({"participants": "-1", "new_members": "0"}, "请填写不小于 0 的整数"),
    ({"new_members": "-2"}, "请填写不小于 0 的整数"),
    ({"participants": "10", "new_members": "11"}, "纸质登记的新入会人数不能超过纸质登记的服务人数"),
    ({"title": ""}, "请填写活动名称"),
])
def test_validation_messages(app, world, over, message):
    if over.get("held_on") is TOMORROW:  # today's tomorrow, not the one of when the tests were collected
        over = {**over, "held_on": (local_today() + timedelta(days=1)).isoformat()}
    client = login_as(app.test_client(), world["staff"])
    resp = post(client, "/activities/new", fields(world, **over))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert message in html and "is-invalid" in html
    assert f'name="enterprise_ids" value="{world["e1"].id}"' in html
    assert ServiceActivity.select().count() == 0


def test_summary_is_optional(app, world):
    activity = create(login_as(app.test_client(), world["staff"]), world, summary="")
    assert activity.summary == ""


def test_out_of_scope_enterprise_is_refused(app, world):
    client = login_as(app.test_client(), world["staff"])
    resp = post(client, "/activities/new", fields(world, enterprise_ids=[str(world["theirs"].id)]))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "不在您管辖范围内" in html and "乙镇保密企业有限公司" not in html
    assert ServiceActivity.select().count() == 0 and ActivityEnterprise.select().count() == 0



@pytest.fixture
def ledger_world(app, world):
    client = login_as(app.test_client(), world["staff"])
    today = local_today()
    specs = [("理发活动甲", ["haircut"], ["rider"], today),
             ("体检活动乙", ["health_check"], ["courier"], today - timedelta(days=3)),
             ("理发活动丙", ["haircut", "reading"], ["courier", "truck"], today - timedelta(days=40))]
    for n, (title, services, groups, day) in enumerate(specs, start=10):
        create(client, world, title=title, services=services, target_groups=groups, held_on=day.isoformat(),
               form_key=key(n))
    return client, today


def test_ledger_filters_by_service_group_and_dates(ledger_world):
    client, today = ledger_world
    html = client.get("/activities/?kind=haircut").get_data(as_text=True)
    assert "理发活动甲" in html and "理发活动丙" in html and "体检活动乙" not in html
    html = client.get("/activities/?group=courier").get_data(as_text=True)
    assert "体检活动乙" in html and "理发活动丙" in html and "理发活动甲" not in html
    html = client.get("/activities/?kind=haircut&group=courier").get_data(as_text=True)
    assert "理发活动丙" in html and "理发活动甲" not in html and "体检活动乙" not in html
    start = (today - timedelta(days=7)).isoformat()
    html = client.get(f"/activities/?date_from={start}&date_to={today.isoformat()}").get_data(as_text=True)
    assert "理发活动甲" in html and "体检活动乙" in html and "理发活动丙" not in html


def test_export_has_exactly_the_filtered_rows(ledger_world, world):
    client, today = ledger_world
    resp = client.get("/activities/export.xlsx?kind=haircut&group=rider")
    assert resp.status_code == 200
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS and len(rows) == 2
    row = dict(zip(HEADERS, rows[1]))
    assert row["活动名称"] == "理发活动甲" and row["日期"] == today.isoformat()
    assert row["服务内容"] == "义务理发" and row["面向群体"] == "外卖送餐员" and row["合作单位"] == "银行"
    assert row["固定点位"] == "环宇坊暖心驿站" and row["组织单位"] == "甲镇总工会"
    assert (row["服务人数"], row["新入会人数"]) == (60, 12)
    assert row["服务企业"] == "甲镇快递服务站有限公司、甲镇外卖配送有限公司" and row["记录人"] == "甲镇干部"
    start = (today - timedelta(days=7)).isoformat()
    rows = list(load_workbook(io.BytesIO(client.get(f"/activities/export.xlsx?date_from={start}").data))
                .active.iter_rows(values_only=True))
    assert sorted(r[1] for r in rows[1:]) == ["体检活动乙", "理发活动甲"]


def _queries(client, path, caplog):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert client.get(path).status_code == 200
    return len([r for r in caplog.records if r.name == "peewee"])


def test_ledger_and_export_use_a_fixed_number_of_queries(ledger_world, world, caplog):
    client, today = ledger_world
    before = (_queries(client, "/activities/", caplog), _queries(client, "/activities/export.xlsx", caplog))
    for n in range(20, 26):
        create(client, world, title=f"加测活动{n}", form_key=key(n))
    after = (_queries(client, "/activities/", caplog), _queries(client, "/activities/export.xlsx", caplog))
    assert before == after and min(before) > 2, (before, after)
