from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField

from crm.auth.models import User
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.org.models import OrgUnit


class RuleSetting(BaseModel):
    """A rule's target and whether it applies, for one unit (or every unit when org_unit is
    null), from `effective_from` on. Rows are added, never changed: a new target starts on its
    date and the months before it keep the target they had."""
    rule = CharField(max_length=40)
    org_unit = ForeignKeyField(OrgUnit, null=True, backref="+", on_delete="RESTRICT")
    enabled = BooleanField(default=True)
    target = IntegerField()
    effective_from = DateField()
    note = CharField(max_length=200, default="")
    created_at = DateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")

    class Meta:
        indexes = ((("rule", "org_unit", "effective_from"), False),)
