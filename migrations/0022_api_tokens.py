"""Personal access tokens for /api/v1 (api_token: the SHA-256 of each token, never the token), and
where each recorded change came from (`via`: "api" for a write through the API, "" for a page).
Declared in crm/tokens/models.py, crm/enterprises/models.py and crm/fieldwork/models.py."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class ApiToken(Model):
        user = ForeignKeyField(User, on_delete='RESTRICT')
        name = CharField(max_length=60)
        scope = CharField(max_length=8)
        prefix = CharField(max_length=16)
        digest = CharField(max_length=64, unique=True)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        last_used_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'api_token'
            indexes = ((('user', 'created_at'), False),)
    db.create_tables([ApiToken])
    migrator.migrate(
        migrator.add_column('enterprise_change', 'via', CharField(max_length=8, default='')),
        migrator.add_column('record_change', 'via', CharField(max_length=8, default='')),
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column('record_change', 'via'),
                     migrator.drop_column('enterprise_change', 'via'),
                     migrator.drop_table('api_token'))
