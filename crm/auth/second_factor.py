"""Two-factor sign-in: time-based one-time codes (TOTP, RFC 6238, any authenticator app) and
one-time recovery codes. Who must use it, setting it up, checking a code, resetting it.

The throttle around a check lives in crm.auth.services (a wrong code counts like a wrong
password); this module only knows codes."""
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

import pyotp
import segno

from crm.audit import services as audit
from crm.auth.models import RecoveryCode, User
from crm.common.errors import ServiceError
from crm.common.timeutil import utcnow
from crm.db import db
from crm.org.models import OrgUnit

ISSUER = "一企一档"
RECOVERY_CODES = 10
# Recovery codes: 8 characters of 32 that cannot be mistaken for each other (no 0/o, 1/l/i).
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# A code is accepted one time step (30 s) early or late: a phone's clock a little off.
VALID_WINDOW = 1


def required(user: User) -> bool:
    """Admins always sign in with a second factor; others when their unit asks for it."""
    return user.is_admin or bool(user.org_unit.second_factor_required)


def enrolled(user: User) -> bool:
    return user.totp_enrolled_at is not None and bool(user.totp_secret)


def recovery_left(user: User) -> int:
    return RecoveryCode.select().where(RecoveryCode.user == user.id, RecoveryCode.used_at.is_null()).count()


def normalized(code: str) -> str:
    """What was typed, as compared: full-width digits and letters folded, spaces and dashes gone."""
    text = unicodedata.normalize("NFKC", code or "")
    return "".join(ch for ch in text if ch.isalnum()).lower()[:32]


def _hash(code: str) -> str:
    return hashlib.sha256(normalized(code).encode()).hexdigest()


# ---- setting up ------------------------------------------------------------------------------

@dataclass
class Setup:
    secret: str
    uri: str

    @property
    def grouped(self) -> str:
        """The key as a person types it into an app without a camera: groups of four."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))

    def qr_svg(self) -> str:
        """The otpauth:// address as an inline SVG QR code (no script, no style: it passes the CSP)."""
        return segno.make(self.uri, error="m").svg_inline(scale=5, border=2, omitsize=True,
                                                          title="两步验证二维码")


def start_setup(user: User) -> Setup:
    """The secret a new authenticator is set up with: one kept while the user sets it up (a page
    opened again shows the same code), replacing the one in use only once confirmed."""
    with db.atomic():
        pending = User.select(User.totp_pending).where(User.id == user.id).scalar()
        if not pending:
            pending = pyotp.random_base32()
            User.update(totp_pending=pending).where(User.id == user.id).execute()
    user.totp_pending = pending
    uri = pyotp.TOTP(pending).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return Setup(pending, uri)


def _matching_step(secret: str, code: str, now=None) -> int | None:
    code = normalized(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now or datetime.now(timezone.utc))
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _new_recovery_codes(user: User) -> list[str]:
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(8)) for _ in range(RECOVERY_CODES)]
    RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()
    RecoveryCode.insert_many([{"user": user.id, "code_hash": _hash(c)} for c in codes]).execute()
    return [f"{c[:4]}-{c[4:]}" for c in codes]


def confirm_setup(user: User, code: str) -> list[str]:
    """The first code from the new authenticator: it becomes the one in use, with ten new
    recovery codes, returned here in clear for the one time they are shown."""
    with db.atomic():
        pending = User.select(User.totp_pending).where(User.id == user.id).scalar()
        if not pending:
            raise ServiceError("设置已过期，请重新扫描二维码", "code")
        step = _matching_step(pending, code)
        if step is None:
            raise ServiceError("验证码不正确：请输入身份验证器里显示的 6 位数字（每 30 秒更新）", "code")
        replacing = enrolled(user)
        now = utcnow()
        User.update(totp_secret=pending, totp_pending=None, totp_enrolled_at=now, totp_last_step=step) \
            .where(User.id == user.id).execute()
        codes = _new_recovery_codes(user)
    user.totp_secret, user.totp_pending, user.totp_enrolled_at, user.totp_last_step = pending, None, now, step
    audit.record("second_factor", user=user, target=("user", user.id),
                 detail="更换了身份验证器" if replacing else "启用了两步验证")
    return codes


def new_recovery_codes(user: User) -> list[str]:
    with db.atomic():
        codes = _new_recovery_codes(user)
    audit.record("second_factor", user=user, target=("user", user.id), detail="重新生成了恢复码")
    return codes


# ---- checking --------------------------------------------------------------------------------

def check(user: User, code: str) -> str | None:
    """"totp" or "recovery" when the code is right, "reused" for the authenticator's code of a
    time step already accepted, else None. Each code is good once: a time step later than the
    last accepted one, and a recovery code not yet used, each taken by one conditional UPDATE
    (two requests with the same code: one wins)."""
    if not enrolled(user):
        return None
    step = _matching_step(user.totp_secret, code)
    with db.atomic():
        if step is not None:
            taken = User.update(totp_last_step=step).where(
                User.id == user.id, User.totp_secret == user.totp_secret,
                User.totp_last_step.is_null() | (User.totp_last_step < step)).execute()
            return "totp" if taken == 1 else "reused"
        if len(normalized(code)) != 8:
            return None
        used = RecoveryCode.update(used_at=utcnow()).where(
            RecoveryCode.user == user.id, RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_null()).execute()
        return "recovery" if used == 1 else None


def _forget(user: User, **also):
    """The user's authenticator and recovery codes gone (with `also`, more of their row)."""
    with db.atomic():
        User.update(totp_secret=None, totp_pending=None, totp_enrolled_at=None, totp_last_step=None,
                    **also).where(User.id == user.id).execute()
        RecoveryCode.delete().where(RecoveryCode.user == user.id).execute()


def reset(user: User, by: User | None = None, reason: str = "") -> None:
    """A lost phone: the user sets up an authenticator again at their next sign-in (or goes
    without, when nothing requires it). Their sessions end."""
    _forget(user, session_version=User.session_version + 1)
    audit.record("second_factor", user=by, username=(by.username if by else "命令行"),
                 target=("user", user.id), detail=f"重置了 {user.username} 的两步验证" + (f"（{reason}）" if reason else ""))


def turn_off(user: User) -> None:
    """The user's own choice, where nothing requires it."""
    if required(user):
        raise ServiceError("你的账号必须使用两步验证，不能关闭", "code")
    _forget(user)
    audit.record("second_factor", user=user, target=("user", user.id), detail="关闭了两步验证")


def after_reset(user: User) -> str:
    """What the user's next sign-in asks once their second factor is reset."""
    return "下次登录时需重新设置身份验证器" if required(user) else "下次登录只需密码"


def unit_switch(unit, on: bool) -> int:
    """Make a unit's people sign in with a second factor (or no longer). Returns how many of its
    active accounts have yet to set one up (they do at their next sign-in)."""
    with db.atomic():
        OrgUnit.update(second_factor_required=on).where(OrgUnit.id == unit.id).execute()
    audit.record("second_factor", target=("org_unit", unit.id),
                 detail=f"{unit.name}：{'要求' if on else '不再要求'}本单位人员使用两步验证")
    return (User.select().where(User.org_unit == unit.id, User.active == True,  # noqa: E712
                                User.totp_enrolled_at.is_null()).count())
