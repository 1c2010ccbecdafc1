"""`crm user create | passwd | reset-2fa`."""
import click
from flask.cli import with_appcontext
from peewee import fn

from crm.auth import second_factor
from crm.auth.models import User
from crm.auth.services import create_user, set_password
from crm.cli.common import ask_password, friendly, require_schema
from crm.org.services import find_unit


@click.group("user", help="User accounts: create, passwd, reset-2fa.")
def user_group():
    pass


@user_group.command("create", help="Create a user account.")
@click.option("--username", required=True)
@click.option("--name", required=True, help="姓名")
@click.option("--role", required=True, type=click.Choice(["staff", "supervisor", "viewer", "admin"]))
@click.option("--org", "org_name", required=True, help="所属单位名称或代码")
@click.option("--password", default=None, help="省略时交互输入；非交互时生成并打印")
@with_appcontext
@friendly
def user_create(username, name, role, org_name, password):
    require_schema()
    org = find_unit(org_name)
    if org is None:
        raise click.ClickException(f"找不到单位：{org_name}")
    generated = False
    if password is None:
        password, generated = ask_password(username)
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
    require_schema()
    user = User.get_or_none(User.username == username)
    if user is None:
        raise click.ClickException(f"找不到用户：{username}")
    generated = False
    if password is None:
        password, generated = ask_password(username)
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
    require_schema()
    user = User.get_or_none(fn.LOWER(User.username) == username.lower())
    if user is None:
        raise click.ClickException(f"找不到用户：{username}")
    if not second_factor.enrolled(user) and not user.totp_pending:
        click.echo(f"{user.username} 没有启用两步验证，无需重置")
        return
    second_factor.reset(user, reason="命令行 crm user reset-2fa")
    then = second_factor.after_reset(user)
    click.echo(f"已重置 {user.username} 的两步验证，该用户的所有会话已失效；{then}")
