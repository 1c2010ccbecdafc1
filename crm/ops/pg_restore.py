"""PostgreSQL restore: the dump replayed by psql in one transaction that checks the target is
empty first and the row counts last; a schema renamed on the way (see crm.ops)."""
import re
import tempfile
import uuid
from pathlib import Path

from crm.ops import postgres
from crm.ops.common import PG_TRGM_INDEXES, SEED_ROWS, BackupError, compare, data_counts, not_empty_message


def restore_dump(url: str, dump: Path, manifest: dict, precheck):
    pg = postgres.PG(url)
    source_schema = manifest.get("schema") or "public"
    conn = pg.connect()
    try:
        with conn.cursor() as cur:
            target_schema = pg.schema(cur)
            if postgres.schema_exists(cur, target_schema):
                def count(table, where):
                    cur.execute(f"SELECT count(*) FROM {postgres.ident(target_schema)}.{postgres.ident(table)} WHERE {where}")
                    return cur.fetchone()[0]
                present = data_counts(count, postgres.table_names(cur, target_schema))
                if present:
                    raise BackupError(not_empty_message(present))
            source_state = postgres.schema_state(cur, source_schema)
        conn.rollback()
    finally:
        conn.close()
    precheck()
    if source_schema == target_schema or not source_state:  # absent, or holds nothing
        load(pg, dump, source_schema, target_schema, manifest["tables"], final=True,
                 source_exists=source_state is not None)
        return
    # Schema A is in use in the target database: rename it in a temporary database.
    staging = f"crm_restore_{uuid.uuid4().hex[:12]}"
    admin = pg.connect(autocommit=True)
    try:
        with admin.cursor() as cur:
            import psycopg2
            try:
                cur.execute(f"CREATE DATABASE {postgres.ident(staging)}")
            except psycopg2.Error as exc:
                raise BackupError(f"备份来自 schema {source_schema}，它在目标数据库中已存在；改名恢复到 "
                                  f"{target_schema} 需要临时数据库，但无法创建（需要 CREATEDB 权限）："
                                  f"{postgres.first_line(str(exc))}")
        try:
            with tempfile.TemporaryDirectory(prefix="crm-restore-") as tmp:
                renamed = Path(tmp) / "renamed.dump"
                stage = pg.other(staging)
                conn = stage.connect()
                try:
                    with conn.cursor() as cur:
                        state = postgres.schema_state(cur, source_schema)
                    conn.rollback()
                finally:
                    conn.close()
                if state:
                    raise BackupError(f"临时数据库的 schema {source_schema} 不是空的（模板数据库 template1 中有表？）")
                load(stage, dump, source_schema, target_schema, manifest["tables"], final=False,
                         source_exists=state is not None)
                postgres.dump(stage, target_schema, renamed)
                load(pg, renamed, target_schema, target_schema, manifest["tables"], final=True,
                         source_exists=True)
        finally:
            with admin.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS {postgres.ident(staging)} WITH (FORCE)")
    finally:
        admin.close()


TOC_LINE = re.compile(r"^\d+; \d+ \d+ (SCHEMA|COMMENT|INDEX) (\S+) (\S+)")


def toc(pg: postgres.PG, dump: Path) -> str:
    """The dump's table of contents without the schema itself (the target's is used) and the
    pg_trgm indexes (rebuilt afterwards)."""
    listing = postgres.run(["pg_restore", "--list", str(dump)], pg.env(), "读取备份目录").stdout
    kept = []
    for line in listing.splitlines():
        match = TOC_LINE.match(line)
        if match:
            kind, namespace, name = match.groups()
            if kind == "SCHEMA" or (kind == "COMMENT" and name == "SCHEMA") or \
                    (kind == "INDEX" and name in PG_TRGM_INDEXES):
                continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def load(pg: postgres.PG, dump: Path, source: str, target: str, expected: dict, final: bool,
             source_exists: bool):
    """Replay `dump` (made from schema `source`) into schema `target` of pg's database, in one
    transaction that first checks the target is empty and last checks the row counts. When the
    schemas differ, `source` must be absent or hold no relations in this database; the tables are
    restored there and moved to `target`. `final` rebuilds the pg_trgm indexes (not needed in a
    staging database)."""
    S, T = postgres.ident(source), postgres.ident(target)
    seeds = " ".join(f"WHEN {postgres.lit(t)} THEN {postgres.lit(where)}" for t, where in SEED_ROWS.items())
    prelude = [
        "SET client_min_messages = warning;",
        f"CREATE SCHEMA IF NOT EXISTS {T};",
        # Re-check emptiness under lock, then drop the empty tables (e.g. of `crm db upgrade`).
        f"""DO $crm$ DECLARE r record; found boolean; BEGIN
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {postgres.lit(target)} AND c.relkind IN ('r', 'p') LOOP
    EXECUTE format('LOCK TABLE %I.%I IN ACCESS EXCLUSIVE MODE', {postgres.lit(target)}, r.relname);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE ' || CASE r.relname {seeds} ELSE 'true' END || ')',
                   {postgres.lit(target)}, r.relname) INTO found;
    IF found THEN RAISE EXCEPTION 'crm-restore: target not empty (%)', r.relname; END IF;
  END LOOP;
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {postgres.lit(target)} AND c.relkind IN ('r', 'p') LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I.%I CASCADE', {postgres.lit(target)}, r.relname);
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
             WHERE n.nspname = {postgres.lit(source)}) THEN
    RAISE EXCEPTION 'crm-restore: schema % is in use', {postgres.lit(source)};
  END IF;
END $crm$;""")
        postlude.append(f"""DO $crm$ DECLARE r record; BEGIN
  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {postgres.lit(source)} AND c.relkind IN ('r', 'p') LOOP
    EXECUTE format('ALTER TABLE %I.%I SET SCHEMA %I', {postgres.lit(source)}, r.relname, {postgres.lit(target)});
  END LOOP;
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = {postgres.lit(source)} AND c.relkind IN ('S', 'v', 'm') LOOP
    EXECUTE format('ALTER %s %I.%I SET SCHEMA %I',
                   CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END,
                   {postgres.lit(source)}, r.relname, {postgres.lit(target)});
  END LOOP;
END $crm$;""")
        if source_exists:
            postlude.append(f"""DO $crm$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = {postgres.lit(source)}) THEN
    RAISE EXCEPTION 'crm-restore: objects left in schema %', {postgres.lit(source)};
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
  IF to_regclass(format('%I.%I', {postgres.lit(target)}, {postgres.lit(table)})) IS NOT NULL THEN
    EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (%I %I.gin_trgm_ops)',
                   {postgres.lit(index)}, {postgres.lit(target)}, {postgres.lit(table)}, {postgres.lit(column)}, ext);
  END IF;
END $crm$;""")
    checks = "\n".join(
        f"  EXECUTE format('SELECT count(*) FROM %I.%I', {postgres.lit(target)}, {postgres.lit(t)}) INTO n;\n"
        f"  IF n <> {int(c)} THEN RAISE EXCEPTION 'crm-restore: count % is % not %', {postgres.lit(t)}, n, {int(c)};"
        " END IF;"
        for t, c in sorted(expected.items()))
    postlude.append(f"DO $crm$ DECLARE n bigint; BEGIN\n{checks or '  NULL;'}\nEND $crm$;")
    with tempfile.TemporaryDirectory(prefix="crm-restore-") as tmp:
        tmp = Path(tmp)
        (tmp / "toc.list").write_text(toc(pg, dump))
        (tmp / "prelude.sql").write_text("\n".join(prelude) + "\n", encoding="utf-8")
        (tmp / "postlude.sql").write_text("\n".join(postlude) + "\n", encoding="utf-8")
        postgres.run(["pg_restore", "--no-owner", "--no-privileges", f"--use-list={tmp / 'toc.list'}",
              f"--file={tmp / 'restore.sql'}", str(dump)], pg.env(), "pg_restore 读取备份")
        postgres.run(["psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
              "--output=/dev/null", f"--file={tmp / 'prelude.sql'}", f"--file={tmp / 'restore.sql'}",
              f"--file={tmp / 'postlude.sql'}"], pg.env(), "恢复数据库（已全部撤销）")
    if final:
        conn = pg.connect()
        try:
            with conn.cursor() as cur:
                compare(postgres.row_counts(cur, target), expected)
            conn.rollback()
        finally:
            conn.close()
