"""Indexes for the follow-up pages at district scale: partial indexes over the open tasks
(per person and by due date) and over the done ones by completion date, which the team board, my
tasks, the navigation badge and the open list read instead of the whole history; and the closed
lists (newest first) and the list of every task (by due date). Also enterprise.union_term_end,
which the 换届提醒 suggestions read (declared in crm/followups/models.py).

Written out as SQL because playhouse's migrator has no partial indexes; the same statements work
on SQLite and PostgreSQL. Independent of 0007.
"""
from peewee import *

OPEN = "status IN ('open', 'in_progress')"
INDEXES = (
    ("enterprise_union_term_end", "enterprise", "(union_term_end)", None),
    ("followup_open_assignee", "follow_up", "(assignee_id, due_on, org_unit_id, status)", OPEN),
    ("followup_open_due", "follow_up", "(due_on, org_unit_id, assignee_id, status)", OPEN),
    ("followup_done_on", "follow_up", "(completed_on, assignee_id, org_unit_id, status)", "status = 'done'"),
    ("followup_completed_at_id_org_unit_id", "follow_up", "(completed_at, id, org_unit_id)", None),
    ("followup_due_on_org_unit_id", "follow_up", "(due_on, org_unit_id)", None),
)


def up(migrator, db):
    for name, table, columns, where in INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {columns}'
                       + (f" WHERE {where}" if where else ""))


def down(migrator, db):
    for name, *_ in reversed(INDEXES):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
