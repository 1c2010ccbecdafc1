"""工作概况: the figures of a scope (a unit and everything below it) for a period, each with the
list behind it, and 12-month trends, read from the aggregates of crm/stats (a fixed number of
queries over a few thousand rows, whatever the number of records).

Definitions (docs/rules.md):
- 在档企业: files not archived; 有效企业 (the denominators): also 经营状态 正常 and not 已注销/迁出;
- 已建会: 上级已批复 or 已取得工会法人资格; 建会率 = 已建会 ÷ 有效企业 (also for firms with ≥ 25 workers);
- 新建工会: 工会成立日期 in the period;
- 覆盖率 (this year): 有效企业 contacted (a visit or an enterprise meeting) since 1 January;
- 重点企业本季度走访: 区级重点企业 with a visit this quarter;
- field work in the period: meetings, 新入会人数 by group, 会员互助服务卡, trainings and attendees.
"""
from dataclasses import dataclass, field
from datetime import date

from crm.compliance import calendar as cal
from crm.fieldwork.choices import TARGET_GROUPS
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids
from crm.permissions import in_scope, sees_district
from crm.stats import facts as stats_facts
from crm.stats import queries as stats

PERIODS = (("month", "本月"), ("quarter", "本季度"), ("year", "本年"))


def period_of(kind: str, today: date, year: int | None = None, month: int | None = None) -> cal.Period:
    """The chosen period, ending no later than today."""
    year, month = year or today.year, month or today.month
    if kind == "month":
        p = cal.month_period(year, month)
    elif kind == "quarter":
        p = cal.quarter_of(year, month)
    else:
        p = cal.year_period(year)
    return cal.Period(p.start, min(p.end, today)) if p.start <= today else p


subtree = subtree_ids  # the scope a dashboard figure counts


def unit_in_scope(user, unit_id: int | None):
    """The unit `unit_id` when it exists and lies in the user's scope, else None."""
    unit = OrgUnit.get_or_none(OrgUnit.id == unit_id) if unit_id else None
    return unit if unit is not None and in_scope(user, unit) else None


def home_unit(user):
    """The unit the figures count when none is chosen: the user's own (the district for admins)."""
    if sees_district(user):
        return OrgUnit.get_or_none(OrgUnit.parent.is_null()) or user.org_unit
    return user.org_unit


def month_asked(year: int | None, month: int | None, today: date) -> bool:
    """A month the figures may be asked for: from 2000 on, not after this month."""
    return (year is not None and month is not None and 2000 <= year <= today.year and 1 <= month <= 12
            and (year, month) <= (today.year, today.month))


@dataclass
class Figures:
    unit: object
    period: cal.Period
    today: date
    files: int = 0
    active: int = 0
    unionized: int = 0
    large: int = 0
    large_unionized: int = 0
    new_unions: int = 0
    contacted_year: int = 0
    never: int = 0
    key_total: int = 0
    key_visited: int = 0
    by_stage: dict = field(default_factory=dict)
    moves: dict = field(default_factory=dict)
    median_days: dict = field(default_factory=dict)
    staff_meetings: int = 0
    enterprise_meetings: int = 0
    new_members: dict = field(default_factory=dict)
    activity_members: int = 0
    cards: int = 0
    trainings: int = 0
    trainees: int = 0
    visits: int = 0

    @staticmethod
    def rate(part, whole):
        return None if not whole else round(100 * part / whole, 1)

    @property
    def union_rate(self):
        return self.rate(self.unionized, self.active)

    @property
    def large_rate(self):
        return self.rate(self.large_unionized, self.large)

    @property
    def coverage(self):
        return self.rate(self.contacted_year, self.active)

    @property
    def key_rate(self):
        return self.rate(self.key_visited, self.key_total)

    @property
    def members_total(self):
        return sum(self.new_members.values())


def figures(unit, period: cal.Period, today: date) -> Figures:
    """Read from the aggregates (crm/stats): the files as they stand, the field work of the
    period's months, this year's coverage and this quarter's key-firm visits as of this month."""
    f = Figures(unit, period, today)
    units = subtree(unit)
    now = stats.present(units)
    f.files, f.active, f.unionized = now["files"], now["active"], now["unionized"]
    f.large, f.large_unionized = now["large"], now["large_unionized"]
    f.never, f.key_total = now["never"], now["key"]
    f.by_stage = {k.split(":", 1)[1]: v for k, v in now.items() if k.startswith("stage:")}
    this_month = stats_facts.ym(today)
    current = stats.sums(units, this_month, this_month)
    f.contacted_year, f.key_visited = current["contacted"], current["key_visited"]
    done = stats.sums(units, stats_facts.ym(period.start), stats_facts.ym(period.end))
    f.new_unions = done["new_unions"]
    f.moves = {k.split(":", 1)[1]: v for k, v in done.items() if k.startswith("moves:") and v}
    f.median_days = stats.median_days(units)
    f.staff_meetings, f.enterprise_meetings = done["meetings:staff"], done["meetings:enterprise"]
    f.cards = done["cards"]
    f.new_members = {k.split(":", 1)[1]: v for k, v in done.items() if k.startswith("members:") and v}
    f.activity_members = done["activity_members"]
    f.trainings, f.trainees = done["trainings"], done["trainees"]
    f.visits = done["visits"]
    return f


def trends(unit, today: date, months: int = 12) -> dict:
    """Per month over the last `months` months (oldest first): meetings by kind, new members,
    visits, new unions. [(label "YYYY-MM", value)] per series."""
    keys = cal.months_back(today.year, today.month, months)
    first, last = keys[0][0] * 100 + keys[0][1], keys[-1][0] * 100 + keys[-1][1]
    cells = stats.by_month(subtree(unit), first, last)

    def series(*metrics):
        return [(f"{y}-{m:02d}", sum(cells.get((y * 100 + m, metric), 0) for metric in metrics)) for y, m in keys]

    return {"staff": series("meetings:staff"), "enterprise": series("meetings:enterprise"),
            "members": series("meeting_members", "point_members"), "visits": series("visits"), "unions": series("new_unions")}


def group_label(key):
    return TARGET_GROUPS.label(key)
