"""`crm token create | list | revoke`: personal access tokens for /api/v1."""
import click
from flask.cli import with_appcontext

from crm.auth.models import User
from crm.cli.common import friendly, require_schema
from crm.common.errors import ServiceError
from crm.common.timeutil import fmt_dt, utcnow
from crm.tokens import services as tokens
from crm.tokens.models import ApiToken


@click.group("token", help="API tokens: create, list, revoke.")
def token_group():
    pass


def _user(username):
    user = User.get_or_none(User.username == username)
    if user is None:
        raise click.ClickException(f"找不到用户：{username}")
    return user


@token_group.command("create", help="Create a personal access token; prints it once, alone on the last line.")
@click.option("--username", required=True)
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True)
@click.option("--days", type=click.IntRange(1, tokens.MAX_DAYS), default=tokens.DEFAULT_DAYS, show_default=True)
@click.option("--name", default="命令行创建", show_default=True, help="令牌名称（用途）")
@with_appcontext
@friendly
def token_create(username, scope, days, name):
    require_schema()
    user = _user(username)
    try:
        row, token = tokens.create(user, name, scope, days, actor=None)
    except ServiceError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"已为 {user.username} 创建令牌 #{row.id}（{tokens.SCOPES.label(scope)}，"
               f"{fmt_dt(row.expires_at)} 到期）。令牌只显示这一次：")
    click.echo(token)


@token_group.command("list", help="A user's tokens (never the tokens themselves).")
@click.option("--username", required=True)
@with_appcontext
@friendly
def token_list(username):
    require_schema()
    for row in tokens.of_user(_user(username)):
        state = "已撤销" if row.revoked_at else ("有效" if row.live(utcnow()) else "已过期")
        click.echo(f"#{row.id}\t{row.prefix}…\t{row.scope}\t{state}\t{fmt_dt(row.expires_at)}\t{row.name}")


@token_group.command("revoke", help="Revoke a token by its number.")
@click.argument("token_id", type=int)
@with_appcontext
@friendly
def token_revoke(token_id):
    require_schema()
    row = ApiToken.get_or_none(ApiToken.id == token_id)
    if row is None:
        raise click.ClickException(f"找不到令牌 #{token_id}")
    tokens.revoke(row, None)
    click.echo(f"已撤销令牌 #{row.id}（{row.name}）")
