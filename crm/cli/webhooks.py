"""`crm webhooks deliver`: one delivery round (for a timer where no `crm worker` runs; a worker
sends them every minute and right after the request that queued them)."""
import click
from flask.cli import with_appcontext

from crm.cli.common import friendly, require_schema
from crm.webhooks.models import WebhookDelivery
from crm.webhooks.services import KEEP_DELIVERED, deliver_all, purge


@click.group("webhooks", help="Signed webhooks (推送接口).")
def webhooks_group():
    pass


@webhooks_group.command("deliver", help="Send every delivery that is due now (new ones and retries), delete "
                                          "those delivered more than 30 days ago, then stop.")
@with_appcontext
@friendly
def webhooks_deliver():
    require_schema()
    sent = deliver_all()
    gone = purge()
    waiting = WebhookDelivery.select().where(WebhookDelivery.status == "pending").count()
    click.echo(f"本轮发送 {sent} 条推送；仍待发送（含等待重试）{waiting} 条"
               + (f"；清理 {KEEP_DELIVERED.days} 天前已送达的记录 {gone} 条" if gone else ""))
