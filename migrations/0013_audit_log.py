"""The audit log (audit_event): sign-ins and their failures, lockouts, denied access, role and
scope changes, full phone numbers read, exports of personal data, imports, backups and restores,
with time, user and client address. Declared in crm/audit/models.py."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class AuditEvent(Model):
        at = DateTimeField(index=True)
        kind = CharField(max_length=20)
        user = ForeignKeyField(User, null=True, on_delete='SET NULL')
        username = CharField(max_length=64, default='')
        address = CharField(max_length=64, default='')
        target_kind = CharField(max_length=20, default='')
        target_id = IntegerField(null=True)
        detail = TextField(default='')

        class Meta:
            database = db
            table_name = 'audit_event'
            indexes = ((('kind', 'at'), False), (('target_kind', 'target_id', 'at'), False))
    db.create_tables([AuditEvent])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('audit_event'))
