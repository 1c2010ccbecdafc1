"""The name sort's index also holds each file's unit and stage: a town's list sorted by name (and
filtered by 建会状态 or 阶段) is read in name order through the district's files, each checked for
its unit and stage, and with them in the index none of those rows is read from the table
(crm/enterprises/models.py; docs/performance.md). Replaces enterprise_name_id_archived.
"""
from peewee import *

NEW = "enterprise_name_id_archived_org_unit_id_stage"


def up(migrator, db):
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{NEW}" ON "enterprise" (name, id, archived, org_unit_id, stage)')
    db.execute_sql('DROP INDEX IF EXISTS "enterprise_name_id_archived"')


def down(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS "enterprise_name_id_archived" ON "enterprise" (name, id, archived)')
    db.execute_sql(f'DROP INDEX IF EXISTS "{NEW}"')
