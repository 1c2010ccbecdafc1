"""Reads of meetings and outreach points. Every list starts from permissions.scoped() (a meeting
or a point is in scope when its org unit is)."""
from peewee import JOIN, fn

from crm.enterprises.models import Enterprise
from crm.fieldwork.ledger import LedgerArgs
from crm.meetings.models import Meeting, MeetingEnterprise, MeetingNewMembers, OutreachPoint
from crm.org.models import OrgUnit
from crm.permissions import scoped, visible_enterprises


def scoped_meetings(user):
    query = (Meeting.select(Meeting, OrgUnit, OutreachPoint)
             .join(OrgUnit, on=(Meeting.org_unit == OrgUnit.id))
             .switch(Meeting).join(OutreachPoint, JOIN.LEFT_OUTER, on=(Meeting.point == OutreachPoint.id)))
    return scoped(Meeting, user, query=query)


def ledger(user, a: LedgerArgs):
    query = a.filter(scoped_meetings(user), Meeting, Meeting.held_on)
    if a.kind:
        query = query.where(Meeting.kind == a.kind)
    if a.group:  # aimed at the group, or enrolled some of it (the dashboard's 新入会人数 by group)
        enrolled = MeetingNewMembers.select(MeetingNewMembers.meeting).where(
            MeetingNewMembers.group == a.group, MeetingNewMembers.count > 0)
        query = query.where(Meeting.target_groups.contains(f",{a.group},") | Meeting.id.in_(enrolled))
    return query


def group_counts(meeting_ids, paper=False) -> dict:
    """{meeting id: {group: count}} in one query (`paper`: typed from paper forms only)."""
    out = {}
    ids = list(meeting_ids)
    if not ids:
        return out
    for meeting_id, group, count in (MeetingNewMembers.select(MeetingNewMembers.meeting, MeetingNewMembers.group,
                                                              MeetingNewMembers.paper if paper
                                                              else MeetingNewMembers.count)
                                     .where(MeetingNewMembers.meeting.in_(ids)).tuples()):
        out.setdefault(meeting_id, {})[group] = count
    return out


def participant_names(meeting_ids, user) -> dict:
    """{meeting id: [names of the participants the user may see]} in one query."""
    out = {}
    ids = list(meeting_ids)
    if not ids:
        return out
    rows = (MeetingEnterprise.select(MeetingEnterprise.meeting, Enterprise.name)
            .join(Enterprise, on=(MeetingEnterprise.enterprise == Enterprise.id))
            .where(MeetingEnterprise.meeting.in_(ids), visible_enterprises(user))
            .order_by(MeetingEnterprise.id).tuples())
    for meeting_id, name in rows:
        out.setdefault(meeting_id, []).append(name)
    return out


def participants(meeting, user) -> list:
    """The participating enterprises the user may see (others of the meeting stay unnamed)."""
    return list(Enterprise.select(Enterprise, OrgUnit)
                .join(OrgUnit, on=(Enterprise.org_unit == OrgUnit.id))
                .switch(Enterprise)
                .join(MeetingEnterprise, on=(MeetingEnterprise.enterprise == Enterprise.id))
                .where(MeetingEnterprise.meeting == meeting.id, visible_enterprises(user))
                .order_by(MeetingEnterprise.id))


# ---- 固定点位 -----------------------------------------------------------------------------------

def point_choices(user, include=None):
    """(id, name) of the active points in scope, for the meeting form; a meeting keeps its own."""
    points = list(scoped(OutreachPoint, user)
                  .where(OutreachPoint.archived == False).order_by(OutreachPoint.name))  # noqa: E712
    choices = [("", "（不在固定点位）")] + [(p.id, p.name) for p in points]
    if include is not None and include.id not in {p.id for p in points}:
        choices.append((include.id, include.name + "（已归档）"))
    return choices


def points(user, archived=False):
    """The points of the scope with the number of (current) meetings held there."""
    held = (Meeting.select(Meeting.point, fn.COUNT(Meeting.id).alias("n"))
            .where(Meeting.archived == False, Meeting.point.is_null(False))  # noqa: E712
            .group_by(Meeting.point).alias("held"))
    query = (OutreachPoint.select(OutreachPoint, OrgUnit, fn.COALESCE(held.c.n, 0).alias("meeting_count"))
             .join(OrgUnit, on=(OutreachPoint.org_unit == OrgUnit.id))
             .switch(OutreachPoint).join(held, JOIN.LEFT_OUTER, on=(held.c.point_id == OutreachPoint.id)))
    return list(scoped(OutreachPoint, user, query=query)
                .where(OutreachPoint.archived == archived).order_by(OrgUnit.path, OutreachPoint.name))


def meetings_at(point, user, limit=20):
    return list(scoped_meetings(user)
                .where(Meeting.point == point.id, Meeting.archived == False)  # noqa: E712
                .order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit))
