"""Follow-ups (跟进任务), admin-editable settings (the suggestion thresholds), and the date each
enterprise reached its current founding stage (filled from the founding track for existing files).

Generated with playhouse.migrations.template() from the models; Python-side defaults
(utcnow) need no SQL.
"""
from peewee import *


def up(migrator, db):
    class Enterprise(Model):
        class Meta:
            database = db
            table_name = 'enterprise'

    class Need(Model):
        class Meta:
            database = db
            table_name = 'need'

    class OrgUnit(Model):
        class Meta:
            database = db
            table_name = 'org_unit'

    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class Visit(Model):
        class Meta:
            database = db
            table_name = 'visit'

    class FollowUp(Model):
        form_key = CharField(unique=True, null=True, max_length=80)
        title = CharField(max_length=200)
        detail = TextField(default='')
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        enterprise = ForeignKeyField(Enterprise, null=True, on_delete='RESTRICT')
        source = CharField(max_length=20, default='manual')
        source_visit = ForeignKeyField(Visit, null=True, on_delete='RESTRICT')
        source_need = ForeignKeyField(Need, null=True, on_delete='RESTRICT')
        rule = CharField(max_length=20, default='')
        assignee = ForeignKeyField(User, on_delete='RESTRICT')
        assigned_by = ForeignKeyField(User, on_delete='RESTRICT')
        due_on = DateField()
        priority = CharField(max_length=10, default='medium')
        status = CharField(max_length=12, default='open')
        completion_note = TextField(default='')
        completed_visit = ForeignKeyField(Visit, null=True, on_delete='RESTRICT')
        completed_at = DateTimeField(null=True)
        completed_on = DateField(null=True)
        completed_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        version = IntegerField(default=1)
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        updated_at = DateTimeField()
        updated_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'follow_up'
            indexes = ((('assignee', 'status', 'due_on'), False), (('org_unit', 'status', 'due_on'), False), (('enterprise', 'status'), False), (('source_need', 'status'), False), (('assignee', 'completed_on'), False))
    db.create_tables([FollowUp])

    class Setting(Model):
        key = CharField(unique=True, max_length=64)
        value = CharField(max_length=200)
        updated_at = DateTimeField()
        updated_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'setting'
    db.create_tables([Setting])

    migrator.migrate(migrator.add_column('enterprise', 'stage_since', DateField(index=True, null=True)))
    # The current stage was reached on the date of the last move to it.
    db.execute_sql(
        "UPDATE enterprise SET stage_since = (SELECT MAX(e.occurred_on) FROM founding_event e "
        "WHERE e.enterprise_id = enterprise.id AND e.to_stage = enterprise.stage)")


def down(migrator, db):
    migrator.migrate(migrator.drop_index('enterprise', 'enterprise_stage_since'))
    migrator.migrate(migrator.drop_column('enterprise', 'stage_since'))
    migrator.migrate(migrator.drop_table('setting'))
    migrator.migrate(migrator.drop_table('follow_up'))
