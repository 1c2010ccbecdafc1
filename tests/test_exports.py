"""导出 Excel beside every list: 固定点位, 待跟进建议, users, the 双沟通 grid and a unit's calendar, the
dashboard's tables. Each workbook opens with openpyxl and holds exactly the rows the page lists for
the same filters (all its pages), under Chinese headings, dates as dates and numbers as numbers;
a role without the right gets 403, a unit outside the scope 404, and rows outside the scope are
not in it; each export is in the audit log."""
import io
import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from crm.audit.models import AuditEvent
from crm.common import timeutil
from crm.enterprises.models import Enterprise
from crm.meetings.models import Meeting, OutreachPoint
from tests.conftest import login_as

TODAY = date(2026, 11, 24)


def workbook(resp, name_part):
    """{sheet title: [row values]} of a workbook answer, its header row first."""
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = unquote(resp.headers["Content-Disposition"].split("filename*=UTF-8''")[1])
    assert name_part in filename and filename.endswith(f"-{TODAY.isoformat()}.xlsx"), filename
    wb = load_workbook(io.BytesIO(resp.data))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def only_sheet(resp, name_part):
    sheets = workbook(resp, name_part)
    assert len(sheets) == 1
    return next(iter(sheets.values()))


@pytest.fixture
def world(make, monkeypatch):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    root = make.root()
    a = make.org("甲镇总工会", parent=root)
    station = make.org("甲镇服务站", "station", parent=a)
    b = make.org("乙镇总工会", parent=root)
    return {"root": root, "a": a, "station": station, "b": b,
            "admin": make.user("admin", org=root, username="admin", name="管理员"),
            "sup": make.user("supervisor", org=a, username="sup", name="主管甲"),
            "staff": make.user("staff", org=a, username="zhang", name="张三"),
            "viewer": make.user("viewer", org=a, username="lead", name="领导甲"),
            "other": make.user("staff", org=b, username="li", name="李四")}


def _exported(kind):
    return list(AuditEvent.select().where(AuditEvent.kind == kind).order_by(AuditEvent.id))


# ---- 固定点位 ----------------------------------------------------------------------------------

def _point(unit, name, user, **values):
    return OutreachPoint.create(name=name, org_unit=unit, kind=values.pop("kind", "supermarket"), created_by=user,
                                **values)


def _page_points(client, query=""):
    html = client.get("/meetings/points" + query).get_data(as_text=True)
    return re.findall(r'<h2 class="h5 mb-1"><a href="/meetings/points/\d+">([^<]+)</a></h2>', html)


def test_points_export_lists_what_the_page_lists(app, make, world):
    staff = world["staff"]
    mall = _point(world["a"], "甲镇商场", staff, kind="business_district", address="甲镇大街1号",
                  schedule="每周四上午", target_groups=",courier,rider,", notes="门口东侧")
    _point(world["station"], "服务站驿站", staff, kind="warm_station")
    _point(world["a"], "旧点位", staff, archived=True)
    _point(world["b"], "乙镇超市", world["other"])
    make.meeting(staff, point=mall.id, kind="staff")
    make.meeting(staff, point=mall.id, kind="staff")
    client = login_as(app.test_client(), staff)

    rows = only_sheet(client.get("/meetings/points/export.xlsx"), "固定点位")
    assert rows[0] == ["点位名称", "类型", "组织单位", "地址", "活动时间", "常见群体", "已开沟通会（次）", "说明"]
    assert [r[0] for r in rows[1:]] == _page_points(client) == ["甲镇商场", "服务站驿站"]
    assert rows[1] == ["甲镇商场", "商圈", "甲镇总工会", "甲镇大街1号", "每周四上午", "快递员、外卖送餐员", 2, "门口东侧"]
    assert rows[2][6] == 0  # a number, not "0 次"

    archived = only_sheet(client.get("/meetings/points/export.xlsx?archived=1"), "固定点位（已归档）")
    assert [r[0] for r in archived[1:]] == _page_points(client, "?archived=1") == ["旧点位"]
    # The other town's point is in no one's export of 甲镇; the district sees both towns.
    admin_rows = only_sheet(login_as(app.test_client(), world["admin"]).get("/meetings/points/export.xlsx"), "固定点位")
    assert {"乙镇超市", "甲镇商场"} <= {r[0] for r in admin_rows[1:]}
    assert "固定点位：2 行" in _exported("export")[0].detail


def test_a_viewer_may_export_the_points_they_may_read(app, world):
    _point(world["a"], "甲镇商场", world["staff"])
    rows = only_sheet(login_as(app.test_client(), world["viewer"]).get("/meetings/points/export.xlsx"), "固定点位")
    assert [r[0] for r in rows[1:]] == ["甲镇商场"]


# ---- 待跟进建议 --------------------------------------------------------------------------------

def _page_keys(client, query):
    html = client.get("/followups/suggestions" + query).get_data(as_text=True)
    return re.findall(r'name="items" value="([a-z]+:\d+)"', html), 'aria-label="分页"' in html


def test_suggestions_export_holds_every_page_of_the_tab(app, make, world):
    """55 never-contacted files: the page shows 50 and 5; the export holds the 55 in that order."""
    for i in range(55):
        make.enterprise(org=world["a"] if i % 2 else world["station"], name=f"从未联系{i:02d}公司")
    make.enterprise(org=world["b"], name="乙镇从未联系公司")
    client = login_as(app.test_client(), world["sup"])
    first, paged = _page_keys(client, "?rule=never")
    second, _ = _page_keys(client, "?rule=never&page=2")
    assert paged and len(first) == 50 and len(second) == 5
    names = {e.id: e.name for e in Enterprise.select()}
    listed = [names[int(k.split(":")[1])] for k in first + second]

    rows = only_sheet(client.get("/followups/suggestions/export.xlsx?rule=never"), "待跟进建议-从未联系")
    assert rows[0] == ["企业名称", "所属工会", "建会进度", "区级重点企业", "建档日期", "原因", "建议任务"]
    assert [r[0] for r in rows[1:]] == listed and "乙镇从未联系公司" not in listed
    first_row = rows[1]
    assert first_row[1] in ("甲镇总工会", "甲镇服务站") and first_row[2] == "未接触" and first_row[3] == "否"
    assert first_row[4] == datetime(2026, 11, 24)  # a date of the workbook (openpyxl reads it back as datetime)
    assert first_row[5].startswith("建档于 2026-11-24") and first_row[6] == "首次走访宣传"
    # The unit filter of the page applies to its export.
    station = only_sheet(client.get(f"/followups/suggestions/export.xlsx?rule=never&org={world['station'].id}"),
                         "从未联系")
    assert len(station) - 1 == 28 and {r[1] for r in station[1:]} == {"甲镇服务站"}


def test_suggestions_export_without_a_rule_is_the_tab_the_page_opens_on(app, make, world):
    stale = make.enterprise(org=world["a"], name="久未联系公司")
    Enterprise.update(last_contact_on=TODAY - timedelta(days=200)).where(Enterprise.id == stale.id).execute()
    client = login_as(app.test_client(), world["staff"])
    keys, _ = _page_keys(client, "")
    assert keys == [f"stale:{stale.id}"]  # 从未联系 is empty: the page opens on 久未联系
    rows = only_sheet(client.get("/followups/suggestions/export.xlsx"), "待跟进建议-久未联系")
    assert rows[0][4] == "上次联系日期"
    assert rows[1][:5] == ["久未联系公司", "甲镇总工会", "未接触", "否", datetime(2026, 5, 8)]


def test_suggestions_of_needs_export_the_need(app, make, world):
    ent = make.enterprise(org=world["a"], name="有需求公司")
    Enterprise.update(last_contact_on=TODAY).where(Enterprise.id == ent.id).execute()
    need = make.need(ent, world["staff"], detail="需要法律咨询")
    need.__class__.update(raised_on=TODAY - timedelta(days=40)).where(need.__class__.id == need.id).execute()
    client = login_as(app.test_client(), world["sup"])
    rows = only_sheet(client.get("/followups/suggestions/export.xlsx?rule=need"), "需求久未解决")
    assert rows[0] == ["需求", "企业名称", "所属工会", "提出日期", "原因", "建议任务"]
    assert rows[1][:4] == ["法律咨询", "有需求公司", "甲镇总工会", datetime(2026, 10, 15)]
    assert "需要法律咨询" in rows[1][4] and rows[1][5] == "跟进需求：法律咨询"


def test_suggestions_export_is_for_those_who_may_assign(app, world):
    client = login_as(app.test_client(), world["viewer"])
    assert client.get("/followups/suggestions").status_code == 403
    assert client.get("/followups/suggestions/export.xlsx?rule=never").status_code == 403


# ---- users -----------------------------------------------------------------------------------

def _page_users(client, query=""):
    html = client.get("/admin/users" + query).get_data(as_text=True)
    return [int(i) for i in re.findall(r'<tr id="user-(\d+)"', html)]


def test_users_export_for_admins_with_the_lists_filters(app, make, world):
    from crm.auth.models import User
    make.user("staff", org=world["a"], username="gone", name="已停用的人", active=False)
    User.update(last_login_at=datetime(2026, 11, 20, 1, 30)).where(User.username == "zhang").execute()
    client = login_as(app.test_client(), world["admin"])
    ids = {u.id: u.username for u in User.select()}

    rows = only_sheet(client.get("/admin/users/export.xlsx"), "用户")
    assert rows[0] == ["用户名", "姓名", "角色", "所属单位", "状态", "最近登录", "两步验证", "创建时间"]
    assert [r[0] for r in rows[1:]] == [ids[i] for i in _page_users(client)]
    zhang = next(r for r in rows if r[0] == "zhang")
    assert zhang[:5] == ["zhang", "张三", "走访干部", "甲镇总工会", "启用"]
    assert zhang[5] == datetime(2026, 11, 20, 9, 30)  # Beijing time, a date of the workbook
    assert zhang[6] == "未启用" and isinstance(zhang[7], datetime)

    query = f"?org={world['a'].id}&role=staff&active=1"
    filtered = only_sheet(client.get("/admin/users/export.xlsx" + query), "用户")
    assert [r[0] for r in filtered[1:]] == [ids[i] for i in _page_users(client, query)] == ["zhang"]
    stopped = only_sheet(client.get("/admin/users/export.xlsx?active=0"), "用户")
    assert [r[:2] + [r[4]] for r in stopped[1:]] == [["gone", "已停用的人", "已停用"]]
    # Personal data: each export is in the audit log with its filter.
    events = _exported("export")
    assert "用户：1 行" in events[-2].detail and "role=staff" in events[-2].detail


@pytest.mark.parametrize("role", ["staff", "sup", "viewer"])
def test_only_admins_export_users(app, world, role):
    client = login_as(app.test_client(), world[role])
    assert client.get("/admin/users/export.xlsx").status_code == 403
    assert _exported("export") == []


# ---- the 双沟通 grid and a unit's calendar ------------------------------------------------------

def _meetings(unit, days, kind="staff", level="routine"):
    for day in days:
        Meeting.create(kind=kind, level=level, org_unit=unit, held_on=day, summary="会")


def _page_units(client, query=""):
    html = client.get("/compliance/" + query).get_data(as_text=True)
    return re.findall(r'<th class="unit-col"[^>]*><a href="/compliance/units/\d+[^"]*">([^<]+)</a></th>', html)


def test_grid_export_is_the_grid_and_its_counts(app, world):
    # October 2026 in 甲镇 (a station's meetings count for its town): 2 staff meetings, 2 enterprise
    # meetings one in each half; 乙镇 nothing. The district meets on the third Thursday (15 Oct).
    _meetings(world["a"], [date(2026, 10, 6), date(2026, 10, 13)])
    _meetings(world["station"], [date(2026, 10, 2), date(2026, 10, 20)], kind="enterprise")
    _meetings(world["root"], [date(2026, 10, 15)], level="district")
    client = login_as(app.test_client(), world["admin"])
    sheets = workbook(client.get("/compliance/export.xlsx?year=2026"), "双沟通达标-2026年")
    grid, counts = sheets["双沟通达标2026年"], sheets["每月场次"]
    assert grid[0] == ["单位"] + [f"{m}月" for m in range(1, 13)]
    assert [r[0] for r in grid[1:]] == _page_units(client, "?year=2026") == ["测试区总工会", "甲镇总工会", "乙镇总工会"]
    jia = grid[2]
    assert jia[10] == "未达标" and jia[11] == "未达标" and jia[12] == "未开始"  # Oct, Nov (weeks missed), Dec
    assert counts[0] == ["单位", "月份", "状态", "职工沟通会（场）", "企业沟通会（场）", "区级职工沟通会（第三个星期四）", "说明"]
    assert len(counts) - 1 == 3 * 11  # three units, January to November
    october = {r[0]: r for r in counts[1:] if r[1] == datetime(2026, 10, 1)}
    assert october["甲镇总工会"][2:6] == ["未达标", 2, 2, None]
    assert october["乙镇总工会"][2:6] == ["未达标", 0, 0, None]
    assert october["测试区总工会"][2:6] == ["达标", None, None, "已召开"]
    assert "缺" in october["甲镇总工会"][6]


def test_grid_export_keeps_to_the_scope(app, world):
    _meetings(world["b"], [date(2026, 10, 6)])
    client = login_as(app.test_client(), world["sup"])
    grid = workbook(client.get("/compliance/export.xlsx"), "双沟通达标-2026年")["双沟通达标2026年"]
    assert [r[0] for r in grid[1:]] == _page_units(client) == ["甲镇总工会"]


def test_unit_calendar_export(app, make, world):
    # Every week of October 2026 (28 Sep – 1 Nov) and each half of it.
    _meetings(world["a"], [date(2026, 10, 1), date(2026, 10, 6), date(2026, 10, 13), date(2026, 10, 20),
                           date(2026, 10, 27)])
    _meetings(world["a"], [date(2026, 10, 2), date(2026, 10, 20)], kind="enterprise")
    client = login_as(app.test_client(), world["sup"])
    html = client.get(f"/compliance/units/{world['a'].id}?year=2026").get_data(as_text=True)
    page_rules = [r for r in re.findall(r'<tr>\s*<th class="unit-col"[^>]*>([^<]+)</th>', html) if r != "规则"]
    sheets = workbook(client.get(f"/compliance/units/{world['a'].id}/export.xlsx?year=2026"), "考核日历-甲镇总工会-2026年")
    calendar, detail = sheets["考核日历"], sheets["每月明细"]
    assert [r[0] for r in calendar[1:]] == page_rules == ["职工沟通会", "企业沟通会", "重点企业季度走访", "全域覆盖",
                                                         "建会企业月访"]
    assert calendar[1][10] == "达标" and calendar[2][10] == "达标" and calendar[1][12] == "未开始"
    assert detail[0] == ["规则", "月份", "状态", "场次", "已走访或联系企业（家）", "应走访或联系企业（家）", "比例（%）",
                         "目标", "说明"]
    october = {r[0]: r for r in detail[1:] if r[1] == datetime(2026, 10, 1)}
    assert october["职工沟通会"][2:6] == ["达标", 5, None, None]
    assert october["企业沟通会"][2:4] == ["达标", 2] and october["企业沟通会"][7] == "每半月至少1场，每月至少2场"
    assert october["建会企业月访"][2] == "不适用" and october["建会企业月访"][3:8] == [None] * 5
    assert len(detail) - 1 == 5 * 11


def test_unit_calendar_export_ratio_rules_are_numbers(app, make, world):
    ent = make.enterprise(org=world["a"], name="重点企业甲", is_key=True)
    make.enterprise(org=world["a"], name="重点企业乙", is_key=True)
    make.visit(ent, world["staff"], visited_on=date(2026, 11, 3))
    client = login_as(app.test_client(), world["sup"])
    detail = workbook(client.get(f"/compliance/units/{world['a'].id}/export.xlsx"), "考核日历")["每月明细"]
    november = {r[0]: r for r in detail[1:] if r[1] == datetime(2026, 11, 1)}
    assert november["重点企业季度走访"][2:8] == ["进行中", None, 1, 2, 50.0, "100%"]
    assert november["全域覆盖"][4:7] == [1, 2, 50.0]


def test_a_unit_outside_the_scope_has_no_calendar_to_export(app, world):
    client = login_as(app.test_client(), world["sup"])
    assert client.get(f"/compliance/units/{world['b'].id}/export.xlsx").status_code == 404
    assert client.get(f"/compliance/units/{world['station'].id}/export.xlsx").status_code == 200


# ---- 工作概况 -----------------------------------------------------------------------------------

def test_dashboard_export_holds_the_pages_tables(app, make, world):
    sup, staff = world["sup"], world["staff"]
    for name, stage in (("甲一", "contacted"), ("甲二", "contacted"), ("甲三", "registered")):
        make.enterprise(org=world["a"], name=name, initial_stage=stage)
    make.enterprise(org=world["b"], name="乙一", initial_stage="contacted")
    ent = Enterprise.get(Enterprise.name == "甲一")
    make.visit(ent, staff)
    make.meeting(staff, kind="staff", attendees=10, new_members={"courier": 3})
    make.followup(sup, ent, assignee=staff)
    late = make.followup(sup, ent, assignee=staff)
    late.__class__.update(due_on=TODAY - timedelta(days=3)).where(late.__class__.id == late.id).execute()
    client = login_as(app.test_client(), sup)
    sheets = workbook(client.get("/dashboard/export.xlsx?period=month"), "工作概况-甲镇总工会")
    assert list(sheets) == ["主要指标", "建会进度", "新入会人数（按群体）", "近12个月趋势", "跟进任务（按人员）"]

    kpis = {r[0]: r for r in sheets["主要指标"][1:]}
    assert sheets["主要指标"][0] == ["指标", "数值", "计量单位", "统计起始日期", "统计截止日期"]
    assert kpis["在档企业"][1:] == [3, "家", None, datetime(2026, 11, 24)]
    assert kpis["已建会"][1] == 1 and kpis["建会率"][1:3] == [33.3, "%"]
    assert kpis["走访"][1:] == [1, "次", datetime(2026, 11, 1), datetime(2026, 11, 24)]
    assert kpis["职工沟通会"][1] == 1 and kpis["沟通会新入会"][1] == 3

    stages = {r[0]: r[1:] for r in sheets["建会进度"][1:]}
    assert sheets["建会进度"][0] == ["阶段", "企业数", "期间进入", "停留天数中位数"]
    assert stages["已走访宣传"][0] == 2 and stages["已取得工会法人资格"][0] == 1 and stages["有建会意向"][0] == 0
    assert sheets["新入会人数（按群体）"][1:] == [["快递员", 3]]

    trend = sheets["近12个月趋势"]
    assert trend[0] == ["月份", "职工沟通会（场）", "企业沟通会（场）", "沟通会新入会人数", "走访次数", "新建工会（家）"]
    assert [r[0] for r in trend[1:]] == [datetime(2025, 12, 1)] + [datetime(2026, m, 1) for m in range(1, 12)]
    assert trend[-1][1:] == [1, 0, 3, 1, 0]

    people = sheets["跟进任务（按人员）"]
    assert people[0] == ["人员", "单位", "未完成", "已逾期", "本周到期", "本月完成"]
    assert ["张三", "甲镇总工会", 2, 1, 0, 0] in people
    assert "李四" not in {r[0] for r in people}


def test_dashboard_export_keeps_to_the_scope(app, world):
    client = login_as(app.test_client(), world["viewer"])
    assert client.get(f"/dashboard/export.xlsx?org={world['b'].id}").status_code == 404
    assert client.get(f"/dashboard/export.xlsx?org={world['station'].id}").status_code == 200


# ---- the buttons -------------------------------------------------------------------------------

def test_each_list_offers_its_export_with_its_filters(app, make, world):
    _point(world["a"], "甲镇商场", world["staff"])
    admin = login_as(app.test_client(), world["admin"])
    org = world["a"].id
    for page, link in [("/meetings/points?archived=1", "/meetings/points/export.xlsx?archived=1"),
                       (f"/followups/suggestions?rule=term&org={org}", f"/followups/suggestions/export.xlsx?rule=term&amp;org={org}"),
                       (f"/admin/users?role=staff&org={org}", "/admin/users/export.xlsx?"),
                       ("/compliance/?year=2025", "/compliance/export.xlsx?year=2025"),
                       (f"/compliance/units/{org}?year=2025", f"/compliance/units/{org}/export.xlsx?year=2025"),
                       (f"/dashboard/?org={org}&period=quarter", "/dashboard/export.xlsx?")]:
        html = admin.get(page).get_data(as_text=True)
        found = re.search(r'<a class="btn btn-outline-success" href="([^"]+)">导出 Excel</a>', html)
        assert found and found.group(1).startswith(link), (page, found and found.group(1))
    html = admin.get(f"/admin/users?role=staff&org={org}").get_data(as_text=True)
    assert re.search(r'href="/admin/users/export.xlsx\?(?=[^"]*role=staff)(?=[^"]*org=%d)' % org, html)
