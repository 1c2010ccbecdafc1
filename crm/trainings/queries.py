"""Reads of trainings. Every list starts from permissions.scoped() (a training is in scope when
its organising unit is)."""
from crm.enterprises.models import Enterprise
from crm.fieldwork.ledger import LedgerArgs
from crm.org.models import OrgUnit
from crm.permissions import scoped, visible_enterprises
from crm.trainings.models import Training, TrainingEnterprise


def scoped_trainings(user):
    return scoped(Training, user, query=Training.select(Training, OrgUnit)
                  .join(OrgUnit, on=(Training.org_unit == OrgUnit.id)))


def ledger(user, a: LedgerArgs):
    query = scoped_trainings(user).where(Training.archived == (a.archived == "1"))
    units = a.unit_ids()
    if units is not None:
        query = query.where(Training.org_unit.in_(units))
    query = a.dates(query, Training.held_on)
    if a.kind:
        query = query.where(Training.category == a.kind)
    if a.staff:
        query = query.where(Training.created_by == a.staff)
    return query.order_by(Training.held_on.desc(), Training.id.desc())


def enterprises_of(training_ids, user) -> dict:
    """{record id: [Enterprise(id, name)]} of the served enterprises the user may see, in one
    query (names of files outside the user's scope are not shown)."""
    out = {}
    ids = list(training_ids)
    if not ids:
        return out
    rows = (TrainingEnterprise.select(TrainingEnterprise.training, Enterprise.id, Enterprise.name)
            .join(Enterprise, on=(TrainingEnterprise.enterprise == Enterprise.id))
            .where(TrainingEnterprise.training.in_(ids), visible_enterprises(user)).order_by(TrainingEnterprise.id))
    for row in rows:
        out.setdefault(row.training_id, []).append(row.enterprise)
    return out


def enterprise_ids(training) -> list[int]:
    return [r.enterprise_id for r in TrainingEnterprise.select(TrainingEnterprise.enterprise)
            .where(TrainingEnterprise.training == training.id).order_by(TrainingEnterprise.id)]
