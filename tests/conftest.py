"""Fixtures: a fresh database per test (SQLite temp file, or PostgreSQL when
CRM_TEST_DATABASE_URL is set), the real app and its test client, factories, login helpers."""
import logging
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from peewee import sort_models

from config import TestConfig
from crm import create_app
from crm.db import bind, db
from crm.models import MODELS
from tests.factories import Factory
from tests.passwords import PASSWORD, hashed  # noqa: F401 (tests import them from here)

BASE_PG_URL = os.environ.get("CRM_TEST_DATABASE_URL", "")
# Each test session works in its own schema, so two runs against one server never collide.
PG_SCHEMA = f"crm_test_{os.getpid()}"
PG_URL = f"{BASE_PG_URL}{'&' if '?' in BASE_PG_URL else '?'}schema={PG_SCHEMA}" if BASE_PG_URL else ""
def _reset_postgres(url):
    from crm import schema
    database = bind(url)
    database.connect(reuse_if_open=True)
    # One test process at a time creates what the database shares (the extension in public):
    # two CREATE EXTENSION IF NOT EXISTS at once can both try to insert it.
    database.execute_sql("SELECT pg_advisory_lock(hashtext('crm_test_setup'))")
    try:
        database.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        database.execute_sql(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        database.execute_sql(f"CREATE SCHEMA {PG_SCHEMA}")
        schema.upgrade()
    finally:
        database.execute_sql("SELECT pg_advisory_unlock(hashtext('crm_test_setup'))")
    database.close()


def _drop_pg_schema():
    database = bind(PG_URL)
    database.connect(reuse_if_open=True)
    database.execute_sql(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
    database.close()


@pytest.fixture(scope="session", autouse=True)
def own_temp_dir(tmp_path_factory):
    """Each test process's temporary files in a folder of its own: a sweep of leftovers run by
    one test never meets another process's files."""
    tempfile.tempdir = str(tmp_path_factory.mktemp("tmp"))
    yield
    tempfile.tempdir = None


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """A migrated database to start each test from."""
    from crm import schema
    if PG_URL:
        _reset_postgres(PG_URL)
        yield PG_URL
        _drop_pg_schema()
        return
    path = tmp_path_factory.mktemp("template") / "crm.db"
    database = bind(f"sqlite:///{path}")
    database.connect()
    schema.upgrade()
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    yield path


# The sequences of this schema that have handed out a number.
_USED_SEQUENCES = ("SELECT sequencename FROM pg_sequences "
                   "WHERE schemaname = current_schema() AND last_value IS NOT NULL")


def _truncate_all():
    """Every table back to empty, its ids starting at 1 again: the tables holding a row emptied
    by DELETE (children first), the sequences used restarted. TRUNCATE costs a few milliseconds a
    table whether it holds anything or not, and its CASCADE reaches nearly every table."""
    holding = " UNION ALL ".join(f"(SELECT '{m._meta.table_name}' FROM \"{m._meta.table_name}\" LIMIT 1)"
                                 for m in MODELS)
    written = {row[0] for row in db.execute_sql(holding)}
    for model in reversed(sort_models(MODELS)):
        if model._meta.table_name in written:
            db.execute_sql(f'DELETE FROM "{model._meta.table_name}"')
    for (sequence,) in db.execute_sql(_USED_SEQUENCES).fetchall():
        if sequence != "schema_migration_id_seq":
            db.execute_sql(f'ALTER SEQUENCE "{sequence}" RESTART')


@pytest.fixture
def db_url(template_db, tmp_path):
    if PG_URL:
        database = bind(PG_URL)
        database.connect(reuse_if_open=True)
        _truncate_all()
        database.close()
        return PG_URL
    target = tmp_path / "crm.db"
    shutil.copy(template_db, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app(db_url, tmp_path):
    environ = {"CRM_DATABASE_URL": db_url, "CRM_INSTANCE_DIR": str(tmp_path / "instance"),
               "CRM_UPLOAD_DIR": str(tmp_path / "uploads")}
    application = create_app(TestConfig(environ))
    # No app context stays pushed: each test request gets its own (and its own `g`), as in
    # production. Tests that call services needing current_app use `with app.app_context()`.
    yield application
    if not db.is_closed():
        db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    """Records of every kind, built through the services (tests/factories.py)."""
    return Factory(app)


# ---- login helpers -----------------------------------------------------------------------

def csrf_token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login_form(client, username, password=PASSWORD):
    """Log in through the real form (costs one scrypt verification)."""
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def login_as(client, user):
    """Put the user's session in place directly, as a completed login would."""
    with client.session_transaction() as sess:
        sess.clear()
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["login_at"] = datetime.now(timezone.utc).timestamp()
        sess.permanent = True
    return client


def enrol_second_factor(app, user):
    """Set up the user's authenticator as the setup page would: (secret, recovery codes). The
    setup's own code is forgotten, so that this step's code and the next one both sign in."""
    from crm.auth import second_factor
    from crm.auth.models import User
    with app.app_context():
        setup = second_factor.start_setup(user)
        codes = second_factor.confirm_setup(user, totp_code(setup.secret))
        User.update(totp_last_step=None).where(User.id == user.id).execute()
    return setup.secret, codes


def totp_code(secret, ahead=0):
    """The authenticator's code, `ahead` time steps (30 s) from now. A step is accepted once, and
    one step early or late: a second sign-in within the same 30 seconds takes ahead=1."""
    import pyotp
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(datetime.now(timezone.utc)) + ahead)


def post_form(client, path, data, token_from=None):
    """POST with a CSRF token taken from a GET of the form page (as a browser would)."""
    token = csrf_token(client, token_from or path)
    return client.post(path, data={**data, "csrf_token": token})


@contextmanager
def statements():
    """The SQL statements run inside the block, as [(sql, params)] (peewee logs each at DEBUG)."""
    seen = []

    class Handler(logging.Handler):
        def emit(self, record):
            if isinstance(record.msg, tuple):
                seen.append(record.msg)

    logger, handler = logging.getLogger("peewee"), Handler(logging.DEBUG)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
