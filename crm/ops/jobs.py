"""数据备份 as a job (系统管理 → 数据备份, admins): what `crm backup` does, into a scratch folder,
then packed as one .tar.gz that the job's page offers for download while the result is kept
(JOBS_KEEP_HOURS); the backup and each download are in the audit log."""
import shutil
import tarfile
import tempfile
from pathlib import Path

from flask import current_app

from crm import storage
from crm.audit import services as audit
from crm.common.timeutil import local_now
from crm.jobs import services as job_services
from crm.jobs.registry import JobFailed, JobKind, Result, register
from crm.ops import backup

BACKUP = "backup"


def run_backup(params, user, progress):
    config = current_app.config
    Path(config["INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".backup-", dir=config["INSTANCE_DIR"]))
    stamp = local_now().strftime("%Y%m%d-%H%M%S")
    name = f"crm-backup-{stamp}"
    archive = job_services.scratch_path(".tar.gz")
    try:
        progress(5, "正在备份数据库和照片")
        try:
            manifest = backup.backup(config["DATABASE_URL"], storage.current(), folder / name)
        except backup.BackupError as exc:
            raise JobFailed(str(exc)) from exc
        files = [p for p in sorted((folder / name).rglob("*")) if p.is_file()]
        total = max(1, len(files))
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            for i, path in enumerate(files, start=1):
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
                if i % 200 == 0 or i == total:
                    progress(60 + i * 38 // total, f"正在打包：{i} / {total} 个文件")
    except BaseException:
        Path(archive).unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    audit.record("backup", user=user, detail=f"{name}.tar.gz（后台任务）：{backup.summary(manifest)}")
    return Result(f"{name}.tar.gz", "application/gzip", path=archive)


register(JobKind(BACKUP, "数据备份", run_backup, max_attempts=2, audit_download="backup"))
