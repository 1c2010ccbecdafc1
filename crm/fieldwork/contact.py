"""Contact with an enterprise: a visit, or taking part in a meeting (docs/rules.md).

Each enterprise keeps the date of its last contact (for "not contacted in N days" and coverage)
and of its last visit (for 本季度未走访), and a file still at 未接触 moves to 已走访宣传 when it is first contacted, as a founding event
with the record as its evidence.
"""
from datetime import date

from crm.common.errors import ServiceError
from crm.enterprises.models import Enterprise
from crm.fieldwork import registry
from crm.founding import services as founding
from crm.founding import stages

FIRST = stages.FIRST  # 未接触
CONTACTED = "contacted"  # 已走访宣传
VISIT = "visit"  # the kind whose records are visits


def contacted(ent_ids, on_date: date, user, kind: str, record_id: int, evidence: str):
    """Call inside the transaction that saves the record."""
    ids = list(dict.fromkeys(ent_ids))
    if not ids:
        return
    for field in (Enterprise.last_contact_on, *((Enterprise.last_visit_on,) if kind == VISIT else ())):
        (Enterprise.update({field: on_date})
         .where(Enterprise.id.in_(ids), field.is_null() | (field < on_date))
         .execute())
    for ent in Enterprise.select().where(Enterprise.id.in_(ids), Enterprise.stage == FIRST):
        try:
            founding.move(ent, CONTACTED, user, expected_from=FIRST, occurred_on=on_date,
                          evidence={"first_contact": evidence}, source=kind, record=(kind, record_id))
        except ServiceError:
            # A file moved back to 未接触 after this date keeps its stage: the automatic move
            # never overrides a later decision. (Explicit moves report their errors.)
            continue


def recompute(ent_ids):
    """Last contact and last visit dates from the records that still count (after an archive or
    an edit): the latest of each kind that counts as contact (its `contact_days`)."""
    ids = list(dict.fromkeys(i for i in ent_ids if i))
    if not ids:
        return
    last, visited = dict.fromkeys(ids), dict.fromkeys(ids)
    for kind in registry.KINDS.values():
        if kind.contact_days is None:
            continue
        for ent_id, day in kind.contact_days(ids):
            if isinstance(day, str):
                day = date.fromisoformat(day)
            if not day:
                continue
            if last[ent_id] is None or day > last[ent_id]:
                last[ent_id] = day
            if kind.key == VISIT and (visited[ent_id] is None or day > visited[ent_id]):
                visited[ent_id] = day
    for ent_id in ids:
        (Enterprise.update(last_contact_on=last[ent_id], last_visit_on=visited[ent_id])
         .where(Enterprise.id == ent_id).execute())
