"""`crm worker`: run the jobs (后台任务) of the queue, through Huey's consumer; `crm serve` starts
one beside gunicorn (start_beside). Stops on Ctrl+C (once: after the running jobs finish) or
SIGTERM (at once: the running jobs go back to the queue for the next worker)."""
import logging
import os
import signal
import subprocess
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from crm.cli.common import friendly, require_schema
from crm.db import release


def _where(app) -> str:
    return "Redis" if app.config.get("REDIS_URL") else f"SQLite（{app.config['JOBS_DB']}）"


@click.command("worker", help="Run the background jobs (后台任务) from the queue.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="同时运行的任务数（线程）")
@click.option("--burst", is_flag=True, help="运行队列中现有的任务后退出")
@with_appcontext
@friendly
def worker(workers, burst):
    app = current_app._get_current_object()
    require_schema()
    release()  # each job opens its own connection
    jobs = app.extensions["jobs"]
    if burst:
        ran = jobs.drain()
        click.echo(f"已处理 {ran} 个任务。")
        return
    logging.getLogger("huey").setLevel(logging.INFO)
    try:
        for signum in (signal.SIGTERM, signal.SIGINT):  # until the consumer sets its own: nothing runs yet
            signal.signal(signum, _stop_before_start)
        click.echo(f"后台任务进程已启动：{workers} 个线程，队列在 {_where(app)}。按 Ctrl+C 停止。")
        sys.stdout.flush()
        jobs.consumer(workers).run()
    finally:
        click.echo("后台任务进程已停止。")


def _stop_before_start(signum, frame):
    raise SystemExit(0)


def start_beside(workers: int = 1) -> subprocess.Popen:
    """A `crm worker` process for `crm serve` (same environment, its own process group: the
    terminal's Ctrl+C reaches the server, which then stops it with SIGTERM)."""
    command = [sys.executable, "-c", "from crm.cli import main; main()", "worker", "--workers", str(workers)]
    return subprocess.Popen(command, env=dict(os.environ), start_new_session=True)


def stop(process: subprocess.Popen | None, timeout: float = 15):
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
