"""Backup and restore of an instance: the database and the uploaded photos.

A backup is a directory:

    crm.db          SQLite: a copy made with the online backup API (sqlite3 Connection.backup)
    database.dump   PostgreSQL: `pg_dump --format=custom` of the app's schema
    uploads/        every file of CRM_UPLOAD_DIR, copied after the database snapshot
    manifest.json   format, time, backend, migrations, row counts per table, file count, version

Consistency while the app runs:
- SQLite: the copy is taken from a separate read connection in one step, so it is the database as
  of one instant; WAL lets writers carry on meanwhile.
- PostgreSQL: the row counts are read in a REPEATABLE READ transaction whose snapshot is exported
  to pg_dump (`--snapshot`), so the dump and the manifest describe the same instant.
- Photos are written to disk before their row is committed and are never deleted or rewritten
  (random names), so copying every file present *after* the snapshot covers every row in it.
  A file written after the snapshot may be copied too; its row is not in the backup (harmless).

Restore goes into an empty instance only (no rows except the migration history, no files in the
upload directory), and checks the result against the manifest before it is kept:
- SQLite: the file is copied next to the target, checked (PRAGMA integrity_check, row counts) and
  then moved into place.
- PostgreSQL: the dump is replayed by psql in ONE transaction (`pg_restore --no-owner
  --no-privileges` turned into SQL), and the same transaction checks the row counts, so a failed
  restore leaves the target as it was. pg_restore cannot rename a schema, so when the backup's
  schema (A) differs from the target's (B):
    * A does not exist in the target database: the tables are restored into A, moved to B with
      ALTER TABLE ... SET SCHEMA (indexes, constraints and sequences follow) and A is dropped,
      all inside the transaction;
    * A exists there (e.g. the running source instance in the same database): the dump is first
      restored into a temporary database, moved to B there, dumped again and restored from that
      copy; this needs the CREATEDB privilege, and the temporary database is always dropped.
  Owners and grants are not restored: the objects belong to the user who restores.
  The pg_trgm search index is rebuilt against wherever the extension lives in the target
  database (created in `public` if the database lacks it).
A backup of one backend cannot be restored into the other.
"""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from crm.common.errors import ServiceError

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "crm.db"
PG_FILE = "database.dump"
UPLOADS = "uploads"
MIGRATION_TABLE = "schema_migration"
# Rows the migrations themselves write; an instance holding only these is empty. Per table: the
# SQL condition that picks the rows that are *not* seeds.
SEED_ROWS = {MIGRATION_TABLE: "false", "rule_setting": "created_by_id IS NOT NULL"}
# Indexes whose operator class comes from pg_trgm (migration 0001). The dump names the class with
# the extension's schema in the source database, so they are left out of the restore and rebuilt
# against the extension's schema in the target: {index: (table, column)}.
PG_TRGM_INDEXES = {"enterprise_search_trgm": ("enterprise", "search_text")}


class BackupError(ServiceError):
    """A backup or restore that cannot go ahead; the message is shown as it is (Chinese)."""


# ---- shared helpers ----------------------------------------------------------------------

def backend_of(url: str) -> str:
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgres", "postgresql"):
        return "postgresql"
    raise BackupError(f"不支持的数据库地址：{scheme!r}")


def _label(backend):
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]


def _sqlite_path(url: str) -> Path:
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else urlparse(url).path
    if not path or path == ":memory:":
        raise BackupError("内存数据库无法备份或恢复")
    return Path(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _app_version() -> str:
    try:
        from importlib.metadata import version
        return version("yiqi-yidang-crm")
    except Exception:  # not installed as a package
        return "unknown"


def _list_files(folder: Path):
    """Relative paths of the regular files under folder (symlinks are not followed)."""
    if not folder.is_dir():
        return []
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                found.append(path.relative_to(folder))
    return found


def _copy_files(source: Path, target: Path):
    """Copy every regular file under source into target; returns (files, bytes)."""
    count = size = 0
    for rel in _list_files(source):
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(source / rel, dest)
        except FileNotFoundError:  # gone since it was listed (photos are not deleted; be lenient)
            continue
        count += 1
        size += dest.stat().st_size
    return count, size


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def summary(manifest: dict) -> str:
    """'SQLite 数据库 27 张表共 1,234 行（企业 300 家、用户 20 个），照片文件 12 个'"""
    tables = manifest["tables"]
    rows = sum(n for name, n in tables.items() if name != MIGRATION_TABLE)
    return (f"{_label(manifest['backend'])} 数据库 {len(tables)} 张表共 {rows:,} 行"
            f"（企业 {tables.get('enterprise', 0):,} 家、用户 {tables.get('app_user', 0):,} 个），"
            f"照片文件 {manifest['uploads']['files']:,} 个")


# ---- backup ------------------------------------------------------------------------------

def _prepare_dest(dest: Path, upload_dir: Path):
    if dest.exists() and not dest.is_dir():
        raise BackupError(f"备份目标 {dest} 已存在且不是目录")
    if dest.is_dir() and any(dest.iterdir()):
        raise BackupError(f"备份目录 {dest} 已存在且不是空目录；请换一个新目录")
    if _inside(dest, upload_dir):
        raise BackupError("备份目录不能放在照片上传目录里面")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"无法创建备份目录 {dest}：{exc.strerror or exc}")


def backup(database_url: str, upload_dir, dest) -> dict:
    """Back up the database named by database_url and the files under upload_dir into dest
    (created; must not exist or be empty). Safe while the app runs. Returns the manifest."""
    started = time.monotonic()
    dest, upload_dir = Path(dest), Path(upload_dir)
    backend = backend_of(database_url)
    if backend == "postgresql":
        _pg_tools("pg_dump")
    else:
        source = _sqlite_path(database_url)
        if not source.is_file():
            raise BackupError(f"找不到数据库文件：{source}")
    _prepare_dest(dest, upload_dir)
    created_at = datetime.now(timezone.utc)
    if backend == "sqlite":
        info = _sqlite_backup(source, dest / SQLITE_FILE)
        db_file = SQLITE_FILE
    else:
        info = _pg_backup(database_url, dest / PG_FILE)
        db_file = PG_FILE
    files, size = _copy_files(upload_dir, dest / UPLOADS)  # after the snapshot: see the docstring
    (dest / UPLOADS).mkdir(exist_ok=True)
    manifest = {
        "format": FORMAT,
        "app": "yiqi-yidang-crm",
        "app_version": _app_version(),
        "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "backend": backend,
        "database_file": db_file,
        "database_sha256": _sha256(dest / db_file),
        **info,
        "uploads": {"dir": UPLOADS, "files": files, "bytes": size},
    }
    manifest["seconds"] = round(time.monotonic() - started, 3)
    # Written last: a directory without a manifest is an unfinished backup.
    tmp = dest / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, dest / MANIFEST)
    return manifest


def _sqlite_tables(conn) -> list[str]:
    rows = conn.execute("PRAGMA main.table_list").fetchall()
    return sorted(r[1] for r in rows if r[2] == "table" and not r[1].startswith("sqlite_"))


def _sqlite_counts(conn) -> dict:
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in _sqlite_tables(conn)}


def _sqlite_migrations(conn) -> list[str]:
    if MIGRATION_TABLE not in _sqlite_tables(conn):
        return []
    return [r[0] for r in conn.execute(f'SELECT name FROM "{MIGRATION_TABLE}" ORDER BY id')]


def _sqlite_check(conn) -> str:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows[:5])


def _sqlite_backup(source: Path, target: Path) -> dict:
    try:
        src = sqlite3.connect(str(source), timeout=30)
        try:
            src.execute("PRAGMA busy_timeout = 30000")
            dst = sqlite3.connect(str(target))
            try:
                src.backup(dst)  # all pages in one step: one read transaction, one instant
                dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
                check = _sqlite_check(dst)
                if check != "ok":
                    raise BackupError(f"备份副本未通过完整性检查：{check}")
                info = {"tables": _sqlite_counts(dst), "migrations": _sqlite_migrations(dst),
                        "integrity_check": check, "sqlite_version": sqlite3.sqlite_version}
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"SQLite 备份失败：{exc}")
    return info


# ---- PostgreSQL --------------------------------------------------------------------------

def _pg_tools(*names):
    for name in names:
        if shutil.which(name) is None:
            raise BackupError(f"找不到 {name}，请先安装 PostgreSQL 客户端（如 apt-get install postgresql-client）")


class _PG:
    """Connection parameters of a postgresql:// URL, read the way crm.db reads them."""

    def __init__(self, url: str, dbname: str | None = None):
        from crm.db import make_database
        database = make_database(url)
        params = dict(database.connect_params)
        params.pop("options", None)
        self.params = {k: v for k, v in params.items() if v is not None}
        self.dbname = dbname or database.database
        self.schema_param = parse_qs(urlparse(url).query).get("schema", [""])[0]

    def other(self, dbname):
        clone = object.__new__(_PG)
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
            raise BackupError(f"无法连接数据库：{_first_line(str(exc))}")
        conn.autocommit = autocommit
        return conn

    def schema(self, cur) -> str:
        """The app's schema: ?schema=NAME, else where unqualified names go (normally public)."""
        if self.schema_param:
            return self.schema_param
        cur.execute("SELECT current_schema()")
        return cur.fetchone()[0] or "public"


def _first_line(text: str) -> str:
    """The first error line of a tool's output, without psql's 'psql:FILE:LINE: ' prefix."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    found = next((line for line in lines if "ERROR:" in line or "error:" in line or "FATAL:" in line),
                 lines[0] if lines else "（无输出）")
    return re.sub(r"^psql:\S*:\d+: ", "", found)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _schema_exists(cur, schema) -> bool:
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    return cur.fetchone() is not None


def _schema_state(cur, schema):
    """None when the schema does not exist, else how many relations it holds."""
    if not _schema_exists(cur, schema):
        return None
    cur.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s", (schema,))
    return cur.fetchone()[0]


def _pg_tables(cur, schema) -> list[str]:
    cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname", (schema,))
    return [r[0] for r in cur.fetchall()]


def _pg_counts(cur, schema) -> dict:
    counts = {}
    for table in _pg_tables(cur, schema):
        cur.execute(f"SELECT count(*) FROM {_ident(schema)}.{_ident(table)}")
        counts[table] = cur.fetchone()[0]
    return counts


def _pg_trgm_schema(cur):
    cur.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname = 'pg_trgm'")
    row = cur.fetchone()
    return row[0] if row else None


def _run(args, env, what):
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise BackupError(f"{what}失败：{exc}")
    if done.returncode != 0:
        raise BackupError(f"{what}失败：{_first_line(done.stderr)}")
    return done


def _pg_dump(pg: _PG, schema: str, target: Path, snapshot: str | None = None):
    args = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
            f"--schema={_ident(schema)}", f"--file={target}"]
    if snapshot:
        args.append(f"--snapshot={snapshot}")
    _run(args, pg.env(), "pg_dump 导出")


def _pg_backup(url: str, target: Path) -> dict:
    pg = _PG(url)
    conn = pg.connect()
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cur:
            schema = pg.schema(cur)
            if not _schema_exists(cur, schema):
                raise BackupError(f"数据库中没有 schema {schema}")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            counts = _pg_counts(cur, schema)  # in the snapshot that pg_dump reads too
            migrations = []
            if MIGRATION_TABLE in counts:
                cur.execute(f"SELECT name FROM {_ident(schema)}.{_ident(MIGRATION_TABLE)} ORDER BY id")
                migrations = [r[0] for r in cur.fetchall()]
            trgm = _pg_trgm_schema(cur)
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
            _pg_dump(pg, schema, target, snapshot)
        conn.rollback()
    finally:
        conn.close()
    return {"schema": schema, "tables": counts, "migrations": migrations,
            "pg_trgm_schema": trgm, "server_version": version}


# ---- restore -----------------------------------------------------------------------------

def read_manifest(src: Path) -> dict:
    path = src / MANIFEST
    if not src.is_dir():
        raise BackupError(f"找不到备份目录：{src}")
    if not path.is_file():
        raise BackupError(f"{src} 中没有 {MANIFEST}：不是备份目录，或备份没有完成")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise BackupError(f"无法读取 {MANIFEST}：{exc}")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"不支持的备份格式：{manifest.get('format') if isinstance(manifest, dict) else '?'}")
    for key in ("backend", "database_file", "database_sha256", "tables", "uploads", "migrations"):
        if key not in manifest:
            raise BackupError(f"{MANIFEST} 缺少 {key}")
    expected_file = {"sqlite": SQLITE_FILE, "postgresql": PG_FILE}.get(manifest["backend"])
    if manifest["database_file"] != expected_file:
        raise BackupError(f"{MANIFEST} 中的数据库类型或文件名无效")
    from crm.schema import MIGRATIONS_DIR
    known = {path.stem for path in MIGRATIONS_DIR.glob("*.py")}
    newer = [name for name in manifest["migrations"] if name not in known]
    if newer:
        raise BackupError(f"备份来自更新版本的程序（有本程序没有的迁移 {newer[0]}），请先升级程序再恢复")
    db_file = src / manifest["database_file"]
    if not db_file.is_file():
        raise BackupError(f"备份中缺少数据库文件 {manifest['database_file']}")
    if _sha256(db_file) != manifest["database_sha256"]:
        raise BackupError(f"数据库文件 {manifest['database_file']} 的校验和与 {MANIFEST} 不符，备份已损坏")
    files = len(_list_files(src / UPLOADS))
    if files != manifest["uploads"]["files"]:
        raise BackupError(f"备份中的照片文件有 {files} 个，{MANIFEST} 记录的是 {manifest['uploads']['files']} 个")
    return manifest


def _not_empty_message(counts: dict) -> str:
    names = {"enterprise": "企业", "app_user": "用户", "org_unit": "单位"}
    order = [t for t in names if counts.get(t)] + sorted(t for t in counts if t not in names and counts[t])
    text = "、".join(f"{names.get(t, t)} {counts[t]} 条" for t in order[:3])
    if len(order) > 3:
        text += f"，共 {len(order)} 张表有数据"
    return f"目标数据库已有数据（{text}），只能恢复到空实例"


def _data_counts(count, tables) -> dict:
    """{table: rows} of the tables holding rows other than the migrations' seeds;
    count(table, where) runs the query."""
    present = {}
    for table in tables:
        n = count(table, SEED_ROWS.get(table, "true"))
        if n:
            present[table] = n
    return present


def restore(database_url: str, upload_dir, src) -> dict:
    """Restore the backup in src into the (empty) database and upload directory given.
    Returns the manifest with "seconds" of this restore."""
    started = time.monotonic()
    src, upload_dir = Path(src), Path(upload_dir)
    manifest = read_manifest(src)
    backend = backend_of(database_url)
    if manifest["backend"] != backend:
        raise BackupError(f"这是 {_label(manifest['backend'])} 的备份，不能恢复到 {_label(backend)} 数据库"
                          "（不支持跨数据库类型恢复）")

    def uploads_empty():  # checked after the database, before anything is changed
        present = _list_files(upload_dir)
        if present:
            raise BackupError(f"照片上传目录 {upload_dir} 中已有 {len(present)} 个文件，只能恢复到空实例")

    if backend == "sqlite":
        _sqlite_restore(src / manifest["database_file"], _sqlite_path(database_url), manifest, uploads_empty)
    else:
        _pg_tools("pg_restore", "pg_dump", "psql")
        _pg_restore(database_url, src / manifest["database_file"], manifest, uploads_empty)
    files, _ = _copy_files(src / UPLOADS, upload_dir)
    if files != manifest["uploads"]["files"]:
        raise BackupError(f"恢复了 {files} 个照片文件，备份中有 {manifest['uploads']['files']} 个")
    return {**manifest, "seconds": round(time.monotonic() - started, 3)}


def _sqlite_restore(source: Path, target: Path, manifest: dict, precheck):
    if target.exists():
        try:
            conn = sqlite3.connect(str(target), timeout=10)
            try:
                present = _data_counts(
                    lambda t, where: conn.execute(f'SELECT count(*) FROM "{t}" WHERE {where}').fetchone()[0],
                    _sqlite_tables(conn))
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"目标 {target} 不是可用的 SQLite 数据库：{exc}")
        if present:
            raise BackupError(_not_empty_message(present))
    precheck()
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:8]}")
    try:
        shutil.copyfile(source, staged)
        conn = sqlite3.connect(str(staged))
        try:
            check = _sqlite_check(conn)
            counts = _sqlite_counts(conn)
        finally:
            conn.close()
        if check != "ok":
            raise BackupError(f"备份的数据库未通过完整性检查：{check}")
        _compare(counts, manifest["tables"])
        for suffix in ("-wal", "-shm", "-journal"):  # the empty target's; never mix them in
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    conn = sqlite3.connect(str(target))
    try:
        _compare(_sqlite_counts(conn), manifest["tables"])
    finally:
        conn.close()


def _compare(counts: dict, expected: dict):
    wrong = [f"{t}: {counts.get(t)} ≠ {n}" for t, n in expected.items() if counts.get(t) != n]
    if wrong:
        raise BackupError("恢复后的行数与备份清单不符：" + "；".join(wrong[:5]))


def _pg_restore(url: str, dump: Path, manifest: dict, precheck):
    pg = _PG(url)
    source_schema = manifest.get("schema") or "public"
    conn = pg.connect()
    try:
        with conn.cursor() as cur:
            target_schema = pg.schema(cur)
            if _schema_exists(cur, target_schema):
                def count(table, where):
                    cur.execute(f"SELECT count(*) FROM {_ident(target_schema)}.{_ident(table)} WHERE {where}")
                    return cur.fetchone()[0]
                present = _data_counts(count, _pg_tables(cur, target_schema))
                if present:
                    raise BackupError(_not_empty_message(present))
            source_state = _schema_state(cur, source_schema)
        conn.rollback()
    finally:
        conn.close()
    precheck()
    if source_schema == target_schema or not source_state:  # absent, or holds nothing
        _pg_load(pg, dump, source_schema, target_schema, manifest["tables"], final=True,
                 source_exists=source_state is not None)
        return
    # Schema A is in use in the target database: rename it in a temporary database.
    staging = f"crm_restore_{uuid.uuid4().hex[:12]}"
    admin = pg.connect(autocommit=True)
    try:
        with admin.cursor() as cur:
            import psycopg2
            try:
                cur.execute(f"CREATE DATABASE {_ident(staging)}")
            except psycopg2.Error as exc:
                raise BackupError(f"备份来自 schema {source_schema}，它在目标数据库中已存在；改名恢复到 "
                                  f"{target_schema} 需要临时数据库，但无法创建（需要 CREATEDB 权限）："
                                  f"{_first_line(str(exc))}")
        try:
            with tempfile.TemporaryDirectory(prefix="crm-restore-") as tmp:
                renamed = Path(tmp) / "renamed.dump"
                stage = pg.other(staging)
                conn = stage.connect()
                try:
                    with conn.cursor() as cur:
                        state = _schema_state(cur, source_schema)
                    conn.rollback()
                finally:
                    conn.close()
                if state:
                    raise BackupError(f"临时数据库的 schema {source_schema} 不是空的（模板数据库 template1 中有表？）")
                _pg_load(stage, dump, source_schema, target_schema, manifest["tables"], final=False,
                         source_exists=state is not None)
                _pg_dump(stage, target_schema, renamed)
                _pg_load(pg, renamed, target_schema, target_schema, manifest["tables"], final=True,
                         source_exists=True)
        finally:
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {_ident(staging)} WITH (FORCE)")
    finally:
        admin.close()


_TOC_LINE = re.compile(r"^\d+; \d+ \d+ (SCHEMA|COMMENT|INDEX) (\S+) (\S+)")


def _toc(pg: _PG, dump: Path) -> str:
    """The dump's table of contents without the schema itself (the target's is used) and the
    pg_trgm indexes (rebuilt afterwards)."""
    listing = _run(["pg_restore", "--list", str(dump)], pg.env(), "读取备份目录").stdout
    kept = []
    for line in listing.splitlines():
        match = _TOC_LINE.match(line)
        if match:
            kind, namespace, name = match.groups()
            if kind == "SCHEMA" or (kind == "COMMENT" and name == "SCHEMA") or \
                    (kind == "INDEX" and name in PG_TRGM_INDEXES):
                continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def _pg_load(pg: _PG, dump: Path, source: str, target: str, expected: dict, final: bool,
             source_exists: bool):
    """Replay `dump` (made from schema `source`) into schema `target` of pg's database, in one
    transaction that first checks the target is empty and last checks the row counts. When the
    schemas differ, `source` must be absent or hold no relations in this database; the tables are
    restored there and moved to `target`. `final` rebuilds the pg_trgm indexes (not needed in a
    staging database)."""
    S, T = _ident(source), _ident(target)
    seeds = " ".join(f"WHEN {_lit(t)} THEN {_lit(where)}" for t, where in SEED_ROWS.items())
    prelude = [
        "SET client_min_messages = warning;",
        f"CREATE SCHEMA IF NOT EXISTS {T};",
        # Re-check emptiness under lock, then drop the empty tables (e.g. of `crm db upgrade`).
        f"""DO $crm$ DECLARE r record; found boolean; BEGIN
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {_lit(target)} AND c.relkind IN ('r', 'p') LOOP
    EXECUTE format('LOCK TABLE %I.%I IN ACCESS EXCLUSIVE MODE', {_lit(target)}, r.relname);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE ' || CASE r.relname {seeds} ELSE 'true' END || ')',
                   {_lit(target)}, r.relname) INTO found;
    IF found THEN RAISE EXCEPTION 'crm-restore: target not empty (%)', r.relname; END IF;
  END LOOP;
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {_lit(target)} AND c.relkind IN ('r', 'p') LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I.%I CASCADE', {_lit(target)}, r.relname);
  END LOOP;
END $crm$;""",
    ]
    postlude = []
    if source != target:
        # Schema A was found absent (made here and dropped below; RESTRICT, so anything left
        # behind aborts the restore) or without relations (kept; checked empty again below).
        prelude.append(f"CREATE SCHEMA IF NOT EXISTS {S};" if source_exists else f"CREATE SCHEMA {S};")
        if source_exists:
            prelude.append(f"""DO $crm$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = {_lit(source)}) THEN
    RAISE EXCEPTION 'crm-restore: schema % is in use', {_lit(source)};
  END IF;
END $crm$;""")
        postlude.append(f"""DO $crm$ DECLARE r record; BEGIN
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {_lit(source)} AND c.relkind IN ('r', 'p') LOOP
    EXECUTE format('ALTER TABLE %I.%I SET SCHEMA %I', {_lit(source)}, r.relname, {_lit(target)});
  END LOOP;
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {_lit(source)} AND c.relkind IN ('S', 'v', 'm') LOOP
    EXECUTE format('ALTER %s %I.%I SET SCHEMA %I',
                   CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END,
                   {_lit(source)}, r.relname, {_lit(target)});
  END LOOP;
END $crm$;""")
        if source_exists:
            postlude.append(f"""DO $crm$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = {_lit(source)}) THEN
    RAISE EXCEPTION 'crm-restore: objects left in schema %', {_lit(source)};
  END IF;
END $crm$;""")
        else:
            postlude.append(f"DROP SCHEMA {S};")
    if final:
        prelude.append("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;")
        for index, (table, column) in PG_TRGM_INDEXES.items():
            postlude.append(f"""DO $crm$ DECLARE ext text; BEGIN
  SELECT n.nspname INTO ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'pg_trgm';
  IF to_regclass(format('%I.%I', {_lit(target)}, {_lit(table)})) IS NOT NULL THEN
    EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (%I %I.gin_trgm_ops)',
                   {_lit(index)}, {_lit(target)}, {_lit(table)}, {_lit(column)}, ext);
  END IF;
END $crm$;""")
    checks = "\n".join(
        f"  EXECUTE format('SELECT count(*) FROM %I.%I', {_lit(target)}, {_lit(t)}) INTO n;\n"
        f"  IF n <> {int(c)} THEN RAISE EXCEPTION 'crm-restore: count % is % not %', {_lit(t)}, n, {int(c)};"
        " END IF;"
        for t, c in sorted(expected.items()))
    postlude.append(f"DO $crm$ DECLARE n bigint; BEGIN\n{checks or '  NULL;'}\nEND $crm$;")
    with tempfile.TemporaryDirectory(prefix="crm-restore-") as tmp:
        tmp = Path(tmp)
        (tmp / "toc.list").write_text(_toc(pg, dump))
        (tmp / "prelude.sql").write_text("\n".join(prelude) + "\n", encoding="utf-8")
        (tmp / "postlude.sql").write_text("\n".join(postlude) + "\n", encoding="utf-8")
        _run(["pg_restore", "--no-owner", "--no-privileges", f"--use-list={tmp / 'toc.list'}",
              f"--file={tmp / 'restore.sql'}", str(dump)], pg.env(), "pg_restore 读取备份")
        _run(["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
              "--output=/dev/null", f"--file={tmp / 'prelude.sql'}", f"--file={tmp / 'restore.sql'}",
              f"--file={tmp / 'postlude.sql'}"], pg.env(), "恢复数据库（已全部撤销）")
    if final:
        conn = pg.connect()
        try:
            with conn.cursor() as cur:
                _compare(_pg_counts(cur, target), expected)
            conn.rollback()
        finally:
            conn.close()
