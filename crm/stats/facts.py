"""What the aggregates count, computed from the records.

Two sources add up to a unit's figures (crm/stats/models.UnitStat, per org unit and month):

- each firm's contribution (FirmStat, one row per firm and year, and one for the present),
  counted in the firm's unit — of a year, per month: visits (not archived), new_unions
  (工会成立日期; files not archived), moves:<to stage> (founding moves of files not archived,
  建档 excluded) and, among active files (not archived, 经营状态 正常, not 已注销/迁出) filed
  (建档) by the month's end: active, contacted (a visit or a meeting taken part in since
  1 January), key and key_visited (区级重点企业 visited since the quarter began), founded and
  founded_visited (已建会, visited in the month); of the present (month 0): files, stage:<s>,
  active, unionized, large (≥ 25 workers), large_unionized, never (active, never contacted), key,
  and the days the file spent in each founding stage (StageStay, for the medians);
- each unit record's contribution, counted in the unit that holds it: meetings:<kind>, cards,
  meeting_members and members:<group> (新入会), activity_members, trainings, trainees; and a
  sign-up at an outreach point outside any meeting, once confirmed, when it made its member:
  point_members and members:<group>.
"""
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime

from peewee import fn

from crm.activities.models import ServiceActivity
from crm.common.timeutil import to_local
from crm.compliance import calendar as cal
from crm.enterprises.models import Enterprise
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.meetings.models import Meeting, MeetingEnterprise, MeetingNewMembers
from crm.members.models import SignUp
from crm.trainings.models import Training
from crm.visits.models import Visit

FOUNDED = tuple(stages.stages_with_status("founded"))
PRESENT = 0
STAYS = "stays"


def ym(day: date) -> int:
    return day.year * 100 + day.month


def as_date(value):
    if isinstance(value, datetime):
        return to_local(value).date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def _active(status, stage, archived):
    return not archived and status == "normal" and stage != "closed"


# ---- firms ---------------------------------------------------------------------------------

def firm_years(firms, year: int) -> dict:
    """{firm id: (org unit id, data)} for `firms` (ids or a select of ids) and one year; data is
    {metric: [12 monthly values]}, nonzero metrics only."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    rows = list(Enterprise.select(Enterprise.id, Enterprise.org_unit, Enterprise.created_at, Enterprise.is_key,
                                  Enterprise.stage, Enterprise.status, Enterprise.archived,
                                  Enterprise.union_founded_on)
                .where(Enterprise.id.in_(firms)).tuples())
    if not rows:
        return {}
    filed_on = {e: as_date(d) for e, d in
                FoundingEvent.select(FoundingEvent.enterprise, FoundingEvent.occurred_on)
                .where(FoundingEvent.kind == "initial", FoundingEvent.enterprise.in_(firms)).tuples()}
    visits = defaultdict(Counter)  # firm → {day: visits}
    for ent_id, day, n in (Visit.select(Visit.enterprise, Visit.visited_on, fn.COUNT(Visit.id))
                           .where(Visit.archived == False, Visit.enterprise.in_(firms),  # noqa: E712
                                  Visit.visited_on.between(start, end))
                           .group_by(Visit.enterprise, Visit.visited_on).tuples()):
        visits[ent_id][as_date(day)] += n
    met = {e: as_date(d) for e, d in
           MeetingEnterprise.select(MeetingEnterprise.enterprise, fn.MIN(Meeting.held_on))
           .join(Meeting).where(Meeting.archived == False, MeetingEnterprise.enterprise.in_(firms),  # noqa: E712
                                Meeting.held_on.between(start, end))
           .group_by(MeetingEnterprise.enterprise).tuples()}
    moves = defaultdict(list)
    for ent_id, day, stage in (FoundingEvent.select(FoundingEvent.enterprise, FoundingEvent.occurred_on,
                                                    FoundingEvent.to_stage)
                               .where(FoundingEvent.enterprise.in_(firms), FoundingEvent.kind != "initial",
                                      FoundingEvent.occurred_on.between(start, end)).tuples()):
        moves[ent_id].append((as_date(day), stage))
    ends = [cal.month_period(year, m).end for m in range(1, 13)]
    quarter_starts = [cal.quarter_of(year, m).start for m in range(1, 13)]
    out = {}
    for ent_id, unit_id, created_at, is_key, stage, status, archived, founded_on in rows:
        data = defaultdict(lambda: [0] * 12)
        days = visits.get(ent_id, {})
        for day, n in days.items():
            data["visits"][day.month - 1] += n
        if not archived:
            founded_on = as_date(founded_on)
            if founded_on and start <= founded_on <= end:
                data["new_unions"][founded_on.month - 1] += 1
            for day, to_stage in moves.get(ent_id, ()):
                data["moves:" + to_stage][day.month - 1] += 1
        if _active(status, stage, archived):
            filed = filed_on.get(ent_id) or as_date(created_at)
            first = min([*days, *([met[ent_id]] if ent_id in met else [])], default=None)
            founded = stage in FOUNDED
            for i, month_end in enumerate(ends):
                if filed > month_end:
                    continue
                data["active"][i] = 1
                if first is not None and first <= month_end:
                    data["contacted"][i] = 1
                if is_key:
                    data["key"][i] = 1
                    if any(quarter_starts[i] <= d <= month_end for d in days):
                        data["key_visited"][i] = 1
                if founded:
                    data["founded"][i] = 1
                    if any(d.month == i + 1 for d in days):
                        data["founded_visited"][i] = 1
        out[ent_id] = (unit_id, dict(data))
    return out


def firm_present(firms) -> dict:
    """{firm id: (org unit id, data)}: the file as it stands ({metric: 1}) and its ended stays
    in each stage ("stays": [[stage, days], ...]). Each move ends a stay in its from-stage that
    began with the firm's previous move (or its 建档); moves are taken in the order they were
    recorded, and a stay is never negative (a move may be dated before the file was made, when it
    was back-filled)."""
    rows = list(Enterprise.select(Enterprise.id, Enterprise.org_unit, Enterprise.stage, Enterprise.status,
                                  Enterprise.archived, Enterprise.is_key, Enterprise.employees,
                                  Enterprise.last_contact_on)
                .where(Enterprise.id.in_(firms)).tuples())
    stays = defaultdict(list)
    began = {}
    for ent_id, kind, from_stage, day in (
            FoundingEvent.select(FoundingEvent.enterprise, FoundingEvent.kind, FoundingEvent.from_stage,
                                 FoundingEvent.occurred_on)
            .where(FoundingEvent.enterprise.in_(firms))
            .order_by(FoundingEvent.enterprise, FoundingEvent.recorded_at, FoundingEvent.id).tuples()):
        day = as_date(day)
        if kind != "initial" and ent_id in began and from_stage:
            stays[ent_id].append([from_stage, max(0, (day - began[ent_id]).days)])
        began[ent_id] = day if kind != "initial" or ent_id not in began else began[ent_id]
    out = {}
    for ent_id, unit_id, stage, status, archived, is_key, employees, last_contact in rows:
        if archived:
            out[ent_id] = (unit_id, {})
            continue
        data = {"files": 1, "stage:" + stage: 1}
        if _active(status, stage, archived):
            founded, large = stage in FOUNDED, (employees or 0) >= 25
            flags = {"active": True, "unionized": founded, "large": large, "large_unionized": large and founded,
                     "never": last_contact is None, "key": bool(is_key)}
            data.update({k: 1 for k, v in flags.items() if v})
        if stays.get(ent_id):
            data[STAYS] = stays[ent_id]
        out[ent_id] = (unit_id, data)
    return out


def contribution(cell: int, data: dict) -> Counter:
    """{(month, metric): value} of a firm's data for a cell (a year, or PRESENT)."""
    out = Counter()
    for metric, value in data.items():
        if metric == STAYS:
            continue
        if cell == PRESENT:
            out[(PRESENT, metric)] += value
        else:
            for i, v in enumerate(value):
                if v:
                    out[(cell * 100 + i + 1, metric)] += v
    return out


def stay_counts(data: dict) -> Counter:
    return Counter((stage, days) for stage, days in data.get(STAYS, ()))


# ---- unit records ---------------------------------------------------------------------------

def record_contribution(record) -> Counter:
    """{(org unit, month, metric): value} a meeting, training or service activity adds (nothing
    once archived). Visits count in their firm's contribution."""
    out = Counter()
    if isinstance(record, SignUp):
        if _point_member(record.point_id, record.meeting_id, record.activity_id, record.counted, record.is_new):
            key = (record.org_unit_id, ym(as_date(record.day)))
            out[(*key, "point_members")] += 1
            out[(*key, "members:" + record.group)] += 1
        return out
    if record is None or getattr(record, "archived", True):
        return out
    if isinstance(record, Meeting):
        key = (record.org_unit_id, ym(as_date(record.held_on)))
        out[(*key, "meetings:" + record.kind)] += 1
        out[(*key, "cards")] += record.cards or 0
        out[(*key, "meeting_members")] += record.new_members or 0
        for group, n in (MeetingNewMembers.select(MeetingNewMembers.group, MeetingNewMembers.count)
                         .where(MeetingNewMembers.meeting == record.id).tuples()):
            out[(*key, "members:" + group)] += n or 0
    elif isinstance(record, Training):
        key = (record.org_unit_id, ym(as_date(record.held_on)))
        out[(*key, "trainings")] += 1
        out[(*key, "trainees")] += record.participants or 0
    elif isinstance(record, ServiceActivity):
        out[(record.org_unit_id, ym(as_date(record.held_on)), "activity_members")] += record.new_members or 0
    return +out


def _point_member(point_id, meeting_id, activity_id, counted, is_new) -> bool:
    return bool(point_id and not meeting_id and not activity_id and counted and is_new)


def _point_signups(unit_id, start, end):
    """(day, group, n) of the confirmed sign-ups at a unit's points outside meetings that made
    their members."""
    return (SignUp.select(SignUp.day, SignUp.group, fn.COUNT(SignUp.id))
            .where(SignUp.org_unit == unit_id, SignUp.point.is_null(False), SignUp.meeting.is_null(),
                   SignUp.activity.is_null(), SignUp.counted == True, SignUp.is_new == True,  # noqa: E712
                   SignUp.day.between(start, end))
            .group_by(SignUp.day, SignUp.group).tuples())


def unit_records(unit_id: int, year: int) -> Counter:
    """{(month, metric): value} of the meetings, trainings and activities a unit holds in a year."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    out = Counter()

    def add(day, metric, n):
        if n:
            out[(ym(as_date(day)), metric)] += int(n)

    for day, kind, n, cards, members in (
            Meeting.select(Meeting.held_on, Meeting.kind, fn.COUNT(Meeting.id), fn.SUM(Meeting.cards),
                           fn.SUM(Meeting.new_members))
            .where(Meeting.org_unit == unit_id, Meeting.archived == False,  # noqa: E712
                   Meeting.held_on.between(start, end))
            .group_by(Meeting.held_on, Meeting.kind).tuples()):
        add(day, "meetings:" + kind, n)
        add(day, "cards", cards)
        add(day, "meeting_members", members)
    for day, group, n in (MeetingNewMembers.select(Meeting.held_on, MeetingNewMembers.group,
                                                   fn.SUM(MeetingNewMembers.count))
                          .join(Meeting).where(Meeting.org_unit == unit_id, Meeting.archived == False,  # noqa: E712
                                               Meeting.held_on.between(start, end))
                          .group_by(Meeting.held_on, MeetingNewMembers.group).tuples()):
        add(day, "members:" + group, n)
    for day, n in (ServiceActivity.select(ServiceActivity.held_on, fn.SUM(ServiceActivity.new_members))
                   .where(ServiceActivity.org_unit == unit_id, ServiceActivity.archived == False,  # noqa: E712
                          ServiceActivity.held_on.between(start, end))
                   .group_by(ServiceActivity.held_on).tuples()):
        add(day, "activity_members", n)
    for day, group, n in _point_signups(unit_id, start, end):
        add(day, "point_members", n)
        add(day, "members:" + group, n)
    for day, n, people in (Training.select(Training.held_on, fn.COUNT(Training.id), fn.SUM(Training.participants))
                           .where(Training.org_unit == unit_id, Training.archived == False,  # noqa: E712
                                  Training.held_on.between(start, end))
                           .group_by(Training.held_on).tuples()):
        add(day, "trainings", n)
        add(day, "trainees", people)
    return out


def median_of(histogram: Counter) -> float | None:
    """The median of a {days: count} histogram (the mean of the two middle values when even)."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = ((total - 1) // 2, total // 2)
    found, seen = [], 0
    for days in sorted(histogram):
        n = histogram[days]
        for w in wanted:
            if seen <= w < seen + n:
                found.append(days)
        seen += n
    return statistics.mean(found)
