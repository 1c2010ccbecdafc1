"""The queue under the jobs: Huey, with its storage in a SQLite file of its own in the instance
folder (JOBS_DB) or, with CRM_REDIS_URL, in Redis (several app servers and workers share it).
It carries only job ids: crm.jobs.services.run(id) does the work from the job's row.

init_app(app) puts a JobQueue in app.extensions["jobs"]; the web processes only enqueue, `crm
worker` (crm.cli.worker) runs Huey's consumer on the same object, in a fresh app of its own."""
import logging
import threading
from datetime import datetime
from pathlib import Path

from huey import RedisHuey, SqliteHuey, crontab
from huey import signals as huey_signals

from crm.db import db
from crm.jobs import registry, services

log = logging.getLogger("crm.jobs")


def make_huey(config):
    name = config.get("JOBS_QUEUE_NAME") or "crm"
    url = config.get("REDIS_URL")
    if url:
        from redis import ConnectionPool  # local: only a Redis deployment needs the client
        pool = ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        return RedisHuey(name, connection_pool=pool, results=False, utc=True)
    path = Path(config["JOBS_DB"])
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(path), results=False, utc=True)


class JobQueue:
    """The app's Huey, made on first use (an app that never submits a job opens no storage)."""

    def __init__(self, app):
        self.app = app
        self._huey = None
        self._lock = threading.Lock()
        self.periodic = {}  # key → its Huey task (registry.PERIODIC)

    @property
    def huey(self):
        if self._huey is None:
            with self._lock:
                if self._huey is None:
                    huey = make_huey(self.app.config)
                    self.task = huey.task(name="run_job")(self._run_job)
                    huey.periodic_task(crontab(minute="*"), name="sweep_jobs")(self._sweep)
                    for spec in registry.PERIODIC.values():
                        self.periodic[spec.key] = huey.periodic_task(crontab(**spec.schedule),
                                                                     name=spec.key)(self._periodic(spec))
                    huey.signal(huey_signals.SIGNAL_INTERRUPTED)(self._interrupted)
                    self._huey = huey
        return self._huey

    # ---- the web side
    def enqueue(self, job_id: int, delay: int = 0):
        self.huey  # (made, with its task)
        if delay and delay > 0:
            self.task.schedule(args=(job_id,), delay=delay)
        else:
            self.task(job_id)

    def poke(self, key: str):
        """Run that periodic work soon (e.g. webhook deliveries once a request queued some)."""
        self.huey  # (made, with its tasks)
        self.periodic[key]()

    def reachable(self):
        """For /readyz: the storage answers (a count of what waits)."""
        self.huey.pending_count()
        return None

    # ---- the worker side (each call in an app context with its own connection)
    def _within_app(self, fn, *args):
        with self.app.app_context():
            db.connect(reuse_if_open=True)
            try:
                return fn(*args)
            finally:
                if not db.is_closed():
                    db.close()

    def _run_job(self, job_id):
        return self._within_app(services.run, int(job_id))

    def _sweep(self):
        return self._within_app(services.sweep)

    def _periodic(self, spec):
        def run():
            result = self._within_app(spec.run)
            log.info("periodic %s: %s", spec.key, result)
            return result
        run.__name__ = spec.key
        return run

    def _interrupted(self, signal, task, *args, **kwargs):
        """The consumer is stopping with jobs still running: back in the queue with them."""
        released = self._within_app(services.release_held)
        if released:
            log.warning("worker stopping: jobs %s put back in the queue", released)

    def consumer(self, workers: int = 1):
        return self.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                         check_worker_health=True)

    def drain(self, until: datetime | None = None) -> int:
        """Run what is in the queue now, and what is scheduled up to `until`, in this thread
        (`crm worker --burst`; the tests): how many tasks were run."""
        ran = 0
        self._within_app(services.sweep)
        for task in self.huey.read_schedule(until or datetime.utcnow()):  # once: a retry waits for the next
            task.eta = None
            self.huey.enqueue(task)
        while True:
            task = self.huey.dequeue()
            if task is None:
                return ran
            self.huey.execute(task)  # (one not due yet goes to the schedule)
            ran += 1


def init_app(app):
    app.extensions["jobs"] = JobQueue(app)
