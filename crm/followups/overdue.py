"""逾期: the open follow-ups past their due date that nobody has been told about yet.

sweep(today) finds them (read along the partial index of the open tasks by due date), marks each
with the due date it is overdue for (FollowUp.overdue_noticed_on) and sends
signals.followups_overdue with the rows, in the same transaction: each task is reported once per
due date (a new due date, once passed, is reported again). Two sweeps at once report a task once:
SQLite runs one write transaction at a time (BEGIN IMMEDIATE), and on PostgreSQL the rows are
locked (FOR UPDATE), a second sweep waiting on them finds them marked.
"""
from datetime import date

from crm.common import signals
from crm.common.timeutil import local_today
from crm.db import db, is_postgres
from crm.followups.models import FollowUp
from crm.followups.queries import is_open

KIND = "followup"
# Tasks marked and reported per transaction (the first sweep of a deployment may find thousands).
BATCH = 500


def _unnoticed(today: date):
    return (FollowUp.select()
            .where(is_open(), FollowUp.due_on < today,
                   FollowUp.overdue_noticed_on.is_null() | (FollowUp.overdue_noticed_on != FollowUp.due_on))
            .order_by(FollowUp.due_on, FollowUp.id).limit(BATCH))


def sweep(today: date | None = None) -> int:
    """Report every open task past due not yet reported for its due date; returns how many."""
    today = today or local_today()
    total = 0
    while True:
        with db.atomic():
            query = _unnoticed(today)
            rows = list(query.for_update() if is_postgres() else query)
            if not rows:
                return total
            (FollowUp.update(overdue_noticed_on=FollowUp.due_on)
             .where(FollowUp.id.in_([fu.id for fu in rows])).execute())
            for fu in rows:
                fu.overdue_noticed_on = fu.due_on
            signals.followups_overdue.send(KIND, followups=rows)
        total += len(rows)
