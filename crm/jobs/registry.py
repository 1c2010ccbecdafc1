"""The kinds of job. A feature registers each of its kinds here when it is imported
(crm.web.wiring imports them), like the field-work kinds in crm.fieldwork.registry:

    register(JobKind("enterprise_export", "企业台账导出", run_export))

`run(params, user, progress)` does the work as `user` (scoping as on a page) and returns a
Result (or None: done, nothing to download); `progress(percent, text)` reports how far it is. JobFailed("中文原因") ends the job failed
at once; any other exception is retried (up to the job's maximum) and then shown as a failure."""
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable


@dataclass(frozen=True)
class JobKind:
    key: str
    title: str  # 企业台账导出 …, shown in the job list
    run: Callable  # (params: dict, user, progress) -> Result
    max_attempts: int = 3
    # How long a run may go without a progress report before it is taken as dead (None: the
    # default, crm.jobs.services.LEASE). Longer for work that cannot report while it runs (an
    # import's one transaction).
    lease: timedelta | None = None
    # An audit kind (crm.audit) recorded at each download of the result ("" : none).
    audit_download: str = ""


@dataclass
class Result:
    """What a job made: a file to download as `filename`. Either `data` (bytes) or `path` (a file
    the job wrote, moved into the results folder)."""
    filename: str
    mimetype: str = "application/octet-stream"
    data: bytes | None = None
    path: str | None = None


class JobFailed(Exception):
    """A failure retrying cannot mend (the unit is gone, the filter is wrong): its message, in
    Chinese, is what the job page shows."""


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    KINDS[kind.key] = kind
    return kind


def get(key: str) -> JobKind | None:
    return KINDS.get(key)


# ---- periodic work (no row, no user): run by `crm worker` on a schedule, and when poked ------------

@dataclass(frozen=True)
class Periodic:
    """Housekeeping a worker runs on `schedule` (Huey's crontab fields, in UTC: {"minute": "*"})
    and whenever the web side pokes it (crm.jobs.queue.JobQueue.poke): `run()` must be safe to
    run twice at once, in two workers (it claims what it works on)."""
    key: str
    title: str
    run: Callable  # () -> anything (logged)
    schedule: dict


PERIODIC: dict[str, Periodic] = {}


def periodic(key: str, title: str, run: Callable, **schedule) -> Periodic:
    spec = Periodic(key, title, run, schedule)
    PERIODIC[key] = spec
    return spec
