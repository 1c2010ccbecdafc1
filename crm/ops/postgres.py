"""PostgreSQL: connection parameters, the client tools, and a backup with pg_dump of one
snapshot whose row counts the manifest records."""
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from crm.db import make_database
from crm.ops.common import MIGRATION_TABLE, BackupError


def tools(*names):
    for name in names:
        if shutil.which(name) is None:
            raise BackupError(f"找不到 {name}，请先安装 PostgreSQL 客户端（如 apt-get install postgresql-client）")


class PG:
    """Connection parameters of a postgresql:// URL, read the way crm.db reads them."""

    def __init__(self, url: str, dbname: str | None = None):
        database = make_database(url)
        params = dict(database.connect_params)
        params.pop("options", None)
        self.params = {k: v for k, v in params.items() if v is not None}
        self.dbname = dbname or database.database
        self.schema_param = parse_qs(urlparse(url).query).get("schema", [""])[0]

    def other(self, dbname):
        clone = object.__new__(PG)
        clone.params, clone.dbname, clone.schema_param = self.params, dbname, ""
        return clone

    def env(self) -> dict:
        env = dict(os.environ)
        for key in ("PGSERVICE", "PGOPTIONS"):
            env.pop(key, None)
        names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD"}
        for key, var in names.items():
            if key in self.params:
                env[var] = str(self.params[key])
        env["PGDATABASE"] = self.dbname
        env["PGAPPNAME"] = "crm-backup"
        env.setdefault("PGCONNECT_TIMEOUT", "10")
        return env

    def connect(self, autocommit=False):
        import psycopg2
        try:
            conn = psycopg2.connect(dbname=self.dbname, connect_timeout=10, **self.params)
        except psycopg2.Error as exc:
            raise BackupError(f"无法连接数据库：{first_line(str(exc))}")
        conn.autocommit = autocommit
        return conn

    def schema(self, cur) -> str:
        """The app's schema: ?schema=NAME, else where unqualified names go (normally public)."""
        if self.schema_param:
            return self.schema_param
        cur.execute("SELECT current_schema()")
        return cur.fetchone()[0] or "public"


def first_line(text: str) -> str:
    """The first error line of a tool's output, without psql's 'psql:FILE:LINE: ' prefix."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    found = next((line for line in lines if "ERROR:" in line or "error:" in line or "FATAL:" in line),
                 lines[0] if lines else "（无输出）")
    return re.sub(r"^psql:\S*:\d+: ", "", found)


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def schema_exists(cur, schema) -> bool:
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    return cur.fetchone() is not None


def schema_state(cur, schema):
    """None when the schema does not exist, else how many relations it holds."""
    if not schema_exists(cur, schema):
        return None
    cur.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s", (schema,))
    return cur.fetchone()[0]


def table_names(cur, schema) -> list[str]:
    cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname", (schema,))
    return [r[0] for r in cur.fetchall()]


def row_counts(cur, schema) -> dict:
    counts = {}
    for table in table_names(cur, schema):
        cur.execute(f"SELECT count(*) FROM {ident(schema)}.{ident(table)}")
        counts[table] = cur.fetchone()[0]
    return counts


def trgm_schema(cur):
    cur.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = 'pg_trgm'")
    row = cur.fetchone()
    return row[0] if row else None


def run(args, env, what):
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise BackupError(f"{what}失败：{exc}")
    if done.returncode != 0:
        raise BackupError(f"{what}失败：{first_line(done.stderr)}")
    return done


def dump(pg: PG, schema: str, target: Path, snapshot: str | None = None):
    args = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
            f"--schema={ident(schema)}", f"--file={target}"]
    if snapshot:
        args.append(f"--snapshot={snapshot}")
    run(args, pg.env(), "pg_dump 导出")


def backup_schema(url: str, target: Path) -> dict:
    pg = PG(url)
    conn = pg.connect()
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cur:
            schema = pg.schema(cur)
            if not schema_exists(cur, schema):
                raise BackupError(f"数据库中没有 schema {schema}")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            counts = row_counts(cur, schema)  # in the snapshot that pg_dump reads too
            migrations = []
            if MIGRATION_TABLE in counts:
                cur.execute(f"SELECT name FROM {ident(schema)}.{ident(MIGRATION_TABLE)} ORDER BY id")
                migrations = [r[0] for r in cur.fetchall()]
            trgm = trgm_schema(cur)
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
            dump(pg, schema, target, snapshot)
        conn.rollback()
    finally:
        conn.close()
    return {"schema": schema, "tables": counts, "migrations": migrations,
            "pg_trgm_schema": trgm, "server_version": version}


