"""Schema migrations: numbered files in migrations/, applied by peewee's Runner."""
from playhouse.migrations import Runner

from crm import resources
from crm.db import db

MIGRATIONS_DIR = resources.MIGRATIONS_DIR


def runner() -> Runner:
    return Runner(db.obj, directory=str(MIGRATIONS_DIR))


def upgrade() -> list[str]:
    """Apply every pending migration; returns the names applied."""
    return runner().up()


def status():
    """[(name, applied_at or None)] in order."""
    return [(m.name, m.applied) for m in runner().status()]


def pending() -> list[str]:
    return [name for name, applied in status() if applied is None]
