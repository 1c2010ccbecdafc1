from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from crm.auth.models import User
from crm.common.choices import Choices
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.org.models import OrgUnit

FORMATS = Choices(("json", "JSON（通用）"), ("wecom", "企业微信群机器人"))
DELIVERY_STATUSES = Choices(("pending", "待发送"), ("delivered", "已送达"), ("failed", "发送失败"),
                            badges={"pending": "text-bg-info", "delivered": "text-bg-success",
                                    "failed": "text-bg-danger"})


class WebhookEndpoint(BaseModel):
    """A receiver of events: those of `org_unit` and the units below it, for the events named in
    `events` (",visit.created,member.joined,"). `secret` signs every body (HMAC-SHA256). Endpoints
    are deactivated, never deleted: their deliveries stay readable."""
    org_unit = ForeignKeyField(OrgUnit, backref="+", on_delete="RESTRICT")
    name = CharField(max_length=100)
    url = CharField(max_length=500)
    events = CharField(max_length=300, default="")
    format = CharField(max_length=10, default="json")
    secret = CharField(max_length=64)
    active = BooleanField(default=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "webhook_endpoint"
        indexes = ((("active", "org_unit"), False),)

    @property
    def event_keys(self) -> list[str]:
        return [e for e in self.events.split(",") if e]

    @property
    def format_label(self):
        return FORMATS.label(self.format)


class WebhookDelivery(BaseModel):
    """One event for one endpoint (the outbox row, written in the transaction of the write that
    made the event). `event_id` is the envelope's id and the X-CRM-Delivery header. A round claims
    a row by setting `claimed_until` (a lease) and `claim` (its token) while it sends it."""
    endpoint = ForeignKeyField(WebhookEndpoint, backref="deliveries", on_delete="RESTRICT")
    event = CharField(max_length=40)
    event_id = CharField(max_length=36, unique=True)
    payload = TextField()
    status = CharField(max_length=10, default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    claimed_until = DateTimeField(null=True)
    claim = CharField(max_length=32, default="")
    last_status_code = IntegerField(null=True)
    last_error = CharField(max_length=200, default="")
    created_at = DateTimeField(default=utcnow)
    delivered_at = DateTimeField(null=True)

    class Meta:
        table_name = "webhook_delivery"
        indexes = ((("status", "next_attempt_at"), False), (("endpoint", "id"), False))

    @property
    def status_label(self):
        return DELIVERY_STATUSES.label(self.status)

    @property
    def status_class(self):
        return DELIVERY_STATUSES.badge(self.status)
