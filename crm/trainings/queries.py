"""Reads of trainings. Every list starts from permissions.scoped() (a training is in scope when
its organising unit is)."""
from crm.fieldwork.ledger import LedgerArgs
from crm.fieldwork.links import linked_enterprises, linked_ids
from crm.org.models import OrgUnit
from crm.permissions import scoped
from crm.trainings.models import Training, TrainingEnterprise


def scoped_trainings(user):
    return scoped(Training, user, query=Training.select(Training, OrgUnit)
                  .join(OrgUnit, on=(Training.org_unit == OrgUnit.id)))


def ledger(user, a: LedgerArgs):
    query = a.filter(scoped_trainings(user), Training, Training.held_on)
    return query.where(Training.category == a.kind) if a.kind else query


def enterprises_of(training_ids, user) -> dict:
    return linked_enterprises(TrainingEnterprise.training, training_ids, user)


def enterprise_ids(training) -> list[int]:
    return linked_ids(TrainingEnterprise.training, training.id)
