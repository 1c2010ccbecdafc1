"""`crm serve`: upgrade the database, load the demo if asked, serve through gunicorn with one
`crm worker` beside it for the background jobs (unless --no-worker: workers run elsewhere)."""
import gc
import sys
from collections.abc import Mapping

import click
from flask import current_app
from flask.cli import with_appcontext
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from config import WEAK_SECRETS
from crm import demo as demo_data
from crm import schema
from crm.cli import worker as job_worker
from crm.cli.common import connect, friendly, print_logins
from crm.common.log import NO_REQUEST, JsonFormatter
from crm.db import release
from crm.members import phones


def _check_secret(app):
    key = app.config.get("SECRET_KEY") or ""
    if app.config.get("ENV") == "production" and (key in WEAK_SECRETS or len(key) < 16):
        raise click.ClickException("CRM_SECRET_KEY 是默认或过短的值，生产模式拒绝启动；"
                                   "请设置至少 16 位的随机值，或不设置以自动生成")


@click.command("serve", help="Upgrade the database and serve the app through gunicorn.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="同时启动一个后台任务进程（crm worker）")
@click.option("--demo", is_flag=True, help="装入演示数据（仅当数据库为空时）")
@click.option("--demo-enterprises", "demo_count", default=300, show_default=True,
              help="演示数据的企业数量（外勤记录随之增减）")
@with_appcontext
@friendly
def serve(host, port, workers, with_worker, demo, demo_count):
    app = current_app._get_current_object()
    _check_secret(app)
    connect()
    applied = schema.upgrade()
    if applied:
        click.echo("已应用迁移：" + ", ".join(applied))
    logins = None
    if demo:
        if demo_data.is_empty():
            click.echo("正在装入演示数据…")
            logins = demo_data.load_demo(enterprises=demo_count)
        else:
            click.echo("数据库已有数据，未重复装入演示数据。")
            logins = demo_data.existing_logins()
    if phones.key_matches() is False:
        click.echo("警告：数据密钥（CRM_DATA_KEY 或实例目录中的 data_key）与保存会员手机号时的不同，"
                   "会员的完整手机号无法读取，老会员再次登记也认不出来。请恢复原来的数据密钥后重启。", err=True)
    release()  # the workers open their own connections
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"一企一档已启动：http://{shown}:{port}/")
    if logins:
        print_logins(logins)
    beside = None
    if with_worker:
        beside = job_worker.start_beside(1)
        click.echo("后台任务进程已同时启动（另有服务器运行 crm worker 时可用 --no-worker）。")
    click.echo("按 Ctrl+C 停止。")
    sys.stdout.flush()
    try:
        _run_gunicorn(app, host, port, workers)
    finally:
        job_worker.stop(beside)


def settle(worker=None):
    """Once a worker has loaded the app: move everything loaded so far (modules, the app, its
    templates) out of the garbage collector's reach. It is kept for the process's life anyway;
    otherwise every full collection walks it again, now and then in a request that allocates
    much (a page of 300 people, the district's dashboard; see docs/performance.md)."""
    gc.collect()
    gc.freeze()


# gunicorn's default access line, with the request id the app sent back (crm.web.request_ids).
ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'


def _access_request_id(record):
    """An access line's request id, from the response's X-Request-ID (the line is written after
    the app's request has ended)."""
    atoms = record.args if isinstance(record.args, Mapping) else {}
    record.request_id = atoms.get("{x-request-id}o") or NO_REQUEST
    return True


def gunicorn_logger(json_lines: bool):
    """gunicorn's logger class: its error and access lines as JSON too with CRM_LOG_JSON=1."""

    class CrmLogger(Logger):
        def setup(self, cfg):
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    if not getattr(handler, "_gunicorn", False):
                        continue
                    if log is self.access_log and _access_request_id not in handler.filters:
                        handler.addFilter(_access_request_id)
                    if json_lines:
                        handler.setFormatter(JsonFormatter())

    return CrmLogger


def _run_gunicorn(app, host, port, workers):

    class Server(BaseApplication):
        def load_config(self):
            options = {"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread",
                       "threads": 4, "timeout": 60, "accesslog": "-", "loglevel": "warning",
                       "access_log_format": ACCESS_FORMAT,
                       "logger_class": gunicorn_logger(bool(app.config.get("LOG_JSON"))),
                       "post_worker_init": settle,
                       # A request line up to gunicorn's largest (a list's filters, an API query);
                       # a longer one gets gunicorn's own 414 before it reaches the app.
                       "limit_request_line": 8190}
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()
