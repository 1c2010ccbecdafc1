"""`crm stats rebuild`: recompute the aggregates from the records."""
import time

import click
from flask.cli import with_appcontext

from crm.cli.common import friendly, require_schema
from crm.stats.services import rebuild


@click.group("stats", help="The aggregates behind the dashboard and the reports.")
def stats_group():
    pass


@stats_group.command("rebuild", help="Recompute every aggregate from the records (after loading "
                                     "data by other means than the app).")
@with_appcontext
@friendly
def stats_rebuild():
    require_schema()
    started = time.perf_counter()
    rebuild()
    click.echo(f"统计数据已重新计算（{time.perf_counter() - started:.1f} 秒）")
