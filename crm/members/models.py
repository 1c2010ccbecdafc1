from peewee import BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from crm.activities.models import ServiceActivity
from crm.auth.models import User
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.enterprises.models import Enterprise
from crm.meetings.models import Meeting, OutreachPoint
from crm.org.models import OrgUnit


class Member(BaseModel):
    """会员: a worker who joined through a sign-up. The phone is kept encrypted (`phone_secret`),
    matched by a keyed hash (`phone_key`, unique: one member per phone across the district) and
    shown masked (crm/members/phones.py). Erasure empties the personal fields and keeps the row,
    so the counts it took part in stay."""
    name = CharField(max_length=50)
    phone_secret = TextField(default="")
    phone_key = CharField(max_length=64, null=True, unique=True)
    phone_mask = CharField(max_length=16, default="")
    group = CharField(max_length=20)  # a TARGET_GROUPS key
    platform = CharField(max_length=20, default="")  # a PLATFORMS key
    employer = CharField(max_length=100, default="")  # the employer named, for 其他单位
    enterprise = ForeignKeyField(Enterprise, null=True, backref="+", on_delete="SET NULL")
    station = CharField(max_length=100, default="")
    org_unit = ForeignKeyField(OrgUnit, backref="+", on_delete="RESTRICT")  # the unit that recruited them
    state = CharField(max_length=10, default="pending")  # MEMBER_STATES
    joined_at = DateTimeField(default=utcnow)
    card_issued = BooleanField(default=False)  # 会员互助服务卡
    card_issued_at = DateTimeField(null=True)
    consent_version = CharField(max_length=20, default="")
    consent_at = DateTimeField(null=True)
    archived = BooleanField(default=False)
    archived_at = DateTimeField(null=True)
    archived_reason = CharField(max_length=200, default="")
    erased_at = DateTimeField(null=True)
    erased_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)
    version = IntegerField(default=1)

    class Meta:
        table_name = "member"
        indexes = ((("org_unit", "joined_at"), False),)


class SignUp(BaseModel):
    """One member's sign-up at one meeting, outreach point (on one day) or service activity.

    At a meeting or point it is 待确认 until staff confirm or reject it; at an activity it is
    已报名 or 候补 until cancelled, and checked in at the event. It counts (`counted`) once
    confirmed or checked in. `is_new`: this sign-up made the member (a member's other sign-ups
    are attendance); `group` is the member's group when they signed."""
    member = ForeignKeyField(Member, backref="signups", on_delete="RESTRICT")
    org_unit = ForeignKeyField(OrgUnit, backref="+", on_delete="RESTRICT")
    meeting = ForeignKeyField(Meeting, null=True, backref="signups", on_delete="RESTRICT")
    point = ForeignKeyField(OutreachPoint, null=True, backref="signups", on_delete="RESTRICT")
    activity = ForeignKeyField(ServiceActivity, null=True, backref="signups", on_delete="RESTRICT")
    day = DateField()
    signed_at = DateTimeField(default=utcnow)
    group = CharField(max_length=20)
    is_new = BooleanField(default=False)
    state = CharField(max_length=12)  # SIGNUP_STATES
    counted = BooleanField(default=False)
    via = CharField(max_length=10, default="qr")  # qr: the worker's phone; staff: entered for them
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    checked_in_at = DateTimeField(null=True)
    checked_in_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    cancelled_at = DateTimeField(null=True)

    class Meta:
        table_name = "member_signup"
        indexes = ((("meeting", "member"), True), (("activity", "member"), True),
                   (("point", "member", "day"), True), (("member", "signed_at"), False),
                   (("org_unit", "day"), False))


class SignUpThrottle(BaseModel):
    """Sign-ups from one client address (a keyed hash of it) in the current window."""
    key = CharField(max_length=64, unique=True)
    window_start = DateTimeField()
    count = IntegerField(default=0)
