"""Reads of service activities. Every list starts from permissions.scoped() (an activity is in
scope when its organising unit is)."""
from peewee import JOIN

from crm.activities.models import ActivityEnterprise, ServiceActivity
from crm.enterprises.models import Enterprise
from crm.fieldwork.ledger import LedgerArgs
from crm.meetings.models import OutreachPoint
from crm.org.models import OrgUnit
from crm.permissions import scoped, visible_enterprises


def scoped_activities(user):
    return scoped(ServiceActivity, user,
                  query=ServiceActivity.select(ServiceActivity, OrgUnit, OutreachPoint)
                  .join(OrgUnit, on=(ServiceActivity.org_unit == OrgUnit.id))
                  .switch(ServiceActivity)
                  .join(OutreachPoint, JOIN.LEFT_OUTER, on=(ServiceActivity.point == OutreachPoint.id)))


def ledger(user, a: LedgerArgs):
    query = scoped_activities(user).where(ServiceActivity.archived == (a.archived == "1"))
    units = a.unit_ids()
    if units is not None:
        query = query.where(ServiceActivity.org_unit.in_(units))
    query = a.dates(query, ServiceActivity.held_on)
    if a.kind:  # several services in one column: ",haircut,cooling,"
        query = query.where(ServiceActivity.services.contains(f",{a.kind},"))
    if a.group:
        query = query.where(ServiceActivity.target_groups.contains(f",{a.group},"))
    if a.staff:
        query = query.where(ServiceActivity.created_by == a.staff)
    return query.order_by(ServiceActivity.held_on.desc(), ServiceActivity.id.desc())


def point_choices(user, include=None):
    """Active outreach points of the user's scope for the activity form ("" = none)."""
    points = list(scoped(OutreachPoint, user).select(OutreachPoint.id, OutreachPoint.name)
                  .where(OutreachPoint.archived == False).order_by(OutreachPoint.name))  # noqa: E712
    choices = [("", "（不选）")] + [(str(p.id), p.name) for p in points]
    if include is not None and str(include.id) not in {c[0] for c in choices}:
        choices.append((str(include.id), include.name))
    return choices


def enterprises_of(activity_ids, user) -> dict:
    """{record id: [Enterprise(id, name)]} of the served enterprises the user may see, in one
    query (names of files outside the user's scope are not shown)."""
    out = {}
    ids = list(activity_ids)
    if not ids:
        return out
    rows = (ActivityEnterprise.select(ActivityEnterprise.activity, Enterprise.id, Enterprise.name)
            .join(Enterprise, on=(ActivityEnterprise.enterprise == Enterprise.id))
            .where(ActivityEnterprise.activity.in_(ids), visible_enterprises(user)).order_by(ActivityEnterprise.id))
    for row in rows:
        out.setdefault(row.activity_id, []).append(row.enterprise)
    return out


def enterprise_ids(activity) -> list[int]:
    return [r.enterprise_id for r in ActivityEnterprise.select(ActivityEnterprise.enterprise)
            .where(ActivityEnterprise.activity == activity.id).order_by(ActivityEnterprise.id)]
