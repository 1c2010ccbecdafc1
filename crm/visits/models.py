from peewee import CharField, DateField, DateTimeField, FloatField, ForeignKeyField, TextField, TimeField

from crm.auth.models import User
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.enterprises.models import Enterprise
from crm.fieldwork.models import FieldWorkRecord


class Visit(FieldWorkRecord):
    """走访记录: one enterprise, one day, one or more visitors."""
    enterprise = ForeignKeyField(Enterprise, backref="visits", on_delete="RESTRICT")
    visited_on = DateField(index=True)
    visit_time = TimeField(null=True)
    kind = CharField(max_length=20)
    purposes = CharField(max_length=200, default="")  # ",founding,policy,"
    contacts_met = CharField(max_length=300, default="")
    summary = TextField()
    outcome = TextField(default="")
    next_step = CharField(max_length=300, default="")
    next_step_on = DateField(null=True)
    latitude = FloatField(null=True)
    longitude = FloatField(null=True)
    accuracy_m = FloatField(null=True)

    class Meta:
        indexes = ((("enterprise", "visited_on"), False),)


class VisitVisitor(BaseModel):
    visit = ForeignKeyField(Visit, backref="visitor_rows", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT", index=True)

    class Meta:
        indexes = ((("visit", "user"), True),)


class VisitComment(BaseModel):
    """点评: a supervisor's comment on a visit."""
    visit = ForeignKeyField(Visit, backref="comments", on_delete="RESTRICT")
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow)
    text = TextField()
