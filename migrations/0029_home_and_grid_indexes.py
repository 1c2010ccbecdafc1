"""Two indexes that answer their pages' queries without reading the table (docs/performance.md),
declared in the models (the names are the models'):

- meeting (kind, held_on, archived, level, org_unit_id): the 双沟通 grid reads a year of every
  unit's meetings (a district's: some ten thousand rows) for their day, kind, level and unit,
  filtered by the kind and the day (crm/meetings/models.py);
- visit_visitor (user_id, visit_id) instead of (user_id): the home page's latest visits of a
  user are the user's visit ids met with the district's latest visits; PostgreSQL read the
  user's thousands of rows from the table for their visit ids (crm/visits/models.py).
"""
from peewee import *

INDEXES = (
    ("meeting_kind_held_on_archived_level_org_unit_id", "meeting", "(kind, held_on, archived, level, org_unit_id)"),
    ("visitvisitor_user_id_visit_id", "visit_visitor", "(user_id, visit_id)"),
)


def up(migrator, db):
    for name, table, columns in INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {columns}')
    db.execute_sql('DROP INDEX IF EXISTS "visitvisitor_user_id"')


def down(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS "visitvisitor_user_id" ON "visit_visitor" (user_id)')
    for name, *_ in reversed(INDEXES):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
