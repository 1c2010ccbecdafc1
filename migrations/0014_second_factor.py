"""Two-factor sign-in: each user's TOTP secret (in use, and a new one while setting up), the last
time step accepted, their one-time recovery codes (hashed), and a per-unit switch that makes its
people sign in with a second factor. Declared in crm/auth/models.py and crm/org/models.py."""
from peewee import *

COLUMNS = [('totp_secret', CharField(max_length=64, null=True)),
           ('totp_pending', CharField(max_length=64, null=True)),
           ('totp_enrolled_at', DateTimeField(null=True)),
           ('totp_last_step', BigIntegerField(null=True))]


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class RecoveryCode(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        code_hash = CharField(max_length=64)
        used_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'recovery_code'
            indexes = ((('user', 'code_hash'), True),)
    migrator.migrate(*[migrator.add_column('app_user', name, field) for name, field in COLUMNS])
    migrator.migrate(migrator.add_column('org_unit', 'second_factor_required', BooleanField(default=False)))
    db.create_tables([RecoveryCode])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('recovery_code'))
    migrator.migrate(migrator.drop_column('org_unit', 'second_factor_required'))
    migrator.migrate(*[migrator.drop_column('app_user', name) for name, _ in reversed(COLUMNS)])
