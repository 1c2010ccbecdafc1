from peewee import CharField, DateField, ForeignKeyField, IntegerField, TextField

from crm.fieldwork.models import FieldWorkRecord, link_table
from crm.meetings.models import OutreachPoint
from crm.org.models import OrgUnit


class ServiceActivity(FieldWorkRecord):
    """服务活动: free haircuts, health checks, cooling kits, a rest station …"""
    title = CharField(max_length=200)
    services = CharField(max_length=300, default="")
    held_on = DateField(index=True)
    place = CharField(max_length=200, default="")
    point = ForeignKeyField(OutreachPoint, null=True, backref="activities", on_delete="RESTRICT")
    org_unit = ForeignKeyField(OrgUnit, backref="activities", on_delete="RESTRICT")
    target_groups = CharField(max_length=200, default="")
    partners = CharField(max_length=200, default="")
    participants = IntegerField(default=0)
    new_members = IntegerField(default=0)
    summary = TextField(default="")

    class Meta:
        indexes = ((("org_unit", "held_on"), False),)


ActivityEnterprise = link_table("ActivityEnterprise", ServiceActivity, "activity",
                                "An enterprise the activity served.")
