"""Each visit carries its enterprise's org unit: a unit's visits, newest first, are read
from one index (org_unit, archived, visited_on, id) instead of gathering the unit's enterprises'
visits and sorting them. Filled here from the enterprises; kept by the visit and enterprise
services afterwards. And (visited_on, id, archived): the whole district's ledger pages skip
index entries, not rows.

The column is nullable: SQLite cannot add a NOT NULL column with a reference to an existing table,
and rebuilding `visit` would cascade into its visitors. Every write sets it.
"""
from peewee import *

BACKFILL = ("UPDATE visit SET org_unit_id = "
            "(SELECT enterprise.org_unit_id FROM enterprise WHERE enterprise.id = visit.enterprise_id)")
INDEXES = [('org_unit_id', 'archived', 'visited_on', 'id'), ('visited_on', 'id', 'archived')]


def up(migrator, db):
    class OrgUnit(Model):
        class Meta:
            database = db
            table_name = 'org_unit'

    migrator.migrate(migrator.add_column(
        'visit', 'org_unit_id', ForeignKeyField(OrgUnit, field=OrgUnit.id, null=True, index=False, on_delete='RESTRICT')))
    db.execute_sql(BACKFILL)
    for columns in INDEXES:
        migrator.migrate(migrator.add_index('visit', columns, False))


def down(migrator, db):
    for columns in reversed(INDEXES):
        migrator.migrate(migrator.drop_index('visit', 'visit_' + '_'.join(columns)))
    migrator.migrate(migrator.drop_column('visit', 'org_unit_id'))
