"""`crm import enterprises FILE`: the ledger import from the command line (large files, scripts)."""
import time
from collections import Counter

import click
from flask.cli import with_appcontext

from crm.auth.models import User
from crm.cli.common import connect, friendly, require_schema
from crm.common.errors import ServiceError
from crm.imports import services
from crm.imports.analyse import OUTCOMES
from crm.org.models import OrgUnit
from crm.permissions import can_supervise


@click.group("import", help="Import data: enterprises.")
def import_group():
    pass


@import_group.command("enterprises", help="Import an enterprise ledger (.xlsx or .csv, UTF-8 or GBK).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", "org_name", default=None, help="默认所属工会（表中没有“所属工会”一列或某行未填时使用）")
@click.option("--user", "username", default=None, help="以谁的名义导入（默认：第一个管理员）；其管辖范围决定能导入哪些单位")
@click.option("--skip-duplicates", is_flag=True, help="已有档案的企业不修改（默认：用表中内容更新）")
@click.option("--valid-only", is_flag=True, help="只导入无误的行（默认：有任何错误就不导入）")
@click.option("--dry-run", is_flag=True, help="只检查并报告每行的结果，不写入")
@with_appcontext
@friendly
def import_enterprises(path, org_name, username, skip_duplicates, valid_only, dry_run):
    connect()
    require_schema()
    if username:
        user = User.get_or_none(User.username == username, User.active == True)  # noqa: E712
        if user is None:
            raise ServiceError(f"没有在用的账号 {username}")
    else:
        user = User.select().where(User.role == "admin", User.active == True).order_by(User.id).first()  # noqa: E712
        if user is None:
            raise ServiceError("没有管理员账号：请用 --user 指定导入人")
    if not can_supervise(user):
        raise ServiceError("只有主管或管理员可以导入台账")
    org = None
    if org_name:
        org = OrgUnit.get_or_none((OrgUnit.name == org_name) | (OrgUnit.code == org_name))
        if org is None:
            raise ServiceError(f"找不到单位：{org_name}")
    started = time.perf_counter()
    batch = services.start(path, path, user, org, "skip" if skip_duplicates else "update")
    mapped = services.mapping_of(batch)
    headers = services.headers_of(batch)
    click.echo(f"表头在第 {batch.header_row} 行；识别的列：" +
               "、".join(f"{headers[i]}→{k}" for i, k in sorted(mapped.items())))
    if dry_run:
        counts = Counter()
        for result in services.analyser(batch, user, similar=True):
            counts[result.outcome] += 1
            if result.outcome in ("error", "duplicate") or result.similar or result.similar_row:
                click.echo(f"第 {result.row} 行 {OUTCOMES.label(result.outcome)}：{result.name} {result.reason}")
        click.echo("检查完成（未写入）：" + "，".join(f"{l} {counts[k]}" for k, l in OUTCOMES if counts[k]))
        return
    done = services.commit(batch, user, valid_only,
                           progress=lambda n: click.echo(f"已处理 {n} 行…", err=True))
    click.echo(f"导入完成（#{done.id}，{time.perf_counter() - started:.1f} 秒）：新建 {done.created}，更新 {done.updated}，"
               f"无变化 {done.unchanged}，重复/跳过 {done.duplicates}，错误未导入 {done.errors}")
