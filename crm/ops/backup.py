"""`backup` and `restore` of an instance (the database and the uploaded photos); how each
backend does it: crm.ops.sqlite, crm.ops.postgres, crm.ops.pg_restore."""
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from crm.ops import pg_restore, postgres, sqlite
from crm.ops.common import (FORMAT, MANIFEST, PG_FILE, SQLITE_FILE, UPLOADS, BackupError, app_version,
                            backend_of, copy_files, inside, label, list_files, read_manifest, sha256,
                            sqlite_path, summary)

__all__ = ["BackupError", "backup", "restore", "summary"]

def _prepare_dest(dest: Path, upload_dir: Path):
    if dest.exists() and not dest.is_dir():
        raise BackupError(f"备份目标 {dest} 已存在且不是目录")
    if dest.is_dir() and any(dest.iterdir()):
        raise BackupError(f"备份目录 {dest} 已存在且不是空目录；请换一个新目录")
    if inside(dest, upload_dir):
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
        postgres.tools("pg_dump")
    else:
        source = sqlite_path(database_url)
        if not source.is_file():
            raise BackupError(f"找不到数据库文件：{source}")
    _prepare_dest(dest, upload_dir)
    created_at = datetime.now(timezone.utc)
    if backend == "sqlite":
        info = sqlite.backup_file(source, dest / SQLITE_FILE)
        db_file = SQLITE_FILE
    else:
        info = postgres.backup_schema(database_url, dest / PG_FILE)
        db_file = PG_FILE
    files, size = copy_files(upload_dir, dest / UPLOADS)  # after the snapshot: see the docstring
    (dest / UPLOADS).mkdir(exist_ok=True)
    manifest = {
        "format": FORMAT,
        "app": "yiqi-yidang-crm",
        "app_version": app_version(),
        "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "backend": backend,
        "database_file": db_file,
        "database_sha256": sha256(dest / db_file),
        **info,
        "uploads": {"dir": UPLOADS, "files": files, "bytes": size},
    }
    manifest["seconds"] = round(time.monotonic() - started, 3)
    # Written last: a directory without a manifest is an unfinished backup.
    tmp = dest / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, dest / MANIFEST)
    return manifest


def restore(database_url: str, upload_dir, src) -> dict:
    """Restore the backup in src into the (empty) database and upload directory given.
    Returns the manifest with "seconds" of this restore."""
    started = time.monotonic()
    src, upload_dir = Path(src), Path(upload_dir)
    manifest = read_manifest(src)
    backend = backend_of(database_url)
    if manifest["backend"] != backend:
        raise BackupError(f"这是 {label(manifest['backend'])} 的备份，不能恢复到 {label(backend)} 数据库"
                          "（不支持跨数据库类型恢复）")

    def uploads_empty():  # checked after the database, before anything is changed
        present = list_files(upload_dir)
        if present:
            raise BackupError(f"照片上传目录 {upload_dir} 中已有 {len(present)} 个文件，只能恢复到空实例")

    if backend == "sqlite":
        sqlite.restore_file(src / manifest["database_file"], sqlite_path(database_url), manifest, uploads_empty)
    else:
        postgres.tools("pg_restore", "pg_dump", "psql")
        pg_restore.restore_dump(database_url, src / manifest["database_file"], manifest, uploads_empty)
    files, _ = copy_files(src / UPLOADS, upload_dir)
    if files != manifest["uploads"]["files"]:
        raise BackupError(f"恢复了 {files} 个照片文件，备份中有 {manifest['uploads']['files']} 个")
    return {**manifest, "seconds": round(time.monotonic() - started, 3)}
