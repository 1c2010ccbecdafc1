"""Each unit against each rule, per month: counts, the weeks or half-months missing, and a state
(met / running / missed / future / off). One Evaluator reads a year's records once (a fixed
number of queries) and answers for every unit and month of that year.

Which records count:
- meetings of the unit and every unit below it (a station's meetings count for its town), not
  archived: 职工沟通会 for the weekly rule, 企业沟通会 for the half-month rule;
- the district meeting: a 区级 职工沟通会 held on the third Thursday;
- visits (not archived) for 区级重点企业 each quarter and for 已建会企业 each month; visits and
  enterprise-meeting participation for 全域覆盖 in the year;
- firms that are in the file (not archived, 经营状态 正常, not 已注销/迁出) and were filed (their
  建档 date on the founding track) by the end of the period.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from crm.common.timeutil import to_local
from crm.compliance import calendar as cal
from crm.compliance.rules import BY_KEY, MEETING_RULES, RULES, Rule
from crm.compliance.services import Settings
from crm.enterprises.models import Enterprise
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.meetings.models import Meeting, MeetingEnterprise
from crm.org.models import OrgUnit
from crm.visits.models import Visit

TOWN_KINDS = ("town", "street", "industrial_park")
FOUNDED = tuple(stages.stages_with_status("founded"))


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
    from crm.permissions import visible_org_units
    units = visible_org_units(user)
    towns = [u for u in units if u.kind in TOWN_KINDS]
    if towns:
        return towns
    return [user.org_unit] if user.role != "admin" else []


def district_unit():
    return OrgUnit.get_or_none(OrgUnit.parent.is_null())


def combine(states) -> str:
    states = [s for s in states if s != "off"]
    if not states:
        return "off"
    for s in ("missed", "running"):
        if s in states:
            return s
    return "met" if all(s == "met" for s in states) else "future"


class Evaluator:
    def __init__(self, units, year: int, today: date, settings: Settings | None = None):
        self.units, self.year, self.today = list(units), year, today
        self.settings = settings or Settings()
        self.span = cal.Period(date(year, 1, 1) - timedelta(days=7), date(year, 12, 31) + timedelta(days=7))
        paths = dict(OrgUnit.select(OrgUnit.id, OrgUnit.path).tuples())
        # org unit id → the evaluated units it counts for (the monthly report reads it too)
        self.owners = {uid: [u.id for u in self.units if path.startswith(u.path)] for uid, path in paths.items()}
        # Only the records of these units' subtrees are read.
        self._unit_ids = [uid for uid, owners in self.owners.items() if owners] or [0]
        self._firm_ids = Enterprise.select(Enterprise.id).where(Enterprise.org_unit.in_(self._unit_ids))
        self._load_meetings()
        self._load_firms()
        self._load_contacts()

    # ---- loading ------------------------------------------------------------------------------
    def _load_meetings(self):
        self.staff = defaultdict(list)       # unit id → [held_on]
        self.enterprise = defaultdict(list)
        self.district_days = set()
        query = (Meeting.select(Meeting.held_on, Meeting.kind, Meeting.level, Meeting.org_unit)
                 .where(Meeting.archived == False, Meeting.org_unit.in_(self._unit_ids),  # noqa: E712
                        Meeting.held_on.between(self.span.start, self.span.end)).tuples())
        for held_on, kind, level, unit_id in query:
            if kind == "staff" and level == "district":
                self.district_days.add(held_on)
            target = self.staff if kind == "staff" else self.enterprise if kind == "enterprise" else None
            if target is None:
                continue
            for owner in self.owners.get(unit_id, ()):
                target[owner].append(held_on)

    def _load_firms(self):
        """Active firms per unit: (id, filed on, is key, founded). "Filed on" is the date of the
        file's 建档 event on the founding track (an imported or back-filled file keeps its date)."""
        self.firms = defaultdict(list)
        filed_on = dict(FoundingEvent.select(FoundingEvent.enterprise, FoundingEvent.occurred_on)
                        .where(FoundingEvent.kind == "initial", FoundingEvent.enterprise.in_(self._firm_ids))
                        .tuples())
        query = (Enterprise.select(Enterprise.id, Enterprise.org_unit, Enterprise.created_at, Enterprise.is_key,
                                   Enterprise.stage)
                 .where(Enterprise.archived == False, Enterprise.status == "normal",  # noqa: E712
                        Enterprise.stage != "closed", Enterprise.org_unit.in_(self._unit_ids)).tuples())
        for ent_id, unit_id, created_at, is_key, stage in query:
            filed = filed_on.get(ent_id) or (to_local(created_at).date() if isinstance(created_at, datetime)
                                             else created_at)
            for owner in self.owners.get(unit_id, ()):
                self.firms[owner].append((ent_id, filed, bool(is_key), stage in FOUNDED))

    def _load_contacts(self):
        """Per firm, the days of the year it was visited, and the days it was contacted (visits and
        enterprise meetings it took part in)."""
        year = cal.year_period(self.year)
        self.visits = defaultdict(set)
        for ent_id, day in (Visit.select(Visit.enterprise, Visit.visited_on)
                            .where(Visit.archived == False, Visit.enterprise.in_(self._firm_ids),  # noqa: E712
                                   Visit.visited_on.between(year.start, year.end)).tuples()):
            self.visits[ent_id].add(day)
        self.contacted = {ent_id: set(days) for ent_id, days in self.visits.items()}
        for ent_id, day in (MeetingEnterprise.select(MeetingEnterprise.enterprise, Meeting.held_on)
                            .join(Meeting).where(Meeting.archived == False,  # noqa: E712
                                                 MeetingEnterprise.enterprise.in_(self._firm_ids),
                                                 Meeting.held_on.between(year.start, year.end)).tuples()):
            self.contacted.setdefault(ent_id, set()).add(day)

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
        parts = parts_of(self.year, month)
        # The month's meetings: those in its weeks (a week belongs to the month of its Thursday)
        # or its half-months — the same days the parts cover, so no meeting counts twice.
        span = cal.Period(parts[0].start, parts[-1].end)
        count = sum(1 for d in days if d in span)
        out = []
        for p in parts:
            n = sum(1 for d in days if d in p)
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

    def _ratio(self, rule, unit, period, month, target, wanted, hit):
        """Firms visited or contacted in `period`, as they stood at the end of `month` (or today):
        a month's figure does not change once the month is over. Its state is the period's as of
        that day, so a quarter still running at the month's end stays amber in that month."""
        month_end = cal.month_period(self.year, month).end
        as_of = min(month_end, self.today)
        firms = [f for f in self.firms[unit.id] if wanted(f) and f[1] <= as_of]
        done = sum(1 for f in firms if hit(f[0], as_of))
        if not firms:
            return Check(rule, "off", target, 0, 0, [], "没有适用的企业", period)
        met = 100 * done >= target * len(firms)
        judged_on = self.today if month_end >= period.end else as_of
        return Check(rule, cal.state(period, met, judged_on), target, done, len(firms), [],
                     f"{done}/{len(firms)} 家", period)

    def _key_quarterly(self, rule, unit, month, target):
        q = cal.quarter_of(self.year, month)
        return self._ratio(rule, unit, q, month, target, lambda f: f[2],
                           lambda ent, upto: any(q.start <= d <= upto for d in self.visits.get(ent, ())))

    def _coverage_yearly(self, rule, unit, month, target):
        y = cal.year_period(self.year)
        return self._ratio(rule, unit, y, month, target, lambda f: True,
                           lambda ent, upto: any(d <= upto for d in self.contacted.get(ent, ())))

    def _unionized_monthly(self, rule, unit, month, target):
        m = cal.month_period(self.year, month)
        return self._ratio(rule, unit, m, month, target, lambda f: f[3],
                           lambda ent, upto: any(m.start <= d <= upto for d in self.visits.get(ent, ())))

    # ---- the grid ---------------------------------------------------------------------------
    def grid_cell(self, unit, month: int) -> tuple[str, list[Check]]:
        """The 双沟通 of a unit in a month: both meeting rules (the district: its own rule)."""
        keys = ("district_third_thursday",) if unit.parent_id is None else MEETING_RULES
        checks = [self.check(k, unit, month) for k in keys]
        return combine(c.state for c in checks), checks
