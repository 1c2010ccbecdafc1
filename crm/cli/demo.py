"""`crm demo load`: the ordinary demo or the district-scale data set into an empty database."""
import click
from flask.cli import with_appcontext

from crm import demo
from crm.cli.common import connect, friendly, print_logins, require_schema
from crm.demo.district import load_district


@click.group("demo", help="Demo data.")
def demo_group():
    pass


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
    require_schema()
    if not demo.is_empty():
        raise click.ClickException("数据库中已有数据；演示数据只能装入空数据库")
    if scale == "district":
        connect()
        sizes = load_district(seed=seed, scale=fraction, log=click.echo)
        click.echo("已装入区级数据集：" + "，".join(f"{k} {v:,}" for k, v in sizes.items()))
        click.echo(f"演示账号同普通演示数据（密码 {demo.DEMO_PASSWORD}）")
        return
    logins = demo.load_demo(seed=seed, enterprises=count)
    click.echo(f"已装入演示数据：{count} 家企业")
    print_logins(logins)
