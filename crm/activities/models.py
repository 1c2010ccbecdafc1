from peewee import BooleanField, CharField, DateField, ForeignKeyField, IntegerField, TextField

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
    # 参与人数 and 新入会人数: the sign-ups checked in plus those typed (paper_*). With sign-ups
    # open, members sign up by its link, up to `capacity`, then onto the waiting list.
    participants = IntegerField(default=0)
    new_members = IntegerField(default=0)
    paper_participants = IntegerField(default=0)
    paper_new_members = IntegerField(default=0)
    summary = TextField(default="")
    signup_open = BooleanField(default=False)
    capacity = IntegerField(null=True)

    class Meta:
        indexes = ((("org_unit", "held_on"), False),)


ActivityEnterprise = link_table("ActivityEnterprise", ServiceActivity, "activity",
                                "An enterprise the activity served.")
