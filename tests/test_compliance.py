"""双沟通: the date rules on fixed calendars, and each unit's months against the rules on a
hand-built set of meetings and visits (figures counted by hand, not by the code under test)."""
import re
from datetime import date, datetime, timezone

import pytest

from crm.common import timeutil
from crm.common.errors import ServiceError
from crm.compliance import calendar as cal
from crm.compliance.evaluate import Evaluator, combine
from crm.compliance.services import Settings, add_setting
from crm.founding.models import FoundingEvent
from crm.meetings.models import Meeting, MeetingEnterprise
from crm.visits.models import Visit
from tests.conftest import login_as

THIRD_THURSDAYS = {
    2025: [16, 20, 20, 17, 15, 19, 17, 21, 18, 16, 20, 18],
    2026: [15, 19, 19, 16, 21, 18, 16, 20, 17, 15, 19, 17],
}


@pytest.mark.parametrize("year", [2025, 2026])
def test_third_thursday_of_every_month(year):
    for month, day in enumerate(THIRD_THURSDAYS[year], start=1):
        found = cal.third_thursday(year, month)
        assert found == date(year, month, day) and found.weekday() == 3


def test_weeks_belong_to_the_month_of_their_thursday():
    october = cal.weeks_of_month(2025, 10)
    assert [(w.start, w.end) for w in october] == [
        (date(2025, 9, 29), date(2025, 10, 5)), (date(2025, 10, 6), date(2025, 10, 12)),
        (date(2025, 10, 13), date(2025, 10, 19)), (date(2025, 10, 20), date(2025, 10, 26)),
        (date(2025, 10, 27), date(2025, 11, 2))]
    assert [w.start for w in cal.weeks_of_month(2025, 9)] == [date(2025, 9, d) for d in (1, 8, 15, 22)]
    assert cal.month_of_week(cal.week_of(date(2025, 9, 29))) == (2025, 10)
    # The week of 29 Dec 2025 – 4 Jan 2026 belongs to January 2026.
    assert [w.start for w in cal.weeks_of_month(2025, 12)] == [date(2025, 12, d) for d in (1, 8, 15, 22)]
    assert cal.weeks_of_month(2026, 1)[0] == cal.Period(date(2025, 12, 29), date(2026, 1, 4))
    # Every week of two years belongs to exactly one month.
    weeks = [w for y in (2025, 2026) for m in range(1, 13) for w in cal.weeks_of_month(y, m)]
    assert len(weeks) == len({w.start for w in weeks}) and all(w.start.weekday() == 0 for w in weeks)
    assert all((b.start - a.start).days == 7 for a, b in zip(weeks, weeks[1:]))


def test_half_months_of_february():
    assert cal.half_months(2024, 2) == [cal.Period(date(2024, 2, 1), date(2024, 2, 15)),
                                        cal.Period(date(2024, 2, 16), date(2024, 2, 29))]
    assert cal.half_months(2025, 2) == [cal.Period(date(2025, 2, 1), date(2025, 2, 15)),
                                        cal.Period(date(2025, 2, 16), date(2025, 2, 28))]


def test_amber_on_the_last_day_red_the_day_after():
    week = cal.Period(date(2025, 9, 22), date(2025, 9, 28))
    assert cal.state(week, False, date(2025, 9, 28)) == "running"
    assert cal.state(week, False, date(2025, 9, 29)) == "missed"
    assert cal.state(week, True, date(2025, 9, 29)) == "met"
    assert cal.state(week, False, date(2025, 9, 21)) == "future"
    half = cal.half_months(2025, 2)[0]
    assert (cal.state(half, False, date(2025, 2, 15)), cal.state(half, False, date(2025, 2, 16))) == \
        ("running", "missed")
    assert combine(["met", "running"]) == "running" and combine(["met", "missed", "running"]) == "missed"
    assert combine(["met", "met"]) == "met" and combine(["off"]) == "off"


# ---- units against the rules ----------------------------------------------------------------

@pytest.fixture
def district(make):
    root = make.root()
    town = make.org("甲镇总工会", parent=root)
    station = make.org("甲镇服务站", "station", parent=town)
    other = make.org("乙镇总工会", parent=root)
    user = make.user("admin", org=root)
    return {"root": root, "town": town, "station": station, "other": other, "user": user}


def meeting(unit, day, kind="staff", level="routine", archived=False, firms=()):
    m = Meeting.create(kind=kind, level=level, org_unit=unit, held_on=day, summary="会", archived=archived)
    for f in firms:
        MeetingEnterprise.create(meeting=m, enterprise=f)
    return m


def test_a_unit_month_against_the_meeting_rules(app, district):
    town, station = district["town"], district["station"]
    # October 2025: weeks from 29 Sep. One staff meeting in each week but the fourth; the first
    # week's meeting on 30 Sep counts for that week but for September's monthly count.
    for day in (date(2025, 9, 30), date(2025, 10, 8), date(2025, 10, 14), date(2025, 10, 28)):
        meeting(town, day)
    meeting(station, date(2025, 10, 15))                   # the station's meeting counts for its town
    meeting(town, date(2025, 10, 22), archived=True)       # archived: does not count
    meeting(district["other"], date(2025, 10, 21))         # another town's: does not count
    meeting(town, date(2025, 10, 3), kind="enterprise")    # first half
    meeting(town, date(2025, 10, 16), kind="enterprise")   # second half
    ev = Evaluator([town, district["other"]], 2025, date(2025, 11, 10))
    staff = ev.check("staff_weekly", town, 10)
    assert [p.count for p in staff.parts] == [1, 1, 2, 0, 1]
    assert staff.count == 5  # 30 Sep (in October's first week), 8, 14, 15, 28 October
    assert staff.state == "missed"
    assert [p.period.label for p in staff.missing] == ["10/20–10/26"]
    assert staff.note == "本月5场；缺 10/20–10/26"
    ent = ev.check("enterprise_half_month", town, 10)
    assert ([p.count for p in ent.parts], ent.count, ent.state) == ([1, 1], 2, "met")
    assert ev.grid_cell(town, 10)[0] == "missed"
    sept = ev.check("staff_weekly", town, 9)  # weeks 1–28 Sep: 30 Sep is October's
    assert sept.count == 0 and sept.state == "missed"
    assert ev.check("staff_weekly", district["other"], 10).count == 1


def test_a_running_month_is_amber_until_a_week_is_lost(app, district):
    town = district["town"]
    for day in (date(2026, 11, 3), date(2026, 11, 12), date(2026, 11, 19)):
        meeting(town, day)
    meeting(town, date(2026, 11, 5), kind="enterprise")
    # Tuesday 24 Nov 2026: three weeks done, the fourth running (30 Nov – 6 Dec holds 3 Dec: December's).
    ev = Evaluator([town], 2026, date(2026, 11, 24))
    staff = ev.check("staff_weekly", town, 11)
    assert [p.state for p in staff.parts] == ["met", "met", "met", "running"]
    assert staff.state == "running"
    half = ev.check("enterprise_half_month", town, 11)
    assert [p.state for p in half.parts] == ["met", "running"] and half.state == "running"
    # A week without a meeting that has ended makes the month red at once.
    assert Evaluator([town], 2026, date(2026, 11, 24)).check("staff_weekly", town, 10).state == "missed"


def test_the_district_meeting_on_the_third_thursday(app, district):
    root = district["root"]
    meeting(root, date(2026, 10, 15), level="district")       # the third Thursday of October
    meeting(root, date(2026, 9, 10), level="district")        # September: the wrong Thursday
    ev = Evaluator([root], 2026, date(2026, 11, 19))
    assert ev.check("district_third_thursday", root, 10).state == "met"
    sept = ev.check("district_third_thursday", root, 9)
    assert sept.state == "missed" and "9月10日" in sept.note
    assert ev.check("district_third_thursday", root, 11).state == "running"  # today is the day
    assert Evaluator([root], 2026, date(2026, 11, 20)).check("district_third_thursday", root, 11).state == "missed"
    assert [c.rule.key for c in ev.month(root, 10)] == ["district_third_thursday"]
    assert "district_third_thursday" not in [c.rule.key for c in ev.month(district["town"], 10)]


def test_key_firms_coverage_and_unionized_visits(app, make, district):
    town, station, user = district["town"], district["station"], district["user"]
    key_a = make.enterprise(org=town, name="重点甲", is_key=True)
    key_b = make.enterprise(org=station, name="重点乙", is_key=True)
    plain = make.enterprise(org=town, name="普通丙")
    founded = make.enterprise(org=town, name="建会丁", initial_stage="registered")
    gone = make.enterprise(org=town, name="已注销戊", status="deregistered")
    for ent in (key_a, key_b, plain, founded, gone):  # filed in January 2025
        FoundingEvent.update(occurred_on=date(2025, 1, 5)).where(FoundingEvent.enterprise == ent.id).execute()
    Visit.create(enterprise=key_a, visited_on=date(2026, 10, 9), kind="door", summary="走访")
    Visit.create(enterprise=key_b, visited_on=date(2026, 9, 30), kind="door", summary="上季度")
    Visit.create(enterprise=founded, visited_on=date(2026, 11, 2), kind="door", summary="走访")
    meeting(town, date(2026, 3, 3), kind="enterprise", firms=[plain])
    ev = Evaluator([town], 2026, date(2026, 11, 24))
    key = ev.check("key_quarterly", town, 11)
    assert (key.count, key.total, key.state) == (1, 2, "running")   # 重点甲 of 2, quarter running
    q3 = ev.check("key_quarterly", town, 9)
    assert (q3.count, q3.total, q3.state) == (1, 2, "missed")       # only 重点乙 in Q3
    cover = ev.check("coverage_yearly", town, 11)
    assert (cover.count, cover.total, cover.percent) == (4, 4, 100.0) and cover.state == "met"
    assert ev.check("unionized_monthly", town, 11).state == "off"     # not chosen by default
    add_setting("unionized_monthly", town, True, 100, date(2026, 11, 1), user, today=date(2026, 10, 20))
    ev = Evaluator([town], 2026, date(2026, 11, 24))
    nov = ev.check("unionized_monthly", town, 11)
    assert (nov.count, nov.total, nov.state) == (1, 1, "met")
    assert ev.check("unionized_monthly", town, 10).state == "off"    # before it took effect


def test_a_new_target_starts_on_its_date(app, district):
    town, user = district["town"], district["user"]
    for day in (date(2026, 9, 2), date(2026, 9, 9), date(2026, 9, 16), date(2026, 9, 23)):
        meeting(town, day)
    for day in (date(2026, 10, 1), date(2026, 10, 8), date(2026, 10, 15), date(2026, 10, 22), date(2026, 10, 29)):
        meeting(town, day)
    ev = Evaluator([town], 2026, date(2026, 11, 24))
    assert ev.check("staff_weekly", town, 9).state == "met"
    with pytest.raises(ServiceError, match="不能早于本月1日"):  # a past month is never re-judged
        add_setting("staff_weekly", None, True, 5, date(2026, 10, 1), user, today=date(2026, 11, 24))
    add_setting("staff_weekly", None, True, 5, date(2026, 10, 1), user, "区里提高要求", today=date(2026, 9, 20))
    settings = Settings()
    assert settings.of("staff_weekly", town, date(2026, 9, 1)).target == 4
    assert settings.of("staff_weekly", town, date(2026, 10, 1)).target == 5
    ev = Evaluator([town], 2026, date(2026, 11, 24))
    assert ev.check("staff_weekly", town, 9).state == "met"         # last month keeps its target
    october = ev.check("staff_weekly", town, 10)
    assert (october.target, october.count, october.state) == (5, 5, "met")
    # A unit's own setting wins over the district's; switching a rule off for one unit.
    add_setting("enterprise_half_month", town, False, 2, date(2026, 1, 1), user, today=date(2026, 1, 1))
    assert Evaluator([town], 2026, date(2026, 11, 24)).check("enterprise_half_month", town, 5).state == "off"
    # A town's setting holds for the units below it, until they have their own.
    station = district["station"]
    add_setting("staff_weekly", town, True, 6, date(2026, 2, 1), user, today=date(2026, 1, 15))
    assert Settings().of("staff_weekly", station, date(2026, 3, 1)).target == 6
    add_setting("staff_weekly", station, True, 2, date(2026, 3, 1), user, today=date(2026, 2, 15))
    settings = Settings()
    assert (settings.of("staff_weekly", station, date(2026, 3, 1)).target,
            settings.of("staff_weekly", town, date(2026, 3, 1)).target) == (2, 6)
    assert [(k, u) for k, u, _ in settings.overrides(date(2026, 3, 1)) if k == "staff_weekly"] == \
        [("staff_weekly", town.id), ("staff_weekly", station.id)]


def test_grid_and_unit_pages_are_scoped(app, make, district):
    town, other = district["town"], district["other"]
    meeting(town, date(2026, 11, 3))
    sup = make.user("supervisor", org=town)
    client = login_as(app.test_client(), sup)
    html = client.get("/compliance/?year=2026").get_data(as_text=True)
    assert "甲镇总工会" in html and "乙镇总工会" not in html and "测试区总工会" not in html
    assert client.get(f"/compliance/units/{other.id}").status_code == 404
    page = client.get(f"/compliance/units/{town.id}?year=2026&month=11").get_data(as_text=True)
    assert "职工沟通会每周一次" in page and "第1周（11/2–11/8）" in page
    admin = login_as(app.test_client(), district["user"])
    html = admin.get("/compliance/?year=2026").get_data(as_text=True)
    assert "测试区总工会" in html and "乙镇总工会" in html
    assert client.get("/compliance/rules").status_code == 403


def test_the_grid_opens_on_the_last_complete_month(app, monkeypatch, district):
    """24 November: the grid shows November as 进行中, October as the focused column, each cell
    named with its figures (not only its colour); the unit page opens on October's details."""
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    town = district["town"]
    for day in (date(2026, 10, 6), date(2026, 10, 13)):
        meeting(town, day)
    meeting(town, date(2026, 10, 14), kind="enterprise")
    client = login_as(app.test_client(), district["user"])
    html = client.get("/compliance/").get_data(as_text=True)
    assert "“双沟通”达标情况 · 2026 年" in html
    assert re.search(r'<th class="text-center text-nowrap col-focus" scope="col">10月</th>', html)
    assert re.search(r'scope="col">11月<span class="d-block small fw-normal">进行中</span>', html)
    assert "已定位到最近一个完整的月份（10月），11月进行中" in html
    cell = re.search(r'<span class="visually-hidden">甲镇总工会 10月 未达标：</span>(.*?)</a>', html, re.S).group(1)
    hidden = "".join(re.findall(r'<span class="visually-hidden">(.*?)</span>', cell))
    assert hidden == "职工沟通会 2 场，企业沟通会 1 场"
    page = client.get(f"/compliance/units/{town.id}").get_data(as_text=True)
    assert "10 月明细" in page and 'aria-current="true">10月' in page
    assert "11月<span class=\"d-block small\">进行中</span>" in page


def test_in_january_the_grid_opens_on_last_year(app, monkeypatch, district):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2027, 1, 3, 4, 0, tzinfo=timezone.utc))
    client = login_as(app.test_client(), district["user"])
    html = client.get("/compliance/").get_data(as_text=True)
    assert "“双沟通”达标情况 · 2026 年" in html and "2027（进行中） ›" in html
    assert '<th class="text-center text-nowrap col-focus" scope="col">12月</th>' in html
    page = client.get(f"/compliance/units/{district['town'].id}").get_data(as_text=True)
    assert "2026 年考核日历" in page and "12 月明细" in page
