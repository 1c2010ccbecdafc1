from flask_login import UserMixin
from peewee import BigIntegerField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

from crm.common.choices import Choices
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.org.models import OrgUnit

ROLES = Choices(("staff", "走访干部"), ("supervisor", "主管"), ("viewer", "领导"), ("admin", "区总工会管理员"))


def is_admin_role(role: str) -> bool:
    """区总工会管理员 (the named rules in crm.permissions build on it)."""
    return role == "admin"


class User(UserMixin, BaseModel):
    username = CharField(max_length=64, unique=True)
    name = CharField(max_length=64)
    role = CharField(max_length=16)
    org_unit = ForeignKeyField(OrgUnit, backref="users", on_delete="RESTRICT")
    password_hash = CharField(max_length=255)
    active = BooleanField(default=True)
    # Bumped at logout and password change: every cookie carrying an older value stops working.
    session_version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    password_changed_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)
    # Two-factor sign-in (TOTP, RFC 6238): the secret in use once enrolled, a new one while the
    # user is setting up an authenticator, and the last time step accepted (a code works once).
    totp_secret = CharField(max_length=64, null=True)
    totp_pending = CharField(max_length=64, null=True)
    totp_enrolled_at = DateTimeField(null=True)
    totp_last_step = BigIntegerField(null=True)

    class Meta:
        table_name = "app_user"  # "user" is reserved in PostgreSQL

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    @property
    def role_label(self):
        return ROLES.label(self.role)

    @property
    def is_admin(self) -> bool:
        return is_admin_role(self.role)

    def __str__(self):
        return self.name


class RecoveryCode(BaseModel):
    """One-time codes for a sign-in without the authenticator: only their SHA-256 is kept; a used
    code keeps its row, with when it was used."""
    user = ForeignKeyField(User, backref="recovery_codes", on_delete="CASCADE")
    code_hash = CharField(max_length=64)
    used_at = DateTimeField(null=True)

    class Meta:
        table_name = "recovery_code"
        indexes = ((("user", "code_hash"), True),)


class LoginThrottle(BaseModel):
    """Failed-login counters, whether or not the typed user exists. `key` is one of
    "ua:<username>|<address>" (a user from one client address), "u:<username>" (a user from
    anywhere, a higher ceiling) and "a:<address>" (everything from one address). A check in
    progress counts as a failure until it succeeds (crm.auth.services.authenticate)."""
    key = CharField(max_length=200, unique=True)
    failures = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    last_failure_at = DateTimeField(null=True, index=True)

    class Meta:
        table_name = "login_throttle"
