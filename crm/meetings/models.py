from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField, TimeField

from crm.db import BaseModel
from crm.fieldwork.models import FieldWorkRecord, link_table
from crm.org.models import OrgUnit


class OutreachPoint(FieldWorkRecord):
    """固定点位: a recurring venue of an org unit (a mall, a riders' waiting spot …)."""
    name = CharField(max_length=100)
    address = CharField(max_length=300, default="")
    org_unit = ForeignKeyField(OrgUnit, backref="points", on_delete="RESTRICT", index=True)
    kind = CharField(max_length=20)
    schedule = CharField(max_length=100, default="")  # 每周四上午
    target_groups = CharField(max_length=200, default="")  # usual groups met there
    notes = TextField(default="")
    # Its sign-up link: renewing it (a new round) ends the links given out before.
    link_round = IntegerField(default=1)
    link_issued_at = DateTimeField(null=True)


class Meeting(FieldWorkRecord):
    """沟通会: 职工沟通会 or 企业沟通会."""
    kind = CharField(max_length=20)
    level = CharField(max_length=20, default="routine")
    format = CharField(max_length=20, default="face")
    org_unit = ForeignKeyField(OrgUnit, backref="meetings", on_delete="RESTRICT")
    held_on = DateField(index=True)
    start_time = TimeField(null=True)
    title = CharField(max_length=200, default="")
    venue = CharField(max_length=200, default="")
    point = ForeignKeyField(OutreachPoint, null=True, backref="meetings", on_delete="RESTRICT")
    target_groups = CharField(max_length=200, default="")
    # 参加人数 and 新入会人数 are what the reports count: the confirmed sign-ups plus the paper forms
    # typed on the meeting's form (paper_attendees, MeetingNewMembers.paper).
    attendees = IntegerField(default=0)
    paper_attendees = IntegerField(default=0)
    new_members = IntegerField(default=0)  # the sum of MeetingNewMembers.count, kept for reports
    cards = IntegerField(default=0)  # 会员互助服务卡办理数
    services = CharField(max_length=300, default="")
    partners = CharField(max_length=200, default="")
    summary = TextField()
    signup_cap = IntegerField(null=True)  # sign-ups taken by QR; NULL: the configured SIGNUP_CAP

    class Meta:
        # The last: every column the 双沟通 evaluator reads of a year's meetings (covering).
        indexes = ((("org_unit", "held_on"), False), (("kind", "held_on"), False),
                   (("kind", "held_on", "archived", "level", "org_unit"), False))


class MeetingNewMembers(BaseModel):
    """新入会人数 of one target group at one meeting: `count` = confirmed new members' sign-ups of
    the group + `paper`, those typed from paper forms."""
    meeting = ForeignKeyField(Meeting, backref="group_rows", on_delete="CASCADE")
    group = CharField(max_length=20)
    count = IntegerField()
    paper = IntegerField(default=0)

    class Meta:
        indexes = ((("meeting", "group"), True),)


MeetingEnterprise = link_table("MeetingEnterprise", Meeting, "meeting",
                               "A participating enterprise: the meeting shows on its file and counts as contact.")
