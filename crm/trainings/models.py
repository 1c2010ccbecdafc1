from peewee import CharField, DateField, DecimalField, ForeignKeyField, IntegerField, TextField

from crm.fieldwork.models import FieldWorkRecord, link_table
from crm.org.models import OrgUnit


class Training(FieldWorkRecord):
    """培训: e.g. 职工素质提升培训 given to enterprises on request."""
    title = CharField(max_length=200)
    category = CharField(max_length=20)
    held_on = DateField(index=True)
    hours = DecimalField(max_digits=5, decimal_places=1, null=True)
    trainer = CharField(max_length=100, default="")
    org_unit = ForeignKeyField(OrgUnit, backref="trainings", on_delete="RESTRICT")
    participants = IntegerField(default=0)
    summary = TextField()

    class Meta:
        indexes = ((("org_unit", "held_on"), False),)


TrainingEnterprise = link_table("TrainingEnterprise", Training, "training", "An enterprise the training served.")
