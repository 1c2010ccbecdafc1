"""Indexes for a town's lists (crm/enterprises/queries.py list_page, by_unit).

- `enterprise_unit_list`: a unit's files with every filter and sort column of the enterprise list
  (org unit, archived, stage, 重点, industry, category, status, last contact, union founded,
  head count, last update, name). A town's filtered list is counted and its page picked from this
  index alone, the filters checked in it, instead of reading a filter's index through the whole
  district and looking up each row's unit.
- `visit (enterprise, visited_on, archived)` replaces `(enterprise, visited_on)`: "an unarchived
  visit of this file in these days" (本季度未走访) is answered from the index, without reading
  the visit.

Generated with playhouse.migrations.template() from the models.
"""
from peewee import *

UNIT_LIST = ('CREATE INDEX "enterprise_unit_list" ON "enterprise" ("org_unit_id", "archived", "stage", "is_key", '
             '"industry", "category", "status", "last_contact_on", "union_founded_on", "employees", '
             '"updated_at", "name")')


def up(migrator, db):
    db.execute_sql(UNIT_LIST)
    migrator.migrate(migrator.add_index('visit', ('enterprise_id', 'visited_on', 'archived'), False))
    migrator.migrate(migrator.drop_index('visit', 'visit_enterprise_id_visited_on'))


def down(migrator, db):
    migrator.migrate(migrator.add_index('visit', ('enterprise_id', 'visited_on'), False))
    migrator.migrate(migrator.drop_index('visit', 'visit_enterprise_id_visited_on_archived'))
    db.execute_sql('DROP INDEX IF EXISTS "enterprise_unit_list"')
