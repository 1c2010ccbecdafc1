"""What every field-work record shares, and the one history table for all of them."""
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from crm.auth.models import User
from crm.common import channel
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.enterprises.models import Enterprise


class FieldWorkRecord(BaseModel):
    """Base of visits, meetings, trainings, activities, needs and outreach points.

    `form_key` is the idempotency key of the form that created the record (unique: a double tap
    or a re-sent form finds the record instead of making a second one). Records are archived,
    never deleted; every edit bumps `version` and is written to RecordChange.
    """
    form_key = CharField(max_length=64, null=True, unique=True)
    version = IntegerField(default=1)
    archived = BooleanField(default=False)
    archived_at = DateTimeField(null=True)
    archived_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    created_at = DateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")


class RecordChange(BaseModel):
    """修改记录 of a field-work record: one row per changed field (who, when, old → new)."""
    kind = CharField(max_length=20)  # a fieldwork.registry kind: visit, meeting, …
    record_id = IntegerField()
    user = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow)
    version = IntegerField()
    field = CharField(max_length=40)
    old_value = TextField(default="")
    new_value = TextField(default="")
    via = CharField(max_length=8, default=channel.current)  # "api": written through the API

    class Meta:
        indexes = ((("kind", "record_id", "at"), False),)


def link_table(class_name: str, record, field: str, doc: str = ""):
    """The table naming the enterprises a kind's records serve or include: one row per record
    and enterprise (`field` points at the record, deleted with it)."""
    class Meta:
        indexes = (((field, "enterprise"), True),)

    return type(class_name, (BaseModel,), {
        "__module__": record.__module__, "__doc__": doc, "Meta": Meta,
        field: ForeignKeyField(record, backref="enterprise_rows", on_delete="CASCADE"),
        "enterprise": ForeignKeyField(Enterprise, backref="+", on_delete="RESTRICT", index=True)})
