"""What backup and restore share: the backup directory's layout, its manifest, the files, the
checks that an instance is empty. Backup and restore themselves: crm.ops.backup."""
import hashlib
import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

from crm.common.errors import ServiceError
from crm.jobs.services import RESULTS
from crm.schema import MIGRATIONS_DIR
from crm.storage import CHUNK, LocalStorage, NotFound, S3Storage, Storage, validate_key

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "crm.db"
PG_FILE = "database.dump"
UPLOADS = "uploads"
MIGRATION_TABLE = "schema_migration"
# Rows the migrations themselves write; an instance holding only these is empty. Per table: the
# SQL condition that picks the rows that are *not* seeds.
SEED_ROWS = {MIGRATION_TABLE: "false", "rule_setting": "created_by_id IS NOT NULL"}
# Indexes whose operator class comes from pg_trgm (migrations 0001, 0016). The dump names the class
# with the extension's schema in the source database, so they are left out of the restore and
# rebuilt against the extension's schema in the target: {index: (table, column)}.
PG_TRGM_INDEXES = {"enterprise_search_trgm": ("enterprise", "search_text"),
                   "enterprise_pinyin_trgm": ("enterprise", "name_pinyin"),
                   "enterprise_initials_trgm": ("enterprise", "name_initials"),
                   "enterprise_name_core": ("enterprise", "name_core")}  # similar names (migration 0017)


class BackupError(ServiceError):
    """A backup or restore that cannot go ahead; the message is shown as it is (Chinese)."""


def backend_of(url: str) -> str:
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgres", "postgresql"):
        return "postgresql"
    raise BackupError(f"不支持的数据库地址：{scheme!r}")


def label(backend):
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]


def sqlite_path(url: str) -> Path:
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else urlparse(url).path
    if not path or path == ":memory:":
        raise BackupError("内存数据库无法备份或恢复")
    return Path(path)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def app_version() -> str:
    try:
        from importlib.metadata import version
        return version("yiqi-yidang-crm")
    except Exception:  # not installed as a package
        return "unknown"


def list_files(folder: Path):
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


# Keys a backup leaves out: job results are kept a day and made again on demand.
TRANSIENT = (RESULTS,)


def storage_of(files) -> Storage:
    """A Storage as it is; a directory (str, Path) as a LocalStorage of it."""
    return files if isinstance(files, Storage) else LocalStorage(files, create=True)


def describe(files: Storage) -> str:
    if isinstance(files, S3Storage):
        return f"对象存储 s3://{files.bucket}/{files.prefix}"
    return f"照片上传目录 {files.local_root}"


def kept_keys(files: Storage) -> list[str]:
    """The keys a backup copies: every file of the storage but the transient ones."""
    return [key for key in files.keys() if not key.startswith(TRANSIENT)]


def copy_out(files: Storage, target: Path):
    """Copy every kept file of the storage into target (key a/b.jpg → target/a/b.jpg), a chunk at
    a time; returns (files, bytes)."""
    count = size = 0
    for key in kept_keys(files):
        dest = target.joinpath(*key.split("/"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with files.open(key) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
        except NotFound:  # gone since it was listed (photos are not deleted; be lenient)
            dest.unlink(missing_ok=True)
            continue
        count += 1
        size += dest.stat().st_size
    return count, size


def copy_in(source: Path, files: Storage) -> int:
    """Put every regular file under source into the storage under its relative path; returns how
    many (not_keys() has refused the backup before, when one is no key)."""
    count = 0
    for rel in list_files(source):
        files.put_file(rel.as_posix(), source / rel)
        count += 1
    return count


def not_keys(source: Path) -> list[str]:
    """The files under source whose relative path is no storage key (a stray file in a backup)."""
    bad = []
    for rel in list_files(source):
        try:
            validate_key(rel.as_posix())
        except ValueError:
            bad.append(rel.as_posix())
    return bad


def inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def summary(manifest: dict) -> str:
    """'SQLite 数据库 27 张表共 1,234 行（企业 300 家、用户 20 个），照片文件 12 个'"""
    tables = manifest["tables"]
    rows = sum(n for name, n in tables.items() if name != MIGRATION_TABLE)
    return (f"{label(manifest['backend'])} 数据库 {len(tables)} 张表共 {rows:,} 行"
            f"（企业 {tables.get('enterprise', 0):,} 家、用户 {tables.get('app_user', 0):,} 个），"
            f"照片文件 {manifest['uploads']['files']:,} 个")




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
    known = {path.stem for path in MIGRATIONS_DIR.glob("*.py")}
    newer = [name for name in manifest["migrations"] if name not in known]
    if newer:
        raise BackupError(f"备份来自更新版本的程序（有本程序没有的迁移 {newer[0]}），请先升级程序再恢复")
    db_file = src / manifest["database_file"]
    if not db_file.is_file():
        raise BackupError(f"备份中缺少数据库文件 {manifest['database_file']}")
    if sha256(db_file) != manifest["database_sha256"]:
        raise BackupError(f"数据库文件 {manifest['database_file']} 的校验和与 {MANIFEST} 不符，备份已损坏")
    files = len(list_files(src / UPLOADS))
    if files != manifest["uploads"]["files"]:
        raise BackupError(f"备份中的照片文件有 {files} 个，{MANIFEST} 记录的是 {manifest['uploads']['files']} 个")
    return manifest


def not_empty_message(counts: dict) -> str:
    names = {"enterprise": "企业", "app_user": "用户", "org_unit": "单位"}
    order = [t for t in names if counts.get(t)] + sorted(t for t in counts if t not in names and counts[t])
    text = "、".join(f"{names.get(t, t)} {counts[t]} 条" for t in order[:3])
    if len(order) > 3:
        text += f"，共 {len(order)} 张表有数据"
    return f"目标数据库已有数据（{text}），只能恢复到空实例"


def data_counts(count, tables) -> dict:
    """{table: rows} of the tables holding rows other than the migrations' seeds;
    count(table, where) runs the query."""
    present = {}
    for table in tables:
        n = count(table, SEED_ROWS.get(table, "true"))
        if n:
            present[table] = n
    return present


def compare(counts: dict, expected: dict):
    wrong = [f"{t}: {counts.get(t)} ≠ {n}" for t, n in expected.items() if counts.get(t) != n]
    if wrong:
        raise BackupError("恢复后的行数与备份清单不符：" + "；".join(wrong[:5]))
