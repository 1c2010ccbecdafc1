"""The database: one proxy, bound at app start to SQLite (default) or PostgreSQL.

SQLite runs in WAL mode with foreign keys on, a busy timeout, and every explicit
transaction opened as BEGIN IMMEDIATE so a read-then-write never deadlocks on the
write lock upgrade. Writes go through `db.atomic()` in the services. Connections are pooled
(POOL): each request takes one before it runs and gives it back after.
"""
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from peewee import SQL, DatabaseProxy, Model, NodeList, PostgresqlDatabase, SqliteDatabase
from playhouse.pool import PooledSqliteDatabase
from playhouse.postgres_ext import PooledPostgresqlExtDatabase, ServerSideQuery

db = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
    "cache_size": -32000,  # 32 MB page cache
    "temp_store": "memory",
}


# Connections are kept open between requests, one per thread at a time (a request's connection goes
# back to the pool at its end, a transaction left open rolled back) instead of one opened per
# request (docs/performance.md). Closed after `stale_timeout` seconds; a thread waits up to
# `timeout` seconds for one when all `max_connections` are in use.
POOL = {"max_connections": 32, "stale_timeout": 300, "timeout": 10}


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def make_database(url: str):
    """Build (not connect) the database named by a URL."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else parsed.path
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A pooled connection serves one thread at a time, not always the one that opened it.
        return PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE",  # busy: the pragma
                                    autoconnect=True, check_same_thread=False, **POOL)
    if parsed.scheme in ("postgres", "postgresql"):
        # ?schema=NAME keeps the tables in that schema (public stays on the path for pg_trgm).
        schema = parse_qs(parsed.query).get("schema", [""])[0]
        extra = {"options": f"-c search_path={schema},public"} if schema else {}
        return PooledPostgresqlExtDatabase(  # (Ext: for its server-side cursors, stream())
            parsed.path.lstrip("/") or "postgres",
            user=parsed.username or None, password=parsed.password or None,
            host=parsed.hostname or None, port=parsed.port or None,
            autoconnect=True, **POOL, **extra,
        )
    raise ValueError(f"unsupported CRM_DATABASE_URL scheme: {parsed.scheme!r}")


def bind(url: str):
    """Point the proxy at the database for this URL (once per process; the tests bind one per
    test: the previous database's idle connections are closed)."""
    release()
    database = make_database(url)
    db.initialize(database)
    return database


def release():
    """Close this process's connection and the pool's idle ones (before forking workers, which
    must not share them, and before binding another database)."""
    if db.obj is None:
        return
    if not db.is_closed():
        db.close()
    db.close_all()


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(db.obj, PostgresqlDatabase)


def plain(column):
    """`column` as a value SQLite does not look up by its index (unary +), leaving the index the
    query is built for. SQLite plans without table statistics: it would otherwise walk an index
    that barely narrows the rows (经营状态 正常, a town's thousands of files, a person's whole
    history) and read most of the table. PostgreSQL keeps statistics: the column stays as it is."""
    return NodeList((SQL("+"), column), glue="") if is_sqlite() else column


def stream(query, size=1000):
    """A long query's rows without holding its whole result in memory (the exports). SQLite steps
    its cursor; psycopg2 would fetch the whole result into the client first, so PostgreSQL reads
    through a server-side cursor, `size` rows at a time, inside a transaction (which it needs)."""
    if not is_postgres():
        yield from query.iterator()
        return
    rows = ServerSideQuery(query, array_size=size)
    with db.atomic():
        try:
            yield from rows
        finally:  # (closed inside the transaction, also when the reader stops early)
            rows.close()


def stream_batches(query, size=500):
    """stream(query) in lists of `size` rows (an export looks up what its rows name per batch)."""
    batch = []
    for row in stream(query):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def init_app(app):
    bind(app.config["DATABASE_URL"])

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()
