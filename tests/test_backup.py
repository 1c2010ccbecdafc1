"""`crm backup` / `crm restore`: a backup taken while a writer thread inserts enterprise files is a
consistent snapshot (SQLite integrity_check, counts that match the copy, every enterprise with its
founding event), restores into an empty instance that works (list page, photo), and a restore
refuses a target that is not empty. Each backend is tested in its own run (PostgreSQL when
CRM_TEST_DATABASE_URL is set)."""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage

from config import TestConfig
from crm import create_app, storage
from crm.ops import backup, common, pg_restore, postgres, sqlite
from crm.common.timeutil import fmt_dt
from crm.db import bind, db
from crm.enterprises.search import BACKEND_INDEXES, PG_GRAMS_INDEX
from tests.conftest import BASE_PG_URL, PG_URL, login_as
from tests.fieldwork_helpers import jpeg

pg_only = pytest.mark.skipif(not BASE_PG_URL, reason="CRM_TEST_DATABASE_URL not set (PostgreSQL)")
sqlite_only = pytest.mark.skipif(bool(BASE_PG_URL), reason="SQLite run only")
CRM = [sys.executable, "-c", "from crm.cli import main; main()"]


class Writer(threading.Thread):
    """Creates enterprise files one transaction at a time, on its own connection, until stopped."""

    def __init__(self, app, org, user):
        super().__init__(daemon=True)
        self.app, self.org, self.user = app, org, user
        self.created = 0
        self.error = None
        self.stop = threading.Event()
        self.progress = threading.Condition()

    def run(self):
        from crm.enterprises.services import create_enterprise
        try:
            with self.app.app_context():
                while not self.stop.is_set():
                    create_enterprise({"name": f"并发写入企业{self.created + 1}有限公司",
                                       "org_unit": self.org.id}, self.user,
                                      contact={"name": "张三", "phone": "13800138000"})
                    with self.progress:
                        self.created += 1
                        self.progress.notify_all()
        except Exception as exc:  # reported by finish()
            self.error = exc
        finally:
            if not db.is_closed():
                db.close()

    def wait_for(self, count, timeout=30):
        with self.progress:
            assert self.progress.wait_for(lambda: self.created >= count or self.error, timeout)

    def finish(self):
        self.stop.set()
        self.join(30)
        assert self.error is None, self.error
        return self.created


@pytest.fixture
def world(app, make):
    """An admin, a few files and one photo, in the app's database and upload directory."""
    with app.app_context():
        admin = make.user("admin", username="boss")
        org = make.org("瀛海镇总工会")
        for _ in range(3):
            make.enterprise(org=org, user=admin)
        from crm.photos import services as photos
        from crm.photos.models import Photo
        assert photos.stage([FileStorage(jpeg(), "门头.jpg")], "backup-form", admin) == []
        photo = Photo.get(Photo.form_key == "backup-form")
        photo_bytes = storage.current().read(photos.key_of(photo))
    return {"admin": admin, "org": org, "photo": photo, "photo_bytes": photo_bytes,
            "url": app.config["DATABASE_URL"], "uploads": Path(app.config["UPLOAD_DIR"])}


def _backup_while_writing(app, world, dest, via_cli=False):
    writer = Writer(app, world["org"], world["admin"])
    writer.start()
    try:
        writer.wait_for(5)
        before = writer.created
        if via_cli:
            result = app.test_cli_runner().invoke(args=["backup", str(dest)])
            assert result.exit_code == 0, result.output
            assert "已备份到" in result.output and "照片文件 2 个" in result.output
            manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
        else:
            manifest = backup.backup(world["url"], world["uploads"], dest)
        writer.wait_for(writer.created + 3)  # still writing afterwards
    finally:
        total = writer.finish()
    tables = manifest["tables"]
    # A snapshot of one instant: between the writer's counts, every file with its founding event.
    assert 3 + before <= tables["enterprise"] < 3 + total
    assert tables["founding_event"] == tables["enterprise"]
    assert tables["contact"] == tables["enterprise"] - 3  # the writer's files have one each
    assert tables["photo"] == 1 and tables["app_user"] == 1
    assert manifest["uploads"]["files"] == 2  # the photo and its thumbnail
    assert manifest["migrations"][0] == "0001_initial"
    assert manifest["created_at"].endswith("Z") and manifest["app_version"]
    name = world["photo"].stored_name
    assert (dest / "uploads" / name[:2] / f"{name}.jpg").read_bytes() == world["photo_bytes"]
    return manifest, total


def _check_instance(url, uploads, world, manifest, tmp_path):
    """The restored instance works: same counts, the list page, the photo."""
    application = create_app(TestConfig({"CRM_DATABASE_URL": url, "CRM_UPLOAD_DIR": str(uploads),
                                         "CRM_INSTANCE_DIR": str(tmp_path / "restored-instance")}))
    try:
        from crm.enterprises.models import Enterprise
        from crm.models import MODELS
        db.connect(reuse_if_open=True)
        from crm.audit.models import AuditEvent
        for model in MODELS:
            rows = model.select()
            if model is AuditEvent:  # `crm restore` records itself once the copy is in place
                rows = rows.where(AuditEvent.kind != "restore")
            assert rows.count() == manifest["tables"][model._meta.table_name], model
        assert Enterprise.select().count() == manifest["tables"]["enterprise"]
        client = application.test_client()
        login_as(client, world["admin"])
        page = client.get("/enterprises/?q=并发写入")
        assert page.status_code == 200
        assert "并发写入企业1有限公司" in page.get_data(as_text=True)  # search (FTS / pg_trgm) works
        photo = client.get(f"/photos/{world['photo'].id}")
        assert photo.status_code == 200 and photo.data == world["photo_bytes"]
        with application.app_context():  # and it takes writes
            from crm.enterprises.services import create_enterprise
            create_enterprise({"name": "恢复后新建企业有限公司", "org_unit": world["org"].id}, world["admin"])
    finally:
        if not db.is_closed():
            db.close()


def test_trgm_indexes_known():
    # The character pairs' index (an array's GIN, no pg_trgm class) is restored as dumped.
    assert BACKEND_INDEXES["postgresql"] - {PG_GRAMS_INDEX} <= set(common.PG_TRGM_INDEXES)


@pg_only
def test_every_trgm_index_of_the_schema_is_rebuilt_on_restore(app):
    """A restore leaves out and rebuilds the pg_trgm indexes (their operator class lives in
    public); one it does not know would break the restore."""
    with app.app_context():
        rows = db.execute_sql("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
        trgm = {name for name, definition in rows.fetchall() if "gin_trgm_ops" in definition}
    assert trgm == set(common.PG_TRGM_INDEXES)


# ---- SQLite --------------------------------------------------------------------------------

@sqlite_only
def test_sqlite_backup_while_writing_and_restore(app, world, tmp_path):
    dest = tmp_path / "backup"
    manifest, total = _backup_while_writing(app, world, dest)
    assert manifest["backend"] == "sqlite" and manifest["database_file"] == "crm.db"
    assert sorted(p.name for p in dest.iterdir()) == ["crm.db", "manifest.json", "uploads"]
    copy = sqlite3.connect(dest / "crm.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = sqlite.table_names(copy)
        assert set(tables) == set(manifest["tables"]) and "enterprise_fts" not in tables
        for table in tables:
            assert copy.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == manifest["tables"][table]
    finally:
        copy.close()
    db.connect(reuse_if_open=True)
    live = db.execute_sql("SELECT count(*) FROM enterprise").fetchone()[0]
    db.close()
    assert live == 3 + total > manifest["tables"]["enterprise"]  # the backup is a point in time

    target = tmp_path / "elsewhere" / "crm.db"
    uploads = tmp_path / "elsewhere" / "uploads"
    restored = backup.restore(f"sqlite:///{target}", uploads, dest)
    assert restored["tables"] == manifest["tables"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["crm.db", "uploads"]  # nothing left over
    _check_instance(f"sqlite:///{target}", uploads, world, manifest, tmp_path)


@sqlite_only
def test_sqlite_cli_backup_while_writing_restores_into_migrated_empty_instance(app, world, tmp_path,
                                                                                template_db):
    dest = tmp_path / "cli-backup"
    manifest, _ = _backup_while_writing(app, world, dest, via_cli=True)
    # Target: an upgraded but empty database (as after `crm db upgrade`), used once in WAL mode.
    target = tmp_path / "new" / "crm.db"
    target.parent.mkdir()
    shutil.copy(template_db, target)
    empty = bind(f"sqlite:///{target}")
    empty.connect()
    empty.execute_sql("SELECT count(*) FROM enterprise")
    empty.close()
    url = f"sqlite:///{target}"
    restorer = create_app(TestConfig({"CRM_DATABASE_URL": url, "CRM_UPLOAD_DIR": str(tmp_path / "new" / "up"),
                                      "CRM_INSTANCE_DIR": str(tmp_path / "new")}))
    result = restorer.test_cli_runner().invoke(args=["restore", str(dest)])
    assert result.exit_code == 0, result.output
    assert "已从" in result.output and "恢复" in result.output
    # The backup's time as the app shows every time: Beijing time.
    made = datetime.strptime(json.loads((dest / "manifest.json").read_text())["created_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert f"备份时间 {fmt_dt(made)}，北京时间" in result.output
    conn = sqlite3.connect(target)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    _check_instance(url, tmp_path / "new" / "up", world, manifest, tmp_path)


@sqlite_only
def test_sqlite_refusals(app, world, tmp_path):
    dest = tmp_path / "b"
    backup.backup(world["url"], world["uploads"], dest)
    env = dict(os.environ, CRM_DATABASE_URL=world["url"], CRM_UPLOAD_DIR=str(tmp_path / "empty-up"),
               CRM_INSTANCE_DIR=str(tmp_path / "instance"))
    env.pop("CRM_SECRET_KEY", None)
    # The app's own database has data: exit 1, one line, no traceback.
    result = subprocess.run(CRM + ["restore", str(dest)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and re.fullmatch(
        r"Error: 目标数据库已有数据（企业 3 条、用户 1 条、单位 2 条，共 \d+ 张表有数据），只能恢复到空实例", lines[0])
    # An empty database but photos in the upload directory.
    runner = app.test_cli_runner()
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    with pytest.raises(backup.BackupError, match="照片上传目录 .* 中已有 2 个文件"):
        backup.restore(fresh, world["uploads"], dest)
    assert not (tmp_path / "fresh.db").exists()
    # A non-empty destination for a backup.
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 1 and "已存在且不是空目录" in result.output
    # Another backend.
    with pytest.raises(backup.BackupError, match="SQLite 的备份，不能恢复到 PostgreSQL"):
        backup.restore("postgresql://nobody@127.0.0.1:1/none", tmp_path / "u", dest)
    # A manifest that does not match the copy: nothing is put in place.
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    manifest["tables"]["enterprise"] += 1
    (dest / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(backup.BackupError, match="行数与备份清单不符：enterprise: 3 ≠ 4"):
        backup.restore(fresh, tmp_path / "u", dest)
    assert not (tmp_path / "fresh.db").exists() and list(tmp_path.glob(".fresh.db*")) == []
    # A backup from a newer program.
    manifest["migrations"].append("0999_future")
    (dest / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(backup.BackupError, match="更新版本的程序.*0999_future"):
        backup.restore(fresh, tmp_path / "u", dest)
    manifest["migrations"].pop()
    (dest / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    # A damaged copy.
    with open(dest / "crm.db", "r+b") as fh:
        fh.seek(200)
        fh.write(b"\xff\xff")
    with pytest.raises(backup.BackupError, match="校验和"):
        backup.restore(fresh, tmp_path / "u", dest)
    # Not a backup.
    result = runner.invoke(args=["restore", str(tmp_path)])
    assert result.exit_code == 1 and "不是备份目录" in result.output


# ---- PostgreSQL ----------------------------------------------------------------------------

def _pg_url(schema, database=None):
    url = BASE_PG_URL
    if database:
        head, _, tail = url.partition("?")
        url = head.rsplit("/", 1)[0] + "/" + database + ("?" + tail if tail else "")
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def _admin_sql(*statements, autocommit_url=None):
    database = bind(autocommit_url or BASE_PG_URL)
    database.connect(reuse_if_open=True)
    try:
        for sql in statements:
            database.execute_sql(sql)
    finally:
        database.close()


@pytest.fixture
def loads(monkeypatch):
    """The replays a restore makes: (database, from schema, to schema)."""
    seen = []
    real = pg_restore.load

    def spy(pg, dump, source, target, *args, **kwargs):
        seen.append((pg.dbname, source, target))
        return real(pg, dump, source, target, *args, **kwargs)
    monkeypatch.setattr(pg_restore, "load", spy)
    return seen


@pg_only
def test_postgres_backup_while_writing_and_restore_to_another_schema(app, world, tmp_path, loads):
    dest = tmp_path / "backup"
    manifest, total = _backup_while_writing(app, world, dest)
    assert manifest["backend"] == "postgresql" and manifest["database_file"] == "database.dump"
    assert manifest["schema"] == PG_URL.rsplit("schema=", 1)[1]
    schema = f"crm_restore_test_{uuid.uuid4().hex[:8]}"
    try:
        # Target: an upgraded but empty schema in the same database, while the source schema
        # (the backup's name) is in use there: goes through a temporary database.
        from crm import schema as migrations
        _admin_sql(f"CREATE SCHEMA {schema}")
        target = bind(_pg_url(schema))
        target.connect()
        migrations.upgrade()
        target.close()
        restored = backup.restore(_pg_url(schema), tmp_path / "up", dest)
        assert restored["tables"] == manifest["tables"]
        base = postgres.PG(BASE_PG_URL).dbname
        assert [(d == base, a, b) for d, a, b in loads] == [
            (False, manifest["schema"], schema), (True, schema, schema)]  # renamed in a staging database
        assert loads[0][0].startswith("crm_restore_")
        database = bind(BASE_PG_URL)
        database.connect()
        assert database.execute_sql("SELECT count(*) FROM pg_database WHERE datname = %s",
                                    (loads[0][0],)).fetchone()[0] == 0  # and it is gone
        database.close()
        _check_instance(_pg_url(schema), tmp_path / "up", world, manifest, tmp_path)
        # The source schema is untouched and still ahead of the backup.
        database = bind(PG_URL)
        database.connect()
        assert database.execute_sql("SELECT count(*) FROM enterprise").fetchone()[0] == 3 + total
        database.close()
    finally:
        _admin_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pg_only
def test_postgres_cli_backup_while_writing_and_restore_into_new_database(app, world, tmp_path, loads):
    dest = tmp_path / "cli-backup"
    manifest, _ = _backup_while_writing(app, world, dest, via_cli=True)
    name = f"crm_restore_test_{uuid.uuid4().hex[:8]}"
    try:
        _admin_sql(f"CREATE DATABASE {name}")
        # A schema name the backup does not have, absent from that database: restored in place.
        url = _pg_url("crm_other", database=name)
        restorer = create_app(TestConfig({"CRM_DATABASE_URL": url, "CRM_UPLOAD_DIR": str(tmp_path / "up"),
                                          "CRM_INSTANCE_DIR": str(tmp_path / "new")}))
        result = restorer.test_cli_runner().invoke(args=["restore", str(dest)])
        assert result.exit_code == 0, result.output
        assert "已从" in result.output and "PostgreSQL" in result.output
        database = bind(url)
        database.connect()
        schemas = {r[0] for r in database.execute_sql("SELECT nspname FROM pg_namespace")}
        assert "crm_other" in schemas and manifest["schema"] not in schemas
        trgm = database.execute_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'enterprise_search_trgm'"
                                    " AND schemaname = 'crm_other'").fetchone()[0]
        assert "gin_trgm_ops" in trgm
        database.close()
        _check_instance(url, tmp_path / "up", world, manifest, tmp_path)
        # And once more under the backup's own schema name in that database (a plain replay).
        same = _pg_url(manifest["schema"], database=name)
        backup.restore(same, tmp_path / "up2", dest)
        _check_instance(same, tmp_path / "up2", world, manifest, tmp_path)
        assert loads == [(name, manifest["schema"], "crm_other"),
                         (name, manifest["schema"], manifest["schema"])]
    finally:
        if not db.is_closed():
            db.close()
        _admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pg_only
def test_postgres_refusals(app, world, tmp_path):
    dest = tmp_path / "b"
    backup.backup(world["url"], world["uploads"], dest)
    env = dict(os.environ, CRM_DATABASE_URL=world["url"], CRM_UPLOAD_DIR=str(tmp_path / "empty-up"),
               CRM_INSTANCE_DIR=str(tmp_path / "instance"))
    env.pop("CRM_SECRET_KEY", None)
    result = subprocess.run(CRM + ["restore", str(dest)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and re.fullmatch(
        r"Error: 目标数据库已有数据（企业 3 条、用户 1 条、单位 2 条，共 \d+ 张表有数据），只能恢复到空实例", lines[0])
    with pytest.raises(backup.BackupError, match="PostgreSQL 的备份，不能恢复到 SQLite"):
        backup.restore(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "u", dest)
    result = app.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 1 and "已存在且不是空目录" in result.output
    # A target schema with data that is not the app's own: refused, and left as it was.
    schema = f"crm_restore_test_{uuid.uuid4().hex[:8]}"
    try:
        _admin_sql(f"CREATE SCHEMA {schema}", f"CREATE TABLE {schema}.notes (id serial, t text)",
                   f"INSERT INTO {schema}.notes (t) VALUES ('keep me')")
        with pytest.raises(backup.BackupError, match=r"目标数据库已有数据（notes 1 条）"):
            backup.restore(_pg_url(schema), tmp_path / "u", dest)
        database = bind(_pg_url(schema))
        database.connect()
        assert database.execute_sql(f"SELECT t FROM {schema}.notes").fetchall() == [("keep me",)]
        # A manifest that does not match the dump: the whole replay is undone.
        database.execute_sql(f"DROP TABLE {schema}.notes")
        database.close()
        manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
        manifest["tables"]["enterprise"] += 1
        (dest / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        with pytest.raises(backup.BackupError, match=r"已全部撤销.*crm-restore: count enterprise is 3 not 4"):
            backup.restore(_pg_url(schema), tmp_path / "u", dest)
        database = bind(_pg_url(schema))
        database.connect()
        assert database.get_tables(schema=schema) == []
        database.close()
    finally:
        _admin_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
