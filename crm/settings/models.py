from peewee import CharField, DateTimeField, ForeignKeyField

from crm.auth.models import User
from crm.common.timeutil import utcnow
from crm.db import BaseModel


class Setting(BaseModel):
    """A value an admin may change (e.g. a suggestion threshold). Absent rows mean the default."""
    key = CharField(max_length=64, unique=True)
    value = CharField(max_length=200)
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
