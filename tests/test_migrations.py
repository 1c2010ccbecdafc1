"""After upgrading an empty database, the models and the schema agree (SQLite and PostgreSQL)."""
import uuid
from contextlib import contextmanager
from datetime import date

import pytest
from playhouse.schema_diff import diff_models

from crm import schema
from crm.db import bind
from crm.enterprises.search import BACKEND_INDEXES
from crm.models import MODELS
from tests.conftest import BASE_PG_URL


@contextmanager
def _empty_pg_schema():
    """The database bound to a new, empty PostgreSQL schema of its own, dropped afterwards."""
    name = f"crm_mig_{uuid.uuid4().hex[:8]}"
    admin = bind(BASE_PG_URL)
    admin.connect()
    admin.execute_sql(f"CREATE SCHEMA {name}")
    admin.close()
    try:
        sep = "&" if "?" in BASE_PG_URL else "?"
        yield bind(f"{BASE_PG_URL}{sep}schema={name}")
    finally:
        admin = bind(BASE_PG_URL)
        admin.connect()
        admin.execute_sql(f"DROP SCHEMA {name} CASCADE")
        admin.close()


def _agree(database, backend):
    database.connect(reuse_if_open=True)
    applied = schema.upgrade()
    assert applied[0] == "0001_initial"
    assert schema.pending() == []
    diff = diff_models(database, MODELS)
    extra = {idx.name for idx in diff.drop_indexes}
    # The only thing the models do not declare is the backend's search index, and it must exist.
    assert extra == BACKEND_INDEXES[backend]
    assert not (diff.create_tables or diff.add_columns or diff.drop_columns or diff.add_indexes)
    assert schema.upgrade() == []  # idempotent


def test_sqlite_schema_matches_models(tmp_path):
    database = bind(f"sqlite:///{tmp_path / 'fresh.db'}")
    _agree(database, "sqlite")
    tables = set(database.get_tables())
    assert "enterprise_fts" in tables  # FTS5 trigram index
    assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert database.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000
    database.close()


@pytest.mark.skipif(not BASE_PG_URL, reason="CRM_TEST_DATABASE_URL not set (PostgreSQL)")
def test_postgres_schema_matches_models():
    with _empty_pg_schema() as database:
        _agree(database, "postgresql")
        database.close()


def test_sqlite_writes_take_the_lock_up_front(tmp_path):
    database = bind(f"sqlite:///{tmp_path / 'lock.db'}")
    assert database._lock_type == "IMMEDIATE"
    database.close()


def test_visits_get_their_firms_unit_on_upgrade_and_lose_nothing_on_downgrade(tmp_path):
    """0009 fills visit.org_unit_id from the enterprises (an existing database's visits), and its
    down() drops the column without touching the visits or their visitors."""
    from crm.auth.models import User
    from crm.enterprises.models import Enterprise
    from crm.org.services import create_unit
    from crm.visits.models import Visit, VisitVisitor
    database = bind(f"sqlite:///{tmp_path / 'visits.db'}")
    database.connect(reuse_if_open=True)
    schema.upgrade()
    root = create_unit("测试区总工会", "district", None)
    towns = [create_unit(f"{n}镇总工会", "town", root) for n in "甲乙"]
    user = User.create(username="u", name="用户", role="staff", org_unit=root, password_hash="x")
    firms = [Enterprise.create(name=f"企业{i}", name_norm=f"企业{i}", org_unit=towns[i % 2], created_by=user)
             for i in range(4)]
    for i, firm in enumerate(firms * 2):
        visit = Visit.create(enterprise=firm, visited_on=date(2026, 11, 1 + i), kind="door", summary="走访")
        VisitVisitor.create(visit=visit, user=user)
    later = [name for name, _ in schema.status() if name >= "0009_visit_org_unit"]
    assert schema.runner().down("0009_visit_org_unit") == later[::-1]
    assert "org_unit_id" not in {c.name for c in database.get_columns("visit")}
    assert (Visit.select().count(), VisitVisitor.select().count()) == (8, 8)
    assert schema.upgrade() == later
    rows = Visit.select(Visit.org_unit, Enterprise.org_unit.alias("firm_unit")).join(Enterprise).tuples()
    assert len(rows) == 8 and all(mine == theirs for mine, theirs in rows)
    assert {mine for mine, _ in rows} == {t.id for t in towns}
    database.close()


@pytest.mark.skipif(not BASE_PG_URL, reason="CRM_TEST_DATABASE_URL not set (PostgreSQL)")
def test_two_servers_upgrading_at_once_apply_each_migration_once():
    """Two `crm serve` starting together on an empty PostgreSQL schema: one applies the
    migrations, the other waits for it and finds nothing pending; neither fails."""
    import threading
    with _empty_pg_schema() as database:
        start, results = threading.Barrier(2), {}

        def server(n):
            database.connect(reuse_if_open=True)
            start.wait()
            try:
                results[n] = schema.upgrade()
            except Exception as exc:  # noqa: BLE001 (the test reports it)
                results[n] = exc
            finally:
                database.close()

        threads = [threading.Thread(target=server, args=(n,)) for n in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        everything = [m.name for m in schema.runner().migrations()]
        assert sorted((results[0], results[1]), key=len) == [[], everything]
        database.connect(reuse_if_open=True)
        assert schema.pending() == []
        database.close()
