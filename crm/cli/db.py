"""`crm db upgrade` and `crm db status`: the numbered migrations in migrations/."""
import click
from flask.cli import with_appcontext

from crm import schema
from crm.cli.common import connect, friendly
from crm.common.timeutil import LOCAL_TZ


@click.group("db", help="Database schema: upgrade, status.")
def db_group():
    pass


@db_group.command("upgrade", help="Apply every pending migration.")
@with_appcontext
@friendly
def db_upgrade():
    connect()
    applied = schema.upgrade()
    click.echo("已是最新，无需升级。" if not applied else "已应用迁移：" + ", ".join(applied))


@db_group.command("status", help="List migrations and whether each is applied.")
@with_appcontext
@friendly
def db_status():
    connect()
    # The migrations table holds the server's local time without a zone: shown in Beijing time.
    for name, applied in schema.status():
        when = applied.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") + "（北京时间）" if applied else ""
        click.echo(f"{name:40s} {'applied ' + when if applied else 'pending'}")
