"""Each unit against each rule, per month: counts, the weeks or half-months missing, and a state
(met / running / missed / future / off). One Evaluator reads a year's records once and the
firms' monthly aggregates (crm/stats), a fixed number of queries, and answers for every unit and
month of that year.

Which records count:
- meetings of the unit and every unit below it (a station's meetings count for its town), not
  archived: 职工沟通会 for the weekly rule, 企业沟通会 for the half-month rule;
- the district meeting: a 区级 职工沟通会 held on the third Thursday;
- visits (not archived) for 区级重点企业 each quarter and for 已建会企业 each month; visits and
  enterprise-meeting participation for 全域覆盖 in the year;
- firms that are in the file (not archived, 经营状态 正常, not 已注销/迁出) and were filed (their
  建档 date on the founding track) by the end of the period.
"""
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from crm.compliance import calendar as cal
from crm.compliance.rules import BY_KEY, MEETING_RULES, RULES, Rule
from crm.compliance.services import Settings
from crm.db import db
from crm.meetings.models import Meeting
from crm.org.models import OrgUnit
from crm.permissions import sees_district, visible_org_units
from crm.stats import queries as stats
from crm.stats.facts import as_date

TOWN_KINDS = ("town", "street", "industrial_park")


@dataclass
class Part:
    """A week or half-month of a meeting rule."""
    period: cal.Period
    count: int
    state: str


@dataclass
class Check:
    rule: Rule
    state: str                 # met | running | missed | future | off
    target: int
    count: int = 0             # meetings in the month, or firms visited/contacted
    total: int | None = None   # firms the rule is about (ratio rules)
    parts: list = field(default_factory=list)
    note: str = ""
    period: cal.Period | None = None

    @property
    def missing(self):
        return [p for p in self.parts if p.state == "missed"]

    @property
    def percent(self):
        return None if not self.total else round(100 * self.count / self.total, 1)


def town_units(user):
    """The units the rules are checked for in the user's scope: the town-level units (镇、街道、
    产业基地); for someone whose unit is below that, their own unit."""
    units = visible_org_units(user)
    towns = [u for u in units if u.kind in TOWN_KINDS]
    if towns:
        return towns
    return [] if sees_district(user) else [user.org_unit]


def district_unit():
    return OrgUnit.get_or_none(OrgUnit.parent.is_null())


def count_in(days, period: cal.Period) -> int:
    """How many of the sorted `days` (a day may repeat) fall in the period, ends included."""
    return bisect_right(days, period.end) - bisect_left(days, period.start)


def combine(states) -> str:
    states = [s for s in states if s != "off"]
    if not states:
        return "off"
    for s in ("missed", "running"):
        if s in states:
            return s
    return "met" if all(s == "met" for s in states) else "future"


class Evaluator:
    def __init__(self, units, year: int, today: date, settings: Settings | None = None, months=range(1, 13)):
        """`months`: the months that will be asked about (the monthly report: one); only their
        records are read."""
        self.units, self.year, self.today = list(units), year, today
        self.months = list(months)
        self.settings = settings or Settings()
        self.span = cal.Period(date(year, self.months[0], 1) - timedelta(days=7),
                               cal.month_period(year, self.months[-1]).end + timedelta(days=7))
        paths = dict(OrgUnit.select(OrgUnit.id, OrgUnit.path).tuples())
        # org unit id → the evaluated units it counts for (the monthly report reads it too)
        self.owners = {uid: [u.id for u in self.units if path.startswith(u.path)] for uid, path in paths.items()}
        # Only the records of these units' subtrees are read.
        self._unit_ids = [uid for uid, owners in self.owners.items() if owners] or [0]
        self._parts = {}  # (weeks_of_month or half_months, month) → its periods
        self._load_meetings()

    # ---- loading ------------------------------------------------------------------------------
    def _load_meetings(self):
        self.staff = defaultdict(list)       # unit id → [held_on], sorted (count_in)
        self.enterprise = defaultdict(list)
        self.district_days = set()
        query = (Meeting.select(Meeting.held_on, Meeting.kind, Meeting.level, Meeting.org_unit)
                 .where(Meeting.archived == False, Meeting.org_unit.in_(self._unit_ids),  # noqa: E712
                        Meeting.kind.in_(("staff", "enterprise")),
                        Meeting.held_on.between(self.span.start, self.span.end)))
        # A year of a district's meetings is some ten thousand rows, read from one covering index
        # as plain tuples; each day's value is converted once (SQLite returns text), the days are
        # gathered per unit first and handed to the units they count for afterwards.
        parsed, per_unit = {}, defaultdict(list)
        for held_on, kind, level, unit_id in db.execute(query).fetchall():
            day = parsed.get(held_on)
            if day is None:
                day = parsed[held_on] = as_date(held_on)
            if kind == "staff" and level == "district":
                self.district_days.add(day)
            per_unit[kind, unit_id].append(day)
        for (kind, unit_id), days in per_unit.items():
            target = self.staff if kind == "staff" else self.enterprise
            for owner in self.owners.get(unit_id, ()):
                target[owner].extend(days)
        for days in (*self.staff.values(), *self.enterprise.values()):
            days.sort()

    @cached_property
    def facts(self) -> dict:
        """Evaluated unit id → {(yyyymm, metric): value} over its subtree, from the aggregates
        (crm/stats/facts.py: the firms as they stood at each month's end, the month's events)."""
        out = defaultdict(Counter)
        cells = stats.by_unit(self._unit_ids, self.year * 100 + self.months[0], self.year * 100 + self.months[-1])
        for unit_id, values in cells.items():
            for owner in self.owners.get(unit_id, ()):
                out[owner].update(values)
        return out

    # ---- rules --------------------------------------------------------------------------------
    def month(self, unit, month: int) -> list[Check]:
        """Every rule that applies to `unit` in the month (the district rule only for the district)."""
        checks = []
        is_district = unit.parent_id is None
        for rule in RULES:
            if (rule.level == "district") != is_district:
                continue
            checks.append(self.check(rule.key, unit, month))
        return checks

    def check(self, rule_key: str, unit, month: int) -> Check:
        rule = BY_KEY[rule_key]
        first = date(self.year, month, 1)
        setting = self.settings.of(rule_key, unit, first)
        if not setting.enabled:
            return Check(rule, "off", setting.target, note="本单位不适用")
        return getattr(self, "_" + rule_key)(rule, unit, month, setting.target)

    def _meetings(self, rule, days, month, target, parts_of):
        parts = self._parts.get((parts_of, month))
        if parts is None:
            parts = self._parts[parts_of, month] = parts_of(self.year, month)
        # The month's meetings: those in its weeks (a week belongs to the month of its Thursday)
        # or its half-months — the same days the parts cover, so no meeting counts twice.
        span = cal.Period(parts[0].start, parts[-1].end)
        count = count_in(days, span)
        out = []
        for p in parts:
            n = count_in(days, p)
            out.append(Part(p, n, cal.state(p, n > 0, self.today)))
        period = span
        met = all(p.count for p in out) and count >= target
        if any(p.state == "missed" for p in out) or (self.today > period.end and count < target):
            state = "missed" if not met else "met"
        else:
            state = cal.state(period, met, self.today)
        note = f"本月{count}场"
        gaps = [p for p in out if p.state == "missed"]
        if gaps:
            note += "；缺 " + "、".join(p.period.label for p in gaps)
        return Check(rule, state, target, count, None, out, note, period)

    def _staff_weekly(self, rule, unit, month, target):
        return self._meetings(rule, self.staff[unit.id], month, target, cal.weeks_of_month)

    def _enterprise_half_month(self, rule, unit, month, target):
        return self._meetings(rule, self.enterprise[unit.id], month, target, cal.half_months)

    def _district_third_thursday(self, rule, unit, month, target):
        day = cal.third_thursday(self.year, month)
        period = cal.Period(date(self.year, month, 1), day)
        held = day in self.district_days
        others = sorted(d for d in self.district_days if d.year == self.year and d.month == month and d != day)
        note = f"第三个星期四：{day.month}月{day.day}日" + ("，已召开" if held else "")
        if others and not held:
            note += "；本月在 " + "、".join(f"{d.month}月{d.day}日" for d in others) + " 召开"
        return Check(rule, cal.state(period, held, self.today), target, int(held), None, [], note, period)

    def _ratio(self, rule, unit, period, month, target, total, done):
        """Firms visited or contacted in `period`, as they stood at the end of `month` (records
        are never dated after today, so this month's figure is today's): a month's figure does not
        change once the month is over. Its state is the period's as of that day, so a quarter still
        running at the month's end stays amber in that month."""
        month_end = cal.month_period(self.year, month).end
        facts = self.facts[unit.id]
        key = self.year * 100 + month
        firms, hits = facts[(key, total)], facts[(key, done)]
        if not firms:
            return Check(rule, "off", target, 0, 0, [], "没有适用的企业", period)
        met = 100 * hits >= target * firms
        judged_on = self.today if month_end >= period.end else min(month_end, self.today)
        return Check(rule, cal.state(period, met, judged_on), target, hits, firms, [],
                     f"{hits}/{firms} 家", period)

    def _key_quarterly(self, rule, unit, month, target):
        return self._ratio(rule, unit, cal.quarter_of(self.year, month), month, target, "key", "key_visited")

    def _coverage_yearly(self, rule, unit, month, target):
        return self._ratio(rule, unit, cal.year_period(self.year), month, target, "active", "contacted")

    def _unionized_monthly(self, rule, unit, month, target):
        return self._ratio(rule, unit, cal.month_period(self.year, month), month, target, "founded",
                           "founded_visited")

    # ---- the grid ---------------------------------------------------------------------------
    def grid_cell(self, unit, month: int) -> tuple[str, list[Check]]:
        """The 双沟通 of a unit in a month: both meeting rules (the district: its own rule)."""
        keys = ("district_third_thursday",) if unit.parent_id is None else MEETING_RULES
        checks = [self.check(k, unit, month) for k in keys]
        return combine(c.state for c in checks), checks
