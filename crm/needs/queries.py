"""Reads of needs: scoped by the unit that holds them."""
from peewee import JOIN

from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import NEED_RESOLVED
from crm.fieldwork.ledger import LedgerArgs
from crm.needs.models import Need
from crm.org.models import OrgUnit
from crm.permissions import scoped


def ledger(user, a: LedgerArgs, open_only=False):
    query = scoped(Need, user, query=Need.select(Need, Enterprise, OrgUnit)
                   .join(Enterprise, JOIN.LEFT_OUTER, on=(Need.enterprise == Enterprise.id))
                   .switch(Need).join(OrgUnit, on=(Need.org_unit == OrgUnit.id)))
    query = a.filter(query, Need, Need.raised_on)
    if a.kind:
        query = query.where(Need.category == a.kind)
    if a.status:
        query = query.where(Need.status == a.status)
    elif open_only:
        query = query.where(Need.status != NEED_RESOLVED)
    return query


def open_for(ent, limit=50):
    """The file's needs that are not resolved yet."""
    return list(Need.select().where(Need.enterprise == ent.id, Need.status != NEED_RESOLVED,
                                    Need.archived == False)  # noqa: E712
                .order_by(Need.raised_on.desc(), Need.id.desc()).limit(limit))
