"""The 双沟通 grid reads a year of every unit's meetings (a district's: some ten thousand rows) for
their day, kind, level and unit: an index holding those columns, led by the kind and the day as
the query's filter, answers it without reading the table (docs/performance.md). Declared in
crm/meetings/models.py (the name is the model's)."""
from peewee import *

NAME = "meeting_kind_held_on_archived_level_org_unit_id"


def up(migrator, db):
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "meeting" (kind, held_on, archived, level, org_unit_id)')


def down(migrator, db):
    db.execute_sql(f'DROP INDEX IF EXISTS "{NAME}"')
