"""Reads of service activities. Every list starts from permissions.scoped() (an activity is in
scope when its organising unit is)."""
from peewee import JOIN

from crm.activities.models import ActivityEnterprise, ServiceActivity
from crm.fieldwork.ledger import LedgerArgs
from crm.fieldwork.links import linked_enterprises, linked_ids
from crm.meetings.models import OutreachPoint
from crm.org.models import OrgUnit
from crm.permissions import scoped


def scoped_activities(user):
    return scoped(ServiceActivity, user,
                  query=ServiceActivity.select(ServiceActivity, OrgUnit, OutreachPoint)
                  .join(OrgUnit, on=(ServiceActivity.org_unit == OrgUnit.id))
                  .switch(ServiceActivity)
                  .join(OutreachPoint, JOIN.LEFT_OUTER, on=(ServiceActivity.point == OutreachPoint.id)))


def ledger(user, a: LedgerArgs):
    query = a.filter(scoped_activities(user), ServiceActivity, ServiceActivity.held_on)
    if a.kind:  # several services in one column: ",haircut,cooling,"
        query = query.where(ServiceActivity.services.contains(f",{a.kind},"))
    if a.group:
        query = query.where(ServiceActivity.target_groups.contains(f",{a.group},"))
    return query


def point_choices(user, include=None):
    """Active outreach points of the user's scope for the activity form ("" = none)."""
    points = list(scoped(OutreachPoint, user).select(OutreachPoint.id, OutreachPoint.name)
                  .where(OutreachPoint.archived == False).order_by(OutreachPoint.name))  # noqa: E712
    choices = [("", "（不选）")] + [(str(p.id), p.name) for p in points]
    if include is not None and str(include.id) not in {c[0] for c in choices}:
        choices.append((str(include.id), include.name))
    return choices


def enterprises_of(activity_ids, user) -> dict:
    return linked_enterprises(ActivityEnterprise.activity, activity_ids, user)


def enterprise_ids(activity) -> list[int]:
    return linked_ids(ActivityEnterprise.activity, activity.id)
