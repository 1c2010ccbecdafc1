"""月度通报: for a month and a scope — the 双沟通 compliance table, the ranking of units (meetings,
coverage, new unions, new members) and the founding moves of the month. The same data makes the
page, the printable page and the .xlsx."""
from dataclasses import dataclass, field
from datetime import date

from peewee import JOIN

from crm.auth.models import User
from crm.compliance import calendar as cal
from crm.compliance.evaluate import Evaluator, district_unit, town_units
from crm.enterprises.models import Enterprise
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids
from crm.permissions import in_scope
from crm.stats import queries as stats

RANK_KEYS = (("meetings", "沟通会场次"), ("coverage", "今年覆盖率"), ("new_unions", "新建工会"),
             ("new_members", "新入会人数"))


@dataclass
class UnitRow:
    unit: OrgUnit
    checks: dict                      # rule key → Check
    meetings: int = 0                 # 职工 + 企业沟通会 in the month
    staff: int = 0
    enterprise: int = 0
    contacted: int = 0                # since 1 January, up to the month's end
    active: int = 0
    new_unions: int = 0
    new_members: int = 0
    ranks: dict = field(default_factory=dict)

    @property
    def coverage(self):
        return round(100 * self.contacted / self.active, 1) if self.active else None


@dataclass
class Move:
    day: date
    enterprise: str
    unit: str
    from_label: str
    to_label: str
    who: str
    note: str


@dataclass
class Report:
    year: int
    month: int
    scope: OrgUnit
    today: date
    district: list            # the district's own check (when in scope)
    rows: list                # UnitRow per town-level unit
    moves: list               # the month's founding moves (the first `moves_limit` on the page)
    moves_total: int = 0
    moves_by_stage: dict = field(default_factory=dict)   # to stage → moves in the scope

    @property
    def with_unionized(self):
        """Some unit chose the monthly visits of its unionized firms: the report shows them."""
        return any(r.checks["unionized_monthly"].state != "off" for r in self.rows)

    @property
    def title(self):
        return f"{self.year}年{self.month}月“一企一档”工作月度通报"

    @property
    def period(self):
        return cal.month_period(self.year, self.month)

    def total(self, name):
        return sum(getattr(r, name) or 0 for r in self.rows)

    @property
    def total_coverage(self):
        active = self.total("active")
        return round(100 * self.total("contacted") / active, 1) if active else None


def build(user, scope: OrgUnit, year: int, month: int, today: date, moves_limit: int | None = None) -> Report:
    units = [u for u in town_units(user) if u.path.startswith(scope.path)] or [scope]
    root = district_unit()
    with_district = root is not None and scope.id == root.id and in_scope(user, root)
    ev = Evaluator(units + ([root] if with_district else []), year, today, months=[month])
    period = cal.month_period(year, month)
    key = year * 100 + month
    rows = []
    for unit in units:
        checks = {c.rule.key: c for c in ev.month(unit, month)}
        row = UnitRow(unit, checks)
        row.staff, row.enterprise = checks["staff_weekly"].count, checks["enterprise_half_month"].count
        if checks["staff_weekly"].state == "off":
            row.staff = sum(1 for d in ev.staff[unit.id] if d in period)
        if checks["enterprise_half_month"].state == "off":
            row.enterprise = sum(1 for d in ev.enterprise[unit.id] if d in period)
        row.meetings = row.staff + row.enterprise
        facts = ev.facts[unit.id]
        row.active, row.contacted = facts[(key, "active")], facts[(key, "contacted")]
        row.new_members = facts[(key, "meeting_members")] + facts[(key, "point_members")]
        row.new_unions = facts[(key, "new_unions")]
        rows.append(row)
    _rank(rows)
    district = [ev.check("district_third_thursday", root, month)] if with_district else []
    in_scope_moves = stats.sums(subtree_ids(scope), key, key)
    by_stage = {s.key: in_scope_moves["moves:" + s.key] for s in stages.STAGES + stages.SIDE_STATES
                if in_scope_moves["moves:" + s.key]}
    moves = _moves(scope, period, moves_limit)
    return Report(year, month, scope, today, district, rows, moves, sum(by_stage.values()), by_stage)


def _rank(rows):
    """Competition ranking (1, 2, 2, 4) per figure, highest first; a unit without the figure last."""
    for key, _ in RANK_KEYS:
        values = sorted((getattr(r, key) for r in rows if getattr(r, key) is not None), reverse=True)
        for r in rows:
            value = getattr(r, key)
            r.ranks[key] = values.index(value) + 1 if value is not None else None


def _moves(scope, period, limit=None):
    """The moves of the month in the scope, in date order (the first `limit`)."""
    units = subtree_ids(scope)
    query = (FoundingEvent.select(FoundingEvent.occurred_on, Enterprise.name, OrgUnit.name,
                                  FoundingEvent.from_stage, FoundingEvent.to_stage, User.name, FoundingEvent.note)
             .join(Enterprise).join(OrgUnit).switch(FoundingEvent).join(User, JOIN.LEFT_OUTER,
                                                                       on=(FoundingEvent.user == User.id))
             .where(Enterprise.archived == False,  # noqa: E712
                    FoundingEvent.kind != "initial", FoundingEvent.occurred_on.between(period.start, period.end))
             .order_by(FoundingEvent.occurred_on, FoundingEvent.id))
    if scope.parent_id is not None:  # the district's are all: read in date order, not firm by firm
        query = query.where(Enterprise.org_unit.in_(units))
    if limit is not None:
        query = query.limit(limit)
    out = []
    for day, firm, unit, from_stage, to_stage, who, note in query.tuples():
        out.append(Move(day, firm, unit, stages.label(from_stage), stages.label(to_stage), who or "", note))
    return out
