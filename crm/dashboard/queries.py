"""工作概况: the figures of a scope (a unit and everything below it) for a period, each with the
list behind it, and 12-month trends. Grouped queries only (a fixed number per page).

Definitions (PRODUCT.md section 7):
- 在档企业: files not archived; 有效企业 (the denominators): also 经营状态 正常 and not 已注销/迁出;
- 已建会: 上级已批复 or 已取得工会法人资格; 建会率 = 已建会 ÷ 有效企业 (also for firms with ≥ 25 workers);
- 新建工会: 工会成立日期 in the period;
- 覆盖率 (this year): 有效企业 contacted (a visit or an enterprise meeting) since 1 January;
- 重点企业本季度走访: 区级重点企业 with a visit this quarter;
- field work in the period: meetings, 新入会人数 by group, 会员互助服务卡, trainings and attendees.
"""
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from peewee import fn

from crm.activities.models import ServiceActivity
from crm.compliance import calendar as cal
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import TARGET_GROUPS
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.meetings.models import Meeting, MeetingNewMembers
from crm.org.queries import subtree_ids
from crm.trainings.models import Training
from crm.visits.models import Visit

FOUNDED = tuple(stages.stages_with_status("founded"))
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
    f = Figures(unit, period, today)
    units = subtree(unit)
    files = Enterprise.select().where(Enterprise.org_unit.in_(units), Enterprise.archived == False)  # noqa: E712
    active = files.where(Enterprise.status == "normal", Enterprise.stage != "closed")
    f.files = files.count()
    f.active = active.count()
    f.unionized = active.where(Enterprise.stage.in_(FOUNDED)).count()
    f.large = active.where(Enterprise.employees >= 25).count()
    f.large_unionized = active.where(Enterprise.employees >= 25, Enterprise.stage.in_(FOUNDED)).count()
    f.new_unions = files.where(Enterprise.union_founded_on.between(period.start, period.end)).count()
    year_start = date(today.year, 1, 1)
    f.contacted_year = active.where(Enterprise.last_contact_on >= year_start).count()
    f.never = active.where(Enterprise.last_contact_on.is_null()).count()
    quarter = cal.quarter_of(today.year, today.month)
    keys = active.where(Enterprise.is_key == True)  # noqa: E712
    f.key_total = keys.count()
    visited = Visit.select(Visit.enterprise).where(Visit.archived == False,  # noqa: E712
                                                   Visit.visited_on.between(quarter.start, quarter.end))
    f.key_visited = keys.where(Enterprise.id.in_(visited)).count()
    f.by_stage = dict(files.select(Enterprise.stage, fn.COUNT(Enterprise.id)).group_by(Enterprise.stage).tuples())
    f.moves = dict(FoundingEvent.select(FoundingEvent.to_stage, fn.COUNT(FoundingEvent.id))
                   .join(Enterprise).where(Enterprise.org_unit.in_(units), Enterprise.archived == False,  # noqa: E712
                                           FoundingEvent.kind != "initial",
                                           FoundingEvent.occurred_on.between(period.start, period.end))
                   .group_by(FoundingEvent.to_stage).tuples())
    f.median_days = median_days(units)
    meetings = Meeting.select().where(Meeting.org_unit.in_(units), Meeting.archived == False,  # noqa: E712
                                      Meeting.held_on.between(period.start, period.end))
    counts = dict(meetings.select(Meeting.kind, fn.COUNT(Meeting.id)).group_by(Meeting.kind).tuples())
    f.staff_meetings, f.enterprise_meetings = counts.get("staff", 0), counts.get("enterprise", 0)
    f.cards = meetings.select(fn.COALESCE(fn.SUM(Meeting.cards), 0)).scalar() or 0
    f.new_members = dict(MeetingNewMembers.select(MeetingNewMembers.group, fn.SUM(MeetingNewMembers.count))
                         .where(MeetingNewMembers.meeting.in_(meetings.select(Meeting.id)))
                         .group_by(MeetingNewMembers.group).tuples())
    f.new_members = {k: int(v) for k, v in f.new_members.items() if v}
    f.activity_members = (ServiceActivity.select(fn.COALESCE(fn.SUM(ServiceActivity.new_members), 0))
                          .where(ServiceActivity.org_unit.in_(units), ServiceActivity.archived == False,  # noqa: E712
                                 ServiceActivity.held_on.between(period.start, period.end)).scalar() or 0)
    t = (Training.select(fn.COUNT(Training.id), fn.COALESCE(fn.SUM(Training.participants), 0))
         .where(Training.org_unit.in_(units), Training.archived == False,  # noqa: E712
                Training.held_on.between(period.start, period.end)).tuples().first())
    f.trainings, f.trainees = (t[0] or 0, int(t[1] or 0)) if t else (0, 0)
    f.visits = (Visit.select().join(Enterprise)
                .where(Enterprise.org_unit.in_(units), Visit.archived == False,  # noqa: E712
                       Visit.visited_on.between(period.start, period.end)).count())
    return f


def median_days(units) -> dict:
    """Median days a firm spent in each stage, over the stays that have ended. Each move ends a stay
    in its from-stage that began with the firm's previous move (or its 建档); moves are taken in the
    order they were recorded, and a stay is never negative (a move may be dated before the file was
    made, when it was back-filled)."""
    events = (FoundingEvent.select(FoundingEvent.enterprise, FoundingEvent.kind, FoundingEvent.from_stage,
                                   FoundingEvent.occurred_on)
              .join(Enterprise).where(Enterprise.org_unit.in_(units), Enterprise.archived == False)  # noqa: E712
              .order_by(FoundingEvent.enterprise, FoundingEvent.recorded_at, FoundingEvent.id).tuples())
    stays = defaultdict(list)
    began = {}
    for ent_id, kind, from_stage, day in events:
        if kind != "initial" and ent_id in began and from_stage:
            stays[from_stage].append(max(0, (day - began[ent_id]).days))
        began[ent_id] = day if kind != "initial" or ent_id not in began else began[ent_id]
    return {stage: statistics.median(days) for stage, days in stays.items()}


def trends(unit, today: date, months: int = 12) -> dict:
    """Per month over the last `months` months (oldest first): meetings by kind, new members,
    visits, new unions. [(label "YYYY-MM", value)] per series."""
    keys = cal.months_back(today.year, today.month, months)
    start = date(*keys[0], 1)
    units = subtree(unit)

    def month_key(day):
        return (day.year, day.month)

    staff, ent, members, visits, unions = Counter(), Counter(), Counter(), Counter(), Counter()
    for held_on, kind, n in (Meeting.select(Meeting.held_on, Meeting.kind, Meeting.new_members)
                             .where(Meeting.org_unit.in_(units), Meeting.archived == False,  # noqa: E712
                                    Meeting.held_on.between(start, today)).tuples()):
        (staff if kind == "staff" else ent)[month_key(held_on)] += 1
        members[month_key(held_on)] += n or 0
    for (day,) in (Visit.select(Visit.visited_on).join(Enterprise)
                   .where(Enterprise.org_unit.in_(units), Visit.archived == False,  # noqa: E712
                          Visit.visited_on.between(start, today)).tuples()):
        visits[month_key(day)] += 1
    for (day,) in (Enterprise.select(Enterprise.union_founded_on)
                   .where(Enterprise.org_unit.in_(units), Enterprise.archived == False,  # noqa: E712
                          Enterprise.union_founded_on.between(start, today)).tuples()):
        unions[month_key(day)] += 1

    def series(counter):
        return [(f"{y}-{m:02d}", counter.get((y, m), 0)) for y, m in keys]

    return {"staff": series(staff), "enterprise": series(ent), "members": series(members),
            "visits": series(visits), "unions": series(unions)}


def group_label(key):
    return TARGET_GROUPS.label(key)
