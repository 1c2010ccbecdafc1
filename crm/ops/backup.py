"""`backup` and `restore` of an instance (the database and the files of its storage: photos,
founding documents); how each backend does it: crm.ops.sqlite, crm.ops.postgres,
crm.ops.pg_restore; the files: crm.ops.common (copy_out, copy_in)."""
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from crm.ops import pg_restore, postgres, sqlite
from crm.ops.common import (FORMAT, MANIFEST, PG_FILE, SQLITE_FILE, UPLOADS, BackupError, app_version,
                            backend_of, copy_in, copy_out, describe, inside, kept_keys, label, not_keys, read_manifest,
                            sha256, sqlite_path, storage_of, summary)

__all__ = ["BackupError", "backup", "restore", "summary"]


def _prepare_dest(dest: Path, files):
    if dest.exists() and not dest.is_dir():
        raise BackupError(f"备份目标 {dest} 已存在且不是目录")
    if dest.is_dir() and any(dest.iterdir()):
        raise BackupError(f"备份目录 {dest} 已存在且不是空目录；请换一个新目录")
    if files.local_root is not None and inside(dest, files.local_root):
        raise BackupError("备份目录不能放在照片上传目录里面")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"无法创建备份目录 {dest}：{exc.strerror or exc}")


def backup(database_url: str, files, dest) -> dict:
    """Back up the database named by database_url and the files of the storage `files` (a
    crm.storage.Storage, or a directory) into dest (created; must not exist or be empty). Safe
    while the app runs. Returns the manifest."""
    started = time.monotonic()
    dest, files = Path(dest), storage_of(files)
    backend = backend_of(database_url)
    if backend == "postgresql":
        postgres.tools("pg_dump")
    else:
        source = sqlite_path(database_url)
        if not source.is_file():
            raise BackupError(f"找不到数据库文件：{source}")
    _prepare_dest(dest, files)
    created_at = datetime.now(timezone.utc)
    if backend == "sqlite":
        info = sqlite.backup_file(source, dest / SQLITE_FILE)
        db_file = SQLITE_FILE
    else:
        info = postgres.backup_schema(database_url, dest / PG_FILE)
        db_file = PG_FILE
    count, size = copy_out(files, dest / UPLOADS)  # after the snapshot: see the docstring
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
        "uploads": {"dir": UPLOADS, "files": count, "bytes": size},
    }
    manifest["seconds"] = round(time.monotonic() - started, 3)
    # Written last: a directory without a manifest is an unfinished backup.
    tmp = dest / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, dest / MANIFEST)
    return manifest


def restore(database_url: str, files, src) -> dict:
    """Restore the backup in src into the (empty) database and storage (or directory) given.
    Returns the manifest with "seconds" of this restore."""
    started = time.monotonic()
    src, files = Path(src), storage_of(files)
    manifest = read_manifest(src)
    backend = backend_of(database_url)
    if manifest["backend"] != backend:
        raise BackupError(f"这是 {label(manifest['backend'])} 的备份，不能恢复到 {label(backend)} 数据库"
                          "（不支持跨数据库类型恢复）")

    def uploads_empty():  # checked after the database, before anything is changed
        present = kept_keys(files)
        if present:
            raise BackupError(f"{describe(files)} 中已有 {len(present)} 个文件，只能恢复到空实例")
        strays = not_keys(src / UPLOADS)
        if strays:
            raise BackupError(f"备份中的文件名 {strays[0]} 无效，无法恢复到文件存储")

    if backend == "sqlite":
        sqlite.restore_file(src / manifest["database_file"], sqlite_path(database_url), manifest, uploads_empty)
    else:
        postgres.tools("pg_restore", "pg_dump", "psql")
        pg_restore.restore_dump(database_url, src / manifest["database_file"], manifest, uploads_empty)
    count = copy_in(src / UPLOADS, files)
    if count != manifest["uploads"]["files"]:
        raise BackupError(f"恢复了 {count} 个照片文件，备份中有 {manifest['uploads']['files']} 个")
    return {**manifest, "seconds": round(time.monotonic() - started, 3)}
