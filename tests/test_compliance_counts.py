"""The 双沟通 meeting rules count a unit's meetings by week, half-month and month from sorted dates
(`count_in`, bisect). Checked against a plain reference that tests every meeting against every
period, on random dates crowded at the edges: the first and last days of months, the 15th and
16th, Mondays and Sundays, the turns of the year."""
import random
from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from crm.compliance import calendar as cal
from crm.compliance.evaluate import Evaluator, count_in
from crm.compliance.services import Settings
from crm.meetings.models import Meeting

YEARS = (2024, 2025, 2026)  # 2024 a leap year; 2025's first week and 2026's last cross the year


def edge_days():
    """Days where a period begins or ends, and their neighbours."""
    out = set()
    for year in YEARS:
        for month in range(1, 13):
            for p in cal.weeks_of_month(year, month) + cal.half_months(year, month):
                for d in (p.start, p.end):
                    out.update({d - timedelta(days=1), d, d + timedelta(days=1)})
    return sorted(out)


EDGES = edge_days()
SPAN = (date(YEARS[0] - 1, 12, 1), date(YEARS[-1] + 1, 1, 31))


def random_day(rng):
    if rng.random() < 0.6:
        return rng.choice(EDGES)
    return SPAN[0] + timedelta(days=rng.randrange((SPAN[1] - SPAN[0]).days + 1))


# ---- count_in against a scan -------------------------------------------------------------------

days_st = st.lists(st.dates(min_value=SPAN[0], max_value=SPAN[1]) | st.sampled_from(EDGES), max_size=60)
period_st = st.builds(lambda y, m, half, i: (cal.half_months(y, m) if half else cal.weeks_of_month(y, m))[i % (2 if half else 4)],
                      st.sampled_from(YEARS), st.integers(1, 12), st.booleans(), st.integers(0, 3)) | \
    st.builds(lambda y, m: cal.month_period(y, m), st.sampled_from(YEARS), st.integers(1, 12)) | \
    st.builds(lambda a, n: cal.Period(a, a + timedelta(days=n)), st.sampled_from(EDGES), st.integers(0, 40))


@settings(max_examples=400, deadline=None)
@given(days_st, period_st)
def test_count_in_equals_a_scan(days, period):
    assert count_in(sorted(days), period) == sum(1 for d in days if period.start <= d <= period.end)


def test_count_in_counts_a_day_held_twice_and_both_ends():
    days = [date(2025, 12, 29), date(2025, 12, 29), date(2026, 1, 4), date(2026, 1, 5)]
    week = cal.weeks_of_month(2026, 1)[0]  # 29 Dec 2025 – 4 Jan 2026
    assert count_in(days, week) == 3
    assert count_in(days, cal.month_period(2026, 1)) == 2
    assert count_in([], week) == 0


# ---- the evaluator against a reference -----------------------------------------------------------

def reference(meetings, unit_ids, kind, year, month, today, target, weekly):
    """The meeting rule of one unit and month, counted by testing every meeting against every part."""
    days = [d for k, u, d, archived in meetings if k == kind and u in unit_ids and not archived]
    parts = cal.weeks_of_month(year, month) if weekly else cal.half_months(year, month)
    span = cal.Period(parts[0].start, parts[-1].end)
    counts = [sum(1 for d in days if p.start <= d <= p.end) for p in parts]
    states = [cal.state(p, n > 0, today) for p, n in zip(parts, counts)]
    count = sum(1 for d in days if span.start <= d <= span.end)
    met = all(counts) and count >= target
    if "missed" in states or (today > span.end and count < target):
        state = "met" if met else "missed"
    else:
        state = cal.state(span, met, today)
    note = f"本月{count}场"
    gaps = [p.label for p, s in zip(parts, states) if s == "missed"]
    if gaps:
        note += "；缺 " + "、".join(gaps)
    return counts, states, count, state, note


def test_the_evaluator_counts_like_the_reference(app, make):
    root = make.root()
    town = make.org("甲镇总工会", parent=root)
    station = make.org("甲镇服务站", "station", parent=town)
    other = make.org("乙镇总工会", parent=root)
    subtree = {town.id: {town.id, station.id}, other.id: {other.id}}
    rng = random.Random(20261203)
    meetings = []
    for _ in range(700):
        meetings.append((rng.choice(("staff", "enterprise")), rng.choice((town.id, station.id, other.id)),
                         random_day(rng), rng.random() < 0.1))
    Meeting.insert_many([{"kind": k, "level": "routine", "org_unit": u, "held_on": d, "summary": "会",
                          "archived": a} for k, u, d, a in meetings]).execute()
    rules = Settings()
    checked = 0
    for year in YEARS:
        todays = [date(year, 1, 4), date(year, 6, 15), date(year, 6, 16), date(year, 12, 31), date(year + 1, 1, 3)]
        for today in todays + [random_day(rng) for _ in range(2)]:
            ev = Evaluator([town, other], year, today)
            for unit in (town, other):
                for month in range(1, 13):
                    for key, kind, weekly in (("staff_weekly", "staff", True),
                                              ("enterprise_half_month", "enterprise", False)):
                        c = ev.check(key, unit, month)
                        target = rules.of(key, unit, date(year, month, 1)).target
                        want = reference(meetings, subtree[unit.id], kind, year, month, today, target, weekly)
                        got = ([p.count for p in c.parts], [p.state for p in c.parts], c.count, c.state, c.note)
                        assert got == want, (key, unit.name, year, month, today)
                        checked += 1
    assert checked == len(YEARS) * 7 * 2 * 12 * 2
    # The random dates reach every kind of edge: a week across the year's turn held a meeting.
    assert any(count_in(sorted(d for _, _, d, _ in meetings), cal.weeks_of_month(y, 1)[0]) and
               cal.weeks_of_month(y, 1)[0].start.year == y - 1 for y in YEARS)
