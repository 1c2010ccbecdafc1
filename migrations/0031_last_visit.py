"""Each file's last (unarchived) visit, kept by crm.fieldwork.contact beside its last contact:
本季度未走访 compares a date in the index instead of looking up a visit for each file.

- `enterprise.last_visit_on`, filled from the visits;
- `enterprise (last_visit_on, archived)`, the district's list counted through it;
- `enterprise_unit_list` again, with the new column, so a town's list keeps reading its files'
  filters from that index alone.
"""
from peewee import *

UNIT_LIST = ('CREATE INDEX "enterprise_unit_list" ON "enterprise" ("org_unit_id", "archived", "stage", "is_key", '
             '"industry", "category", "status", "last_contact_on", {visit}"union_founded_on", "employees", '
             '"updated_at", "name")')


def up(migrator, db):
    migrator.migrate(migrator.add_column('enterprise', 'last_visit_on', DateField(null=True)))
    db.execute_sql('UPDATE "enterprise" SET "last_visit_on" = (SELECT MAX(v."visited_on") FROM "visit" v '
                   'WHERE v."enterprise_id" = "enterprise"."id" AND NOT v."archived")')
    db.execute_sql('DROP INDEX IF EXISTS "enterprise_unit_list"')
    db.execute_sql(UNIT_LIST.format(visit='"last_visit_on", '))
    migrator.migrate(migrator.add_index('enterprise', ('last_visit_on', 'archived'), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('enterprise', 'enterprise_last_visit_on_archived'))
    db.execute_sql('DROP INDEX IF EXISTS "enterprise_unit_list"')
    migrator.migrate(migrator.drop_column('enterprise', 'last_visit_on'))
    db.execute_sql(UNIT_LIST.format(visit=""))
