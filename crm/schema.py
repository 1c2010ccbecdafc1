"""Schema migrations: numbered files in migrations/, applied by peewee's Runner."""
from playhouse.migrations import Runner

from crm import resources
from crm.db import db, is_postgres

MIGRATIONS_DIR = resources.MIGRATIONS_DIR
# PostgreSQL: the advisory lock one upgrade holds, so that app servers starting at once apply
# each migration once (the others wait, then find nothing pending).
UPGRADE_LOCK = 0x63726D5F6D6967  # "crm_mig"


def runner() -> Runner:
    return Runner(db.obj, directory=str(MIGRATIONS_DIR))


def upgrade() -> list[str]:
    """Apply every pending migration; returns the names applied. On PostgreSQL one process at
    a time: what is pending is read once the lock is held."""
    if not is_postgres():
        return runner().up()
    db.execute_sql("SELECT pg_advisory_lock(%s)", (UPGRADE_LOCK,))
    try:
        return runner().up()
    finally:
        db.execute_sql("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK,))


def status():
    """[(name, applied_at or None)] in order."""
    return [(m.name, m.applied) for m in runner().status()]


def pending() -> list[str]:
    return [name for name, applied in status() if applied is None]
