"""导入 as jobs (后台任务): the analysis behind the preview (导入分析) and the import itself
(导入企业台账), and the rows a long file would not import (未导入的行), each run by `crm worker` from the batch's stored file, as the user who asked.

The analysis reports "已分析 n / N 行" on its job. The import's writes sit in one transaction,
which also hides anything it would write to the job's row: it reports "已导入 n" to a small file
beside the upload (crm.imports.services.write_progress), which the batch's page reads, and its kind
has a lease long enough for a large file (a killed worker's import, rolled back, is started again
by the sweep after it). A failed import committed nothing: 重试 runs it again from the start."""
import shutil
from datetime import timedelta

from crm.audit import services as audit
from crm.common.errors import ServiceError
from crm.common.timeutil import utcnow
from crm.db import db
from crm.imports import services
from crm.imports.models import ImportBatch
from crm.jobs import services as job_services
from crm.fieldwork.ledger import XLSX_TYPE
from crm.jobs.registry import JobFailed, JobKind, Result, register

ANALYSE = "import_analyse"
COMMIT = "import_commit"
REJECTED = "import_rejected"
READ = "import_read"


def _batch(params) -> ImportBatch:
    batch = ImportBatch.get_or_none(ImportBatch.id == params.get("batch"))
    if batch is None:
        raise JobFailed("这次导入已不存在")
    return batch


def run_read(params, user, progress):
    """读取表头: the header of the uploaded file, its columns' mapping, the rows under it."""
    batch = _batch(params)
    if batch.status == "failed" and batch.header_row is None:  # 重试 after a failed reading
        with db.atomic():
            ImportBatch.update(status="uploaded", message="").where(ImportBatch.id == batch.id).execute()
    elif batch.status != "uploaded":
        raise JobFailed("这次导入已开始或已结束")
    progress(10, "正在读取文件的表头")
    try:
        services.read_header(batch)
    except ServiceError as exc:
        with db.atomic():
            ImportBatch.update(status="failed", message=str(exc), finished_at=utcnow()).where(
                ImportBatch.id == batch.id, ImportBatch.status == "uploaded").execute()
        raise
    return None


def run_analyse(params, user, progress):
    batch = _batch(params)
    if batch.status != "uploaded":
        raise JobFailed("这次导入已开始或已结束，无需再分析")
    total = services.rows_total(batch)
    progress(1, f"正在分析，共约 {total} 行")
    services.analyse(batch, user, lambda n: progress(min(99, n * 100 // max(total, n)),
                                                     f"已分析 {n} / {max(total, n)} 行"))
    return None


def run_commit(params, user, progress):
    batch = _batch(params)
    if batch.status == "committed":
        raise JobFailed("这个文件已经导入过了")
    if batch.status == "failed":  # an earlier attempt failed and wrote nothing: again from the start
        with db.atomic():
            ImportBatch.update(status="running", message="").where(
                ImportBatch.id == batch.id, ImportBatch.status == "failed").execute()
        batch = ImportBatch.get_by_id(batch.id)
    total = services.rows_total(batch)
    progress(1, f"正在导入，共 {total} 行；全部完成前不会写入任何一行")
    services.write_progress(batch.id, 0)
    try:
        services.commit(batch, user, bool(params.get("valid_only")),
                        lambda n: services.write_progress(batch.id, n))
    finally:
        services.clear_progress(batch.id)
    return None


def run_rejected(params, user, progress):
    """下载未导入的行 of a long file: the rows in error or duplicated, as they were, with the reason."""
    batch = _batch(params)
    progress(5, "正在整理未导入的行")
    out = services.rejected_xlsx(batch, user)
    path = job_services.scratch_path(".xlsx")
    with open(path, "wb") as fh:
        shutil.copyfileobj(out, fh)
    audit.record("export", user=user, target=("import_batch", batch.id),
                 detail=f"未导入的行：{batch.file_name}（后台任务）")
    return Result(services.rejected_name(batch), XLSX_TYPE, path=path)


register(JobKind(READ, "导入：读取表头", run_read))
register(JobKind(ANALYSE, "导入分析", run_analyse))
register(JobKind(REJECTED, "未导入的行", run_rejected))
register(JobKind(COMMIT, "导入企业台账", run_commit, lease=timedelta(hours=2)))


# ---- asking for them (outside any transaction) ----------------------------------------------------

def start_reading(batch, user):
    """Queue the reading of the uploaded file's header; the batch's job becomes it."""
    job = job_services.submit(READ, {"batch": batch.id}, user)
    with db.atomic():
        ImportBatch.update(job=job.id).where(ImportBatch.id == batch.id).execute()
    return job


def start_analysis(batch, user):
    """Queue the analysis of the batch as it is mapped now; the batch's job becomes it."""
    job = job_services.submit(ANALYSE, {"batch": batch.id}, user)
    with db.atomic():
        ImportBatch.update(job=job.id).where(ImportBatch.id == batch.id).execute()
    return job


def start_commit(batch, user, valid_only: bool):
    """Mark the batch as being imported (one import only: a second tap finds it taken) and queue
    the import. None when it was already taken."""
    if not services.claim(batch):
        return None
    try:
        job = job_services.submit(COMMIT, {"batch": batch.id, "valid_only": bool(valid_only)}, user)
    except Exception:
        ImportBatch.update(status="uploaded").where(ImportBatch.id == batch.id,
                                                    ImportBatch.status == "running").execute()
        raise
    with db.atomic():
        ImportBatch.update(job=job.id, message="").where(ImportBatch.id == batch.id).execute()
    return job


def retry(batch, user):
    """重试 the batch's failed job (its analysis or its import)."""
    job = batch.job
    if job is None:
        raise ServiceError("没有可以重试的任务")
    return job_services.retry(job, user)
