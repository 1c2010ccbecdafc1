"""What the `crm` commands share: one-line messages for expected failures, the database
connection, the check that the schema is current, passwords and demo logins on the terminal."""
import functools
import sys

import click
from peewee import DatabaseError, OperationalError

from crm import schema
from crm.auth.models import ROLES, is_admin_role
from crm.auth.services import generate_password
from crm.common.errors import ServiceError
from crm.db import db
from crm.demo import DEMO_PASSWORD


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


def connect():
    db.connect(reuse_if_open=True)


def require_schema():
    connect()
    waiting = schema.pending()
    if waiting:
        raise click.ClickException(f"数据库还有 {len(waiting)} 个迁移未应用，请先运行 crm db upgrade")


def ask_password(username):
    if sys.stdin.isatty():
        return click.prompt(f"{username} 的密码", hide_input=True, confirmation_prompt="再输入一次"), False
    return generate_password(), True


def print_logins(logins):
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for login in logins:
        click.echo(f"  {login.username:10s} {login.name}（{ROLES.label(login.role)}，{login.org_name}）")
    if any(is_admin_role(login.role) for login in logins):
        click.echo("  管理员登录须两步验证：首次登录时用手机上的身份验证器扫描页面上的二维码（或输入密钥）。")
