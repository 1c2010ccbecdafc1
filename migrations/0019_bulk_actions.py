"""批量操作 on the enterprise list (bulk_action): who prepared it, the action and its parameters,
the selected files' versions as previewed, and once applied each changed file's previous value
(what 撤销 restores). Declared in crm/enterprises/models.py."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class BulkAction(Model):
        user = ForeignKeyField(User, on_delete='RESTRICT')
        action = CharField(max_length=20)
        params = TextField(default='{}')
        state = CharField(max_length=20, default='preview')
        selected = IntegerField(default=0)
        changing = IntegerField(default=0)
        versions = TextField(default='[]')
        files = TextField(default='[]')
        created_at = DateTimeField()
        applied_at = DateTimeField(null=True)
        undone_at = DateTimeField(null=True)
        undone_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')

        class Meta:
            database = db
            table_name = 'bulk_action'
            indexes = ((('user', 'state', 'id'), False),)
    db.create_tables([BulkAction])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('bulk_action'))
