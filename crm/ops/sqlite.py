"""SQLite: a backup copied with the online backup API, a restore checked before it is moved
into place."""
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

from crm.ops.common import MIGRATION_TABLE, BackupError, compare, data_counts, not_empty_message


def table_names(conn) -> list[str]:
    rows = conn.execute("PRAGMA main.table_list").fetchall()
    return sorted(r[1] for r in rows if r[2] == "table" and not r[1].startswith("sqlite_"))


def row_counts(conn) -> dict:
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in table_names(conn)}


def applied_migrations(conn) -> list[str]:
    if MIGRATION_TABLE not in table_names(conn):
        return []
    return [r[0] for r in conn.execute(f'SELECT name FROM "{MIGRATION_TABLE}" ORDER BY id')]


def integrity(conn) -> str:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows[:5])


def backup_file(source: Path, target: Path) -> dict:
    try:
        src = sqlite3.connect(str(source), timeout=30)
        try:
            src.execute("PRAGMA busy_timeout = 30000")
            dst = sqlite3.connect(str(target))
            try:
                src.backup(dst)  # all pages in one step: one read transaction, one instant
                dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
                check = integrity(dst)
                if check != "ok":
                    raise BackupError(f"备份副本未通过完整性检查：{check}")
                info = {"tables": row_counts(dst), "migrations": applied_migrations(dst),
                        "integrity_check": check, "sqlite_version": sqlite3.sqlite_version}
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"SQLite 备份失败：{exc}")
    return info




def restore_file(source: Path, target: Path, manifest: dict, precheck):
    if target.exists():
        try:
            conn = sqlite3.connect(str(target), timeout=10)
            try:
                present = data_counts(
                    lambda t, where: conn.execute(f'SELECT count(*) FROM "{t}" WHERE {where}').fetchone()[0],
                    table_names(conn))
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"目标 {target} 不是可用的 SQLite 数据库：{exc}")
        if present:
            raise BackupError(not_empty_message(present))
    precheck()
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:8]}")
    try:
        shutil.copyfile(source, staged)
        conn = sqlite3.connect(str(staged))
        try:
            check = integrity(conn)
            counts = row_counts(conn)
        finally:
            conn.close()
        if check != "ok":
            raise BackupError(f"备份的数据库未通过完整性检查：{check}")
        compare(counts, manifest["tables"])
        for suffix in ("-wal", "-shm", "-journal"):  # the empty target's; never mix them in
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    conn = sqlite3.connect(str(target))
    try:
        compare(row_counts(conn), manifest["tables"])
    finally:
        conn.close()
