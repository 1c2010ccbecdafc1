from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

from crm.common.choices import Choices
from crm.common.timeutil import utcnow
from crm.db import BaseModel

ORG_KINDS = Choices(("district", "区总工会"), ("town", "镇总工会"), ("street", "街道总工会"),
                    ("industrial_park", "产业基地总工会"), ("station", "服务站"))


class OrgUnit(BaseModel):
    code = CharField(max_length=64, unique=True)
    name = CharField(max_length=100, unique=True)
    kind = CharField(max_length=20)
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    # Materialised path of ids from the root, e.g. "/1/7/28/": a subtree is a prefix match.
    path = CharField(max_length=255, index=True)
    depth = IntegerField(default=0)
    active = BooleanField(default=True)
    # Its people sign in with a second factor (admins always do, wherever they are).
    second_factor_required = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)

    @property
    def kind_label(self):
        return ORG_KINDS.label(self.kind)

    def __str__(self):
        return self.name
