"""月度通报 on a hand-built month: every cell of the page and of the workbook equals the value
counted by hand below."""
import io
import re
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook

from crm.common import timeutil
from crm.enterprises.models import Enterprise
from crm.founding.models import FoundingEvent
from crm.founding.services import move
from crm.meetings.models import Meeting, MeetingEnterprise
from crm.reports import monthly
from crm.visits.models import Visit
from tests.conftest import login_as

TODAY = date(2026, 11, 24)


@pytest.fixture
def month(make, monkeypatch):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    root = make.root()
    a, b, c = (make.org(n, parent=root) for n in ("甲镇总工会", "乙镇总工会", "丙镇总工会"))
    admin = make.user("admin", org=root)

    def firm(name, org, **values):
        ent = make.enterprise(org=org, name=name)
        if values:
            Enterprise.update(**values).where(Enterprise.id == ent.id).execute()
        FoundingEvent.update(occurred_on=date(2026, 1, 5)).where(FoundingEvent.enterprise == ent.id).execute()
        return Enterprise.get_by_id(ent.id)

    a1 = firm("甲一", a)
    firm("甲二", a)
    a3 = firm("甲三", a, stage="registered", union_founded_on=date(2026, 10, 10))
    b1, b2 = firm("乙一", b), firm("乙二", b)
    firm("丙一", c)

    def meeting(org, day, kind="staff", members=0, level="routine", firms=()):
        m = Meeting.create(kind=kind, org_unit=org, held_on=day, summary="会", new_members=members, level=level)
        for f in firms:
            MeetingEnterprise.create(meeting=m, enterprise=f)

    for day in (1, 6, 13, 20, 27):
        meeting(a, date(2026, 10, day), members=10 if day == 6 else 0)
    meeting(a, date(2026, 10, 2), kind="enterprise", firms=[a3])
    meeting(a, date(2026, 10, 20), kind="enterprise")
    meeting(b, date(2026, 10, 6))
    meeting(b, date(2026, 10, 13), members=4)
    meeting(b, date(2026, 10, 3), kind="enterprise")
    meeting(root, date(2026, 10, 15), level="district")
    Visit.create(enterprise=a1, visited_on=date(2026, 3, 1), kind="door", summary="走访")
    Visit.create(enterprise=b1, visited_on=date(2026, 11, 5), kind="door", summary="十一月")
    Visit.create(enterprise=b2, visited_on=date(2026, 2, 1), kind="door", summary="走访")
    move(b1, "contacted", admin, expected_from="not_contacted", occurred_on=date(2026, 10, 12), note="")
    move(b2, "contacted", admin, expected_from="not_contacted", occurred_on=date(2026, 9, 12), note="")
    return {"root": root, "a": a, "b": b, "c": c, "admin": admin}


def test_every_cell_of_the_month(app, month):
    r = monthly.build(month["admin"], month["root"], 2026, 10, TODAY)
    rows = {row.unit.name: row for row in r.rows}
    assert list(rows) == ["甲镇总工会", "乙镇总工会", "丙镇总工会"]
    a, b, c = rows["甲镇总工会"], rows["乙镇总工会"], rows["丙镇总工会"]
    assert (a.staff, a.checks["staff_weekly"].state, a.enterprise, a.checks["enterprise_half_month"].state) == \
        (5, "met", 2, "met")
    assert (b.staff, b.checks["staff_weekly"].state, b.enterprise, b.checks["enterprise_half_month"].state) == \
        (2, "missed", 1, "missed")
    assert [p.period.label for p in b.checks["staff_weekly"].missing] == ["9/28–10/4", "10/19–10/25", "10/26–11/1"]
    assert [p.period.label for p in b.checks["enterprise_half_month"].missing] == ["10/16–10/31"]
    assert (c.staff, c.enterprise, c.checks["staff_weekly"].state) == (0, 0, "missed")
    # Coverage from 1 January to 31 October: 甲 2 of 3 (甲一 visited, 甲三 at a meeting), 乙 1 of 2
    # (乙一's visit is in November), 丙 0 of 1.
    assert [(x.contacted, x.active, x.coverage) for x in (a, b, c)] == [(2, 3, 66.7), (1, 2, 50.0), (0, 1, 0.0)]
    # The compliance table counts the same as the ranking: as it stood at the month's end.
    assert [(x.checks["coverage_yearly"].count, x.checks["coverage_yearly"].total) for x in (a, b, c)] == \
        [(2, 3), (1, 2), (0, 1)]
    assert b.checks["coverage_yearly"].state == "running" and not r.with_unionized
    assert [(x.meetings, x.new_unions, x.new_members) for x in (a, b, c)] == [(7, 1, 10), (3, 0, 4), (0, 0, 0)]
    assert [x.ranks for x in (a, b, c)] == [
        {"meetings": 1, "coverage": 1, "new_unions": 1, "new_members": 1},
        {"meetings": 2, "coverage": 2, "new_unions": 2, "new_members": 2},
        {"meetings": 3, "coverage": 3, "new_unions": 2, "new_members": 3}]
    assert (r.total("meetings"), r.total("new_members"), r.total("new_unions"), r.total_coverage) == (10, 14, 1, 50.0)
    assert [(m.day, m.enterprise, m.unit, m.from_label, m.to_label) for m in r.moves] == \
        [(date(2026, 10, 12), "乙一", "乙镇总工会", "未接触", "已走访宣传")]
    assert r.district[0].state == "met"


def test_the_page_and_the_workbook(app, month):
    client = login_as(app.test_client(), month["admin"])
    html = client.get("/reports/monthly?ym=2026-10").get_data(as_text=True)
    html = re.sub(r"<[^>]+>", "", html)  # the text a reader sees
    for text in ("2026年10月“一企一档”工作月度通报", "9/28–10/4、10/19–10/25、10/26–11/1", "66.7%", "乙一",
                 "未接触 → 已走访宣传", "区级职工沟通会"):
        assert text in html, text
    resp = client.get("/reports/monthly.xlsx?ym=2026-10")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["双沟通达标", "单位排名", "建会进度变动"]
    ws = wb["双沟通达标"]
    assert ws["A1"].value.startswith("2026年10月“一企一档”工作月度通报")
    assert [cell.value for cell in ws[2]][:4] == ["单位", "职工沟通会（场）", "职工沟通会", "缺少的周"]
    assert ws.freeze_panes == "B3" and ws.column_dimensions["A"].width == 26
    assert [cell.value for cell in ws[3]][:3] == ["甲镇总工会", 5, "达标"]
    assert [cell.value for cell in ws[4]][:4] == ["乙镇总工会", 2, "未达标", "9/28–10/4、10/19–10/25、10/26–11/1"]
    assert [cell.value for cell in ws[6]][:5] == ["合计", 7, None, None, 3]
    ranking = wb["单位排名"]
    assert [cell.value for cell in ranking[2]] == ["单位", "沟通会场次", "名次", "今年覆盖率", "名次", "新建工会", "名次",
                                                   "新入会人数", "名次"]
    assert [cell.value for cell in ranking[3]] == ["甲镇总工会", 7, 1, 66.7, 1, 1, 1, 10, 1]
    assert [cell.value for cell in ranking[6]] == ["合计", 10, None, 50.0, None, 1, None, 14, None]
    moves = wb["建会进度变动"]
    assert [cell.value for cell in moves[3]][1:5] == ["乙一", "乙镇总工会", "未接触", "已走访宣传"]
    assert moves[3][0].value.date() == date(2026, 10, 12)
    assert [cell.value for cell in moves[4]][:2] == ["合计", "1 项"]


def test_the_page_lists_the_first_moves_and_counts_them_all(app, month, monkeypatch):
    """A district's month has thousands of moves: the page counts them by stage and lists the
    first ones; the workbook has them all."""
    from crm.reports import views
    monkeypatch.setattr(views, "PAGE_MOVES", 0)
    client = login_as(app.test_client(), month["admin"])
    html = client.get("/reports/monthly?ym=2026-10").get_data(as_text=True)
    assert "三、建会进度变动（1 项）" in html and "按变动后阶段：已走访宣传 1 项" in html
    assert "全部 1 项见" in html and "未接触 → 已走访宣传" not in html


def test_a_supervisor_reports_on_their_subtree_only(app, make, month):
    sup = login_as(app.test_client(), make.user("supervisor", org=month["b"]))
    html = sup.get("/reports/monthly?ym=2026-10").get_data(as_text=True)
    assert "乙镇总工会" in html and "甲镇总工会" not in html and "区级职工沟通会" not in html
    assert sup.get(f"/reports/monthly?org={month['a'].id}").status_code == 404
    wb = load_workbook(io.BytesIO(sup.get("/reports/monthly.xlsx?ym=2026-10").data))
    assert [row[0].value for row in wb["双沟通达标"].iter_rows(min_row=3)] == ["乙镇总工会", "合计"]


def test_the_report_opens_on_the_last_complete_month(app, month):
    """24 November: the report opens on October, one tap from November, marked 进行中."""
    client = login_as(app.test_client(), month["admin"])
    html = client.get("/reports/monthly").get_data(as_text=True)
    assert "2026年10月“一企一档”工作月度通报" in html and "进行中</span>" not in html
    assert 'ym=2026-11">11月（进行中） ›' in html and 'ym=2026-09">‹ 9月' in html
    running = client.get("/reports/monthly?ym=2026-11").get_data(as_text=True)
    assert "2026年11月“一企一档”工作月度通报" in running and "进行中</span>" in running
    assert "（截至 2026-11-24）" in running
    # The workbook link on the page is for the month shown.
    assert "monthly.xlsx?org=" in html and "ym=2026-10" in html


def test_in_january_the_report_opens_on_december(app, month, monkeypatch):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2027, 1, 3, 4, 0, tzinfo=timezone.utc))
    assert timeutil.last_complete_month(date(2027, 1, 3)) == (2026, 12)
    client = login_as(app.test_client(), month["admin"])
    html = client.get("/reports/monthly").get_data(as_text=True)
    assert "2026年12月“一企一档”工作月度通报" in html and "1月（进行中） ›" in html
