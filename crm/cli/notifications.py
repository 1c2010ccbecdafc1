"""`crm notifications sweep`: overdue tasks and the supervisors' weekly digests, from a timer."""
import click
from flask.cli import with_appcontext

from crm.cli.common import friendly, require_schema
from crm.notifications.services import sweep


@click.group("notifications", help="In-app notifications (通知).")
def notifications_group():
    pass


@notifications_group.command("sweep", help="Notify overdue tasks (once per task and due date) and send "
                                           "each supervisor's weekly digest (once per ISO week). Safe to "
                                           "run often, from several machines at once.")
@with_appcontext
@friendly
def notifications_sweep():
    require_schema()
    done = sweep()
    click.echo(f"逾期任务提醒 {done['overdue']} 条，每周建议汇总 {done['digests']} 份")
