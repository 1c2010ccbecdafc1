"""The `crm` subcommands. Bad input ends with one line on stderr and a non-zero exit."""
import functools
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from peewee import DatabaseError, OperationalError

from crm.common.errors import ServiceError


def friendly(func):
    """Turn expected failures into one-line messages instead of tracebacks."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ServiceError as exc:
            raise click.ClickException(str(exc))
        except OperationalError as exc:
            raise click.ClickException(f"无法连接或操作数据库：{str(exc).strip().splitlines()[0]}")
        except DatabaseError as exc:
            raise click.ClickException(f"数据库错误：{str(exc).strip().splitlines()[0]}")
    return wrapper


def _connect():
    from crm.db import db
    db.connect(reuse_if_open=True)


# ---- db ----------------------------------------------------------------------------------

@click.group("db", help="Database schema: upgrade, status.")
def db_group():
    pass


@db_group.command("upgrade", help="Apply every pending migration.")
@with_appcontext
@friendly
def db_upgrade():
    from crm import schema
    _connect()
    applied = schema.upgrade()
    click.echo("已是最新，无需升级。" if not applied else "已应用迁移：" + ", ".join(applied))


@db_group.command("status", help="List migrations and whether each is applied.")
@with_appcontext
@friendly
def db_status():
    from crm import schema
    _connect()
    for name, applied in schema.status():
        click.echo(f"{name:40s} {'applied ' + applied.strftime('%Y-%m-%d %H:%M') if applied else 'pending'}")


def _require_schema():
    from crm import schema
    _connect()
    waiting = schema.pending()
    if waiting:
        raise click.ClickException(f"数据库还有 {len(waiting)} 个迁移未应用，请先运行 crm db upgrade")


# ---- user --------------------------------------------------------------------------------

@click.group("user", help="User accounts: create, passwd, reset-2fa.")
def user_group():
    pass


def _ask_password(username):
    from crm.auth.services import generate_password
    if sys.stdin.isatty():
        return click.prompt(f"{username} 的密码", hide_input=True, confirmation_prompt="再输入一次"), False
    return generate_password(), True


@user_group.command("create", help="Create a user account.")
@click.option("--username", required=True)
@click.option("--name", required=True, help="姓名")
@click.option("--role", required=True, type=click.Choice(["staff", "supervisor", "viewer", "admin"]))
@click.option("--org", "org_name", required=True, help="所属单位名称或代码")
@click.option("--password", default=None, help="省略时交互输入；非交互时生成并打印")
@with_appcontext
@friendly
def user_create(username, name, role, org_name, password):
    from crm.auth.services import create_user
    from crm.org.services import find_unit
    _require_schema()
    org = find_unit(org_name)
    if org is None:
        raise click.ClickException(f"找不到单位：{org_name}")
    generated = False
    if password is None:
        password, generated = _ask_password(username)
    user = create_user(username, name, role, org, password)
    click.echo(f"已创建用户 {user.username}（{user.role_label}，{org.name}）")
    if generated:
        click.echo(f"初始密码：{password}")


@user_group.command("passwd", help="Set a user's password (ends their sessions).")
@click.argument("username")
@click.option("--password", default=None, help="省略时交互输入；非交互时生成并打印")
@with_appcontext
@friendly
def user_passwd(username, password):
    from crm.auth.models import User
    from crm.auth.services import set_password
    _require_schema()
    user = User.get_or_none(User.username == username)
    if user is None:
        raise click.ClickException(f"找不到用户：{username}")
    generated = False
    if password is None:
        password, generated = _ask_password(username)
    set_password(user, password)
    click.echo(f"已修改 {username} 的密码，该用户的所有会话已失效")
    if generated:
        click.echo(f"新密码：{password}")


@user_group.command("reset-2fa", help="Reset a user's two-factor sign-in (a lost phone; ends their "
                                        "sessions). They set up an authenticator at their next sign-in.")
@click.argument("username")
@with_appcontext
@friendly
def user_reset_2fa(username):
    from crm.auth import second_factor
    from crm.auth.models import User
    from peewee import fn
    _require_schema()
    user = User.get_or_none(fn.LOWER(User.username) == username.lower())
    if user is None:
        raise click.ClickException(f"找不到用户：{username}")
    if not second_factor.enrolled(user) and not user.totp_pending:
        click.echo(f"{user.username} 没有启用两步验证，无需重置")
        return
    second_factor.reset(user, reason="命令行 crm user reset-2fa")
    then = "下次登录时需重新设置身份验证器" if second_factor.required(user) else "下次登录只需密码"
    click.echo(f"已重置 {user.username} 的两步验证，该用户的所有会话已失效；{then}")


# ---- demo --------------------------------------------------------------------------------

@click.group("demo", help="Demo data.")
def demo_group():
    pass


def _print_logins(logins):
    from crm.auth.models import ROLES
    from crm.demo import DEMO_PASSWORD
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for login in logins:
        click.echo(f"  {login.username:10s} {login.name}（{ROLES.label(login.role)}，{login.org_name}）")
    if any(login.role == "admin" for login in logins):
        click.echo("  管理员登录须两步验证：首次登录时用手机上的身份验证器扫描页面上的二维码（或输入密钥）。")


@demo_group.command("load", help="Load Daxing's org units, demo users and ~300 enterprises "
                                  "(--scale district: the district-scale data set for benchmarks).")
@click.option("--seed", default=2026, show_default=True)
@click.option("--enterprises", "count", default=300, show_default=True)
@click.option("--scale", type=click.Choice(["demo", "district"]), default="demo", show_default=True,
              help="district: 300 users, 100,000 enterprises, 1,000,000 visits over three years …")
@click.option("--fraction", type=float, default=1.0, show_default=True,
              help="with --scale district: a fraction of the full sizes (e.g. 0.1)")
@with_appcontext
@friendly
def demo_load(seed, count, scale, fraction):
    from crm import demo
    _require_schema()
    if not demo.is_empty():
        raise click.ClickException("数据库中已有数据；演示数据只能装入空数据库")
    if scale == "district":
        from crm.demo_district import load_district
        _connect()
        sizes = load_district(seed=seed, scale=fraction, log=click.echo)
        click.echo("已装入区级数据集：" + "，".join(f"{k} {v:,}" for k, v in sizes.items()))
        click.echo(f"演示账号同普通演示数据（密码 {demo.DEMO_PASSWORD}）")
        return
    logins = demo.load_demo(seed=seed, enterprises=count)
    click.echo(f"已装入演示数据：{count} 家企业")
    _print_logins(logins)


# ---- serve -------------------------------------------------------------------------------

def _check_secret(app):
    from config import WEAK_SECRETS
    key = app.config.get("SECRET_KEY") or ""
    if app.config.get("ENV") == "production" and (key in WEAK_SECRETS or len(key) < 16):
        raise click.ClickException("CRM_SECRET_KEY 是默认或过短的值，生产模式拒绝启动；"
                                   "请设置至少 16 位的随机值，或不设置以自动生成")


@click.command("serve", help="Upgrade the database and serve the app through gunicorn.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="装入演示数据（仅当数据库为空时）")
@click.option("--demo-enterprises", "demo_count", default=300, show_default=True,
              help="演示数据的企业数量（外勤记录随之增减）")
@with_appcontext
@friendly
def serve(host, port, workers, demo, demo_count):
    from crm import schema
    from crm.db import release
    app = current_app._get_current_object()
    _check_secret(app)
    _connect()
    applied = schema.upgrade()
    if applied:
        click.echo("已应用迁移：" + ", ".join(applied))
    logins = None
    if demo:
        from crm import demo as demo_data
        if demo_data.is_empty():
            click.echo("正在装入演示数据…")
            logins = demo_data.load_demo(enterprises=demo_count)
        else:
            click.echo("数据库已有数据，未重复装入演示数据。")
            logins = demo_data.existing_logins()
    release()  # the workers open their own connections
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"一企一档已启动：http://{shown}:{port}/")
    if logins:
        _print_logins(logins)
    click.echo("按 Ctrl+C 停止。")
    sys.stdout.flush()
    _run_gunicorn(app, host, port, workers)


def settle(worker=None):
    """Once a worker has loaded the app: move everything loaded so far (modules, the app, its
    templates) out of the garbage collector's reach. It is kept for the process's life anyway;
    otherwise every full collection walks it again — 15–20 ms now and then in a request that
    allocates much (a page of 300 people, the district's dashboard)."""
    import gc
    gc.collect()
    gc.freeze()


def _run_gunicorn(app, host, port, workers):
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            options = {"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread",
                       "threads": 4, "timeout": 60, "accesslog": "-", "loglevel": "warning",
                       "post_worker_init": settle}
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()


@click.group("stats", help="The aggregates behind the dashboard and the reports.")
def stats_group():
    pass


@stats_group.command("rebuild", help="Recompute every aggregate from the records (after loading "
                                     "data by other means than the app).")
@with_appcontext
@friendly
def stats_rebuild():
    import time

    from crm.stats.services import rebuild
    _require_schema()
    started = time.perf_counter()
    rebuild()
    click.echo(f"统计数据已重新计算（{time.perf_counter() - started:.1f} 秒）")


from crm.cli_backup import COMMANDS as BACKUP_COMMANDS  # noqa: E402
from crm.cli_import import import_group  # noqa: E402

COMMANDS = [db_group, user_group, demo_group, serve, import_group, stats_group, *BACKUP_COMMANDS]
