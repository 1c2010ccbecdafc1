"""Jobs: submit one, run it in a worker, retry it, sweep the stale ones and the expired results.

The row is the truth, the queue only a wake-up call carrying the job's id: run(id) claims the row
with one UPDATE ... WHERE state = 'queued' and checks that it changed one row, so a job sent twice
(a re-enqueue, two workers on one queue) runs once. The claim is a lease renewed by every progress
report; a worker that dies leaves a lease that runs out, and sweep() puts the job back in the
queue (or fails it after its last attempt). A failure is retried after RETRY_DELAYS, up to the
job's maximum, then the job is failed with its reason. A result is a file in the app's storage
(crm.storage) under `job_results/<random name>`, so any app server can offer its download; it is
kept JOBS_KEEP_HOURS, then deleted by sweep()."""
import json
import logging
import re
import secrets
import threading
from datetime import timedelta, timezone
from pathlib import Path

from flask import current_app

from crm import storage
from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.common.timeutil import utcnow
from crm.db import db
from crm.jobs import registry
from crm.jobs.models import Job

log = logging.getLogger("crm.jobs")

LEASE = timedelta(minutes=10)  # a running job not heard from for this long is taken as dead
RETRY_DELAYS = (30, 120, 600)  # seconds before the 2nd, 3rd, 4th … attempt
STALE_QUEUED = timedelta(minutes=1)  # a due job this old, with nothing in the queue, is sent again
PROGRESS_TEXT = 200

_held: dict[int, str] = {}  # job id → lease token, for the jobs this process is running
_held_lock = threading.Lock()


class LeaseLost(Exception):
    """Another worker took the job over (this one's lease ran out): stop without writing."""


def _queue():
    return current_app.extensions["jobs"]


def _enqueue(job_id: int, delay: int = 0):
    """Wake a worker for the job. A queue that cannot be reached is logged, not raised: the row
    is written, and the sweep sends it again."""
    try:
        _queue().enqueue(job_id, delay)
    except Exception:  # noqa: BLE001 (the job stays queued; sweep() sends it again)
        log.exception("job=%s could not be put in the queue", job_id)


def _queue_is_empty() -> bool:
    try:
        return _queue().huey.pending_count() == 0
    except Exception:  # noqa: BLE001 (unreachable: nothing to send them through now)
        log.exception("the job queue cannot be read")
        return False


RESULTS = "job_results/"  # the results' keys in the storage


def result_key(name: str) -> str:
    """The storage key of a result stored as `name` (Job.result_path)."""
    return RESULTS + Path(name).name


def scratch_path(suffix: str = "") -> str:
    """A new local file for a job to write its result into (then returned as Result(path=...),
    moved into the storage under its random name: on a shared directory a rename)."""
    return storage.current().scratch(suffix)


def keep() -> timedelta:
    return timedelta(hours=float(current_app.config.get("JOBS_KEEP_HOURS", 24)))


# ---- asking for work ------------------------------------------------------------------------------

def submit(kind: str, params: dict, user) -> Job:
    """Write the job's row and, once it is committed, put its id in the queue. Called outside
    any transaction (the worker must find the row when it wakes)."""
    spec = registry.get(kind)
    if spec is None:
        raise ServiceError("未知的任务类型")
    if db.in_transaction():
        raise RuntimeError("submit() must be called outside a transaction")
    with db.atomic():
        job = Job.create(kind=kind, params=json.dumps(params or {}, ensure_ascii=False), user=user,
                         max_attempts=spec.max_attempts)
    log.info("job=%s kind=%s submitted by %s", job.id, kind, getattr(user, "username", ""))
    _enqueue(job.id)
    return job


def retry(job: Job, user) -> Job:
    """重试: a failed job queued again with all its attempts (its old reason cleared)."""
    if job.state != "failed":
        raise ServiceError("只有失败的任务可以重试")
    with db.atomic():
        changed = (Job.update(state="queued", attempts=0, error="", progress=0, progress_text="",
                              not_before=None, lease="", lease_until=None, finished_at=None)
                   .where(Job.id == job.id, Job.state == "failed").execute())
    if changed != 1:
        raise ServiceError("任务状态已变化，请刷新页面")
    log.info("job=%s retried by %s", job.id, getattr(user, "username", ""))
    _enqueue(job.id)
    return Job.get_by_id(job.id)


# ---- doing it ---------------------------------------------------------------------------------------

def lease_of(kind: str) -> timedelta:
    spec = registry.get(kind)
    return (spec.lease if spec is not None else None) or LEASE


def claim(job_id: int, now=None, lease: timedelta | None = None) -> str | None:
    """Take a queued job that is due: its lease token, or None when another worker has it (or
    it is not queued, or not due yet)."""
    now = now or utcnow()
    token = secrets.token_hex(16)
    with db.atomic():
        changed = (Job.update(state="running", lease=token, lease_until=now + (lease or LEASE), started_at=now,
                              attempts=Job.attempts + 1, progress=0, progress_text="")
                   .where(Job.id == job_id, Job.state == "queued",
                          Job.not_before.is_null() | (Job.not_before <= now))
                   .execute())
    return token if changed == 1 else None


class Progress:
    """What a job's function calls to say how far it is: progress(percent, text). Each report
    renews the lease; a lease lost to another worker stops the job (LeaseLost)."""

    def __init__(self, job_id: int, token: str, lease: timedelta = LEASE):
        self.job_id, self.token, self.last, self.lease = job_id, token, None, lease

    def __call__(self, percent, text: str = ""):
        percent = max(0, min(100, int(percent)))
        text = (text or "")[:PROGRESS_TEXT]
        if (percent, text) == self.last:
            return
        self.last = (percent, text)
        with db.atomic():
            changed = (Job.update(progress=percent, progress_text=text, lease_until=utcnow() + self.lease)
                       .where(Job.id == self.job_id, Job.lease == self.token).execute())
        if changed != 1:
            raise LeaseLost()


def _reason(exc) -> str:
    if isinstance(exc, (registry.JobFailed, ServiceError)):
        return str(exc)[:500] or "任务失败"
    return f"处理时出错（{type(exc).__name__}），请稍后重试或联系管理员"


def _store(job: Job, result: registry.Result) -> tuple[str, int]:
    """The result's file in the storage under a random name: (name, size)."""
    suffix = Path(result.filename).suffix
    name = f"{secrets.token_hex(16)}{suffix if re.fullmatch(r'[.][A-Za-z0-9]{1,9}', suffix) else ''}"
    if result.path is not None:
        size = storage.current().put_file(result_key(name), result.path, move=True)
    else:
        size = storage.current().put(result_key(name), result.data or b"")
    return name, size


def run(job_id: int) -> bool:
    """Run the job if this worker can claim it; True when it ran (whatever its outcome)."""
    now = utcnow()
    job = Job.get_or_none(Job.id == job_id)
    if job is None:
        return False
    if job.state == "queued" and job.not_before and job.not_before > now:
        _enqueue(job.id, int((job.not_before - now).total_seconds()) + 1)  # woken early
        return False
    token = claim(job_id, now, lease_of(job.kind))
    if token is None:
        log.info("job=%s not claimed (state %s)", job_id, job.state)
        return False
    with _held_lock:
        _held[job_id] = token
    try:
        _run_claimed(Job.get_by_id(job_id), token)
    finally:
        with _held_lock:
            _held.pop(job_id, None)
    return True


def _run_claimed(job: Job, token: str):
    spec = registry.get(job.kind)
    user = User.get_or_none(User.id == job.user_id)
    try:
        if spec is None:
            raise registry.JobFailed("未知的任务类型")
        if user is None or not user.active:
            raise registry.JobFailed("提交任务的账号已停用")
        result = spec.run(json.loads(job.params or "{}"), user, Progress(job.id, token, lease_of(job.kind)))
        if result is not None and not isinstance(result, registry.Result):
            raise TypeError("a job's function returns a Result or None")
    except LeaseLost:
        log.warning("job=%s lost its lease to another worker", job.id)
        return
    except Exception as exc:  # noqa: BLE001 (a failing job is recorded, the worker goes on)
        permanent = isinstance(exc, (registry.JobFailed, ServiceError))
        if permanent:
            log.info("job=%s failed: %s", job.id, exc)
        else:
            log.exception("job=%s attempt %s raised", job.id, job.attempts)
        _failed(job, token, _reason(exc), retry=not permanent)
        return
    now = utcnow()
    if result is None:  # done, nothing to download (the work is in the database)
        with db.atomic():
            (Job.update(state="done", progress=100, progress_text="已完成", lease="", lease_until=None, error="",
                        finished_at=now).where(Job.id == job.id, Job.lease == token).execute())
        log.info("job=%s done", job.id)
        return
    name, size = _store(job, result)
    with db.atomic():
        changed = (Job.update(state="done", progress=100, progress_text="已完成", lease="", lease_until=None,
                              result_path=name, result_name=result.filename[:200],
                              result_type=result.mimetype[:100], result_size=size, error="",
                              finished_at=now, expires_at=now + keep())
                   .where(Job.id == job.id, Job.lease == token).execute())
    if changed != 1:  # taken over meanwhile: the other worker's result counts
        storage.current().delete(result_key(name))
        return
    log.info("job=%s done: %s (%s bytes)", job.id, result.filename, size)


def _failed(job: Job, token: str, reason: str, retry: bool):
    """Queue the job again after a delay while it has attempts left, else fail it with `reason`."""
    now = utcnow()
    if retry and job.attempts < job.max_attempts:
        delay = RETRY_DELAYS[min(job.attempts, len(RETRY_DELAYS)) - 1]
        values = {"state": "queued", "not_before": now + timedelta(seconds=delay)}
    else:
        delay, values = None, {"state": "failed", "finished_at": now}
    with db.atomic():
        changed = (Job.update(error=reason[:500], lease="", lease_until=None, **values)
                   .where(Job.id == job.id, Job.lease == token).execute())
    if changed == 1 and delay is not None:
        _enqueue(job.id, delay)


def release_held() -> list[int]:
    """The worker is stopping: the jobs it is running go back to the queue, the attempt not
    counted (the next worker starts them again). Their ids."""
    with _held_lock:
        held = dict(_held)
        _held.clear()
    released = []
    for job_id, token in held.items():
        with db.atomic():
            changed = (Job.update(state="queued", attempts=Job.attempts - 1, lease="", lease_until=None,
                                  progress=0, progress_text="")
                       .where(Job.id == job_id, Job.lease == token).execute())
        if changed == 1:
            released.append(job_id)
            _enqueue(job_id)
    return released


# ---- housekeeping ---------------------------------------------------------------------------------

def sweep(now=None) -> dict:
    """Every minute in a worker (and on its start): jobs whose lease ran out (a killed worker)
    queued again or failed; due jobs sent again when their wake-up calls were lost (nothing
    waits in the queue: a crash between the commit and the enqueue, a flushed Redis); expired
    results deleted; the storage's leftover scratch files and copies deleted."""
    now = now or utcnow()
    counts = {"requeued": 0, "failed": 0, "resent": 0, "expired": 0}
    for job in Job.select().where(Job.state == "running", Job.lease_until < now):
        if job.attempts < job.max_attempts:
            values = {"state": "queued", "not_before": None}
            counts["requeued"] += 1
        else:
            values = {"state": "failed", "finished_at": now, "error": "任务中断：处理它的后台进程已停止"}
            counts["failed"] += 1
        with db.atomic():
            changed = (Job.update(lease="", lease_until=None, **values)
                       .where(Job.id == job.id, Job.lease == job.lease).execute())
        if changed == 1 and values["state"] == "queued":
            _enqueue(job.id)
    due = Job.select(Job.id).where(Job.state == "queued", Job.created_at < now - STALE_QUEUED,
                                   Job.not_before.is_null() | (Job.not_before <= now))
    if due.exists() and _queue_is_empty():  # due jobs and no wake-up call waiting: calls were lost
        for (job_id,) in due.tuples():
            _enqueue(job_id)
            counts["resent"] += 1
    for job in Job.select().where(Job.state == "done", Job.result_path != "", Job.expires_at < now):
        storage.current().delete(result_key(job.result_path))
        with db.atomic():
            Job.update(result_path="").where(Job.id == job.id).execute()
        counts["expired"] += 1
    counts["leftovers"] = storage.current().sweep_leftovers(now=now.replace(tzinfo=timezone.utc).timestamp())
    if any(counts.values()):
        log.info("job sweep %s", counts)
    return counts


def result_file(job: Job) -> str | None:
    """The result's storage key while it may be downloaded (and is there)."""
    if not job.downloadable():
        return None
    key = result_key(job.result_path)
    return key if storage.current().exists(key) else None
