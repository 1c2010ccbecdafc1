"""通知: what a user is told in the app (the bell in the navbar), and the kinds they switched off."""
from peewee import CharField, DateTimeField, ForeignKeyField

from crm.auth.models import User
from crm.common.choices import Choices
from crm.common.timeutil import utcnow
from crm.db import BaseModel

# What a notification is about; the settings page offers each kind a user's role can receive.
KINDS = Choices(("assigned", "分派给我的跟进任务"), ("reassigned", "我的任务转派给了别人"),
                ("overdue", "我的任务逾期"), ("commented", "主管点评了我的走访"),
                ("digest", "每周待跟进建议汇总"))


class Notification(BaseModel):
    """One notification for one user. `key` says which event it tells of ("assigned:12:3",
    "overdue:12:2026-11-24", "digest:2026-W48"): unique per user, so that an event reported twice
    (two sweeps racing, a re-sent form) makes one notification. `link` is a path of this site."""
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT", index=False)  # (the indexes below)
    kind = CharField(max_length=20)
    key = CharField(max_length=100)
    title = CharField(max_length=200)
    text = CharField(max_length=300, default="")
    link = CharField(max_length=300, default="")
    created_at = DateTimeField(default=utcnow)
    read_at = DateTimeField(null=True)

    class Meta:
        # (user, read_at): the bell's unread count; (user, created_at): the list, newest first.
        indexes = ((("user", "key"), True), (("user", "read_at"), False), (("user", "created_at"), False))

    @property
    def kind_label(self):
        return KINDS.label(self.kind)

    @property
    def is_read(self):
        return self.read_at is not None


class NotificationOptOut(BaseModel):
    """A kind of notification a user does not want (every kind is on until switched off)."""
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT", index=False)
    kind = CharField(max_length=20)

    class Meta:
        indexes = ((("user", "kind"), True),)
