"""Login throttling per user and client address, per user and per address: login_throttle is keyed
by a string ("ua:NAME|ADDR", "u:NAME", "a:ADDR") instead of the typed user name, and its rows are
found by their last failure (to expire them). The counters are transient: the table is made anew.
Declared in crm/auth/models.py."""
from peewee import *


def up(migrator, db):
    class LoginThrottle(Model):
        key = CharField(max_length=200, unique=True)
        failures = IntegerField(default=0)
        locked_until = DateTimeField(null=True)
        last_failure_at = DateTimeField(null=True, index=True)

        class Meta:
            database = db
            table_name = 'login_throttle'
    db.execute_sql('DROP TABLE IF EXISTS "login_throttle"')
    db.create_tables([LoginThrottle])


def down(migrator, db):
    class LoginThrottle(Model):
        username = CharField(max_length=64, unique=True)
        failures = IntegerField(default=0)
        locked_until = DateTimeField(null=True)
        last_failure_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'login_throttle'
    db.execute_sql('DROP TABLE IF EXISTS "login_throttle"')
    db.create_tables([LoginThrottle])
