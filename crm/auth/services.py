"""Passwords, login with lockout, and session ending. Every write in one transaction."""
import secrets
from dataclasses import dataclass

from flask import current_app
from peewee import Case, fn
from werkzeug.security import check_password_hash, generate_password_hash

from crm.audit import services as audit
from crm.auth import second_factor
from crm.auth.models import ROLES, LoginThrottle, User
from crm.common.errors import ServiceError
from crm.common.timeutil import utcnow
from crm.db import db
from crm.org.models import OrgUnit
from crm.common.log import log

COMMON_PASSWORDS = {
    "1234567890", "12345678910", "0123456789", "qwertyuiop", "password123", "password1234",
    "1qaz2wsx3edc", "qwerty12345", "abcdefghij", "iloveyou123", "a123456789", "aa123456789",
    "woaini1314", "5201314520", "1111111111", "0000000000", "88888888888", "admin12345",
    "administrator", "passw0rd123",
}
# A hash to check against when the user does not exist, so both paths cost the same.
_DUMMY_HASH = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def password_problem(password: str, username: str = "") -> str | None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        return f"密码至少需要 {minimum} 个字符"
    if len(password) > 128:
        return "密码不能超过 128 个字符"
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return "密码过于简单，请换一个不易猜到的密码"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    return None


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@dataclass
class LoginResult:
    user: User | None
    error: str | None
    # What the sign-in still needs after a right password: "" (nothing), "code" (the user's
    # second factor) or "setup" (setting one up, which their role or unit requires).
    then: str = ""


LOGIN_FAILED = "用户名或密码错误，或账号已被锁定。连续失败 5 次将锁定 15 分钟。"


def throttle_keys(username: str, addr: str) -> dict[str, str]:
    """The counters one login attempt counts on: this user from this address, this user from
    anywhere, this address for anyone."""
    return {"ua": f"ua:{username}|{addr}"[:200], "u": f"u:{username}"[:200], "a": f"a:{addr}"[:200]}


def _limits(cfg) -> dict[str, int]:
    return {"ua": cfg["LOGIN_MAX_FAILURES"], "u": cfg["LOGIN_MAX_FAILURES_USER"],
            "a": cfg["LOGIN_MAX_FAILURES_ADDRESS"]}


class _Locked(Exception):
    pass


LOCKED_BY = {"ua": "该账号在这个地址连续失败", "u": "该账号在多个地址连续失败", "a": "这个地址连续失败"}


def reserve_attempt(keys: dict[str, str], now) -> str:
    """Count this attempt on every counter before the (slow) check, in one transaction: False,
    with nothing counted, when one of them is full. A check in progress counts as a failure, so
    a burst of parallel attempts checks at most the limit; the counters' own rows decide it (an
    UPDATE with the limit in its condition), on SQLite and PostgreSQL, in any number of workers.
    Returns "" when counted, else the kind of counter that is full ("ua", "u" or "a")."""
    cfg = current_app.config
    window, limits = cfg["LOGIN_LOCKOUT"], _limits(cfg)
    try:
        with db.atomic():
            # Counters nobody has failed on for a window, or whose lock is over, are gone: the
            # names typed once and never again do not pile up.
            LoginThrottle.delete().where(
                LoginThrottle.last_failure_at < now - window,
                (LoginThrottle.locked_until.is_null()) | (LoginThrottle.locked_until <= now)).execute()
            LoginThrottle.delete().where(LoginThrottle.key.in_(list(keys.values())),
                                         LoginThrottle.locked_until <= now).execute()
            for kind, key in keys.items():
                LoginThrottle.insert(key=key, failures=0).on_conflict_ignore().execute()
                limit = limits[kind]
                counted = (LoginThrottle.update(
                    failures=LoginThrottle.failures + 1, last_failure_at=now,
                    locked_until=Case(None, [(LoginThrottle.failures + 1 >= limit, now + window)], None))
                    .where(LoginThrottle.key == key, LoginThrottle.failures < limit).execute())
                if counted != 1:
                    raise _Locked(kind)
    except _Locked as full:
        return str(full)
    return ""


def _succeeded(keys: dict[str, str], attempts: int = 1):
    """A completed sign-in: this user's counters go; the address's gives back its attempts (an
    office behind one address is many people)."""
    LoginThrottle.delete().where(LoginThrottle.key.in_([keys["ua"], keys["u"]])).execute()
    left = Case(None, [(LoginThrottle.failures > attempts, LoginThrottle.failures - attempts)], 0)
    LoginThrottle.update(failures=left, locked_until=None) \
        .where(LoginThrottle.key == keys["a"], LoginThrottle.failures > 0).execute()


def authenticate(username: str, password: str, remote_addr: str = "") -> LoginResult:
    """Check a login. One message for a wrong user, a wrong password and a locked account."""
    global _DUMMY_HASH
    key = (username or "").strip().lower()[:64]
    now = utcnow()
    keys = throttle_keys(key, remote_addr or "-")
    full = reserve_attempt(keys, now)
    if full:
        log.warning("login refused (locked) username=%s addr=%s", key, remote_addr)
        audit.record("lockout", username=key, detail=f"锁定期间的登录被拒绝（{LOCKED_BY[full]}）")
        return LoginResult(None, LOGIN_FAILED)
    user = User.select().where(fn.LOWER(User.username) == key).first() if key else None
    if user is not None:
        ok = check_password_hash(user.password_hash, password or "") and user.active
    else:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_hex(8))
        check_password_hash(_DUMMY_HASH, password or "")
        ok = False
    if not ok:
        _failed(keys, user, key, remote_addr, "login", "" if user is not None else "没有这个用户名")
        return LoginResult(None, LOGIN_FAILED)
    if second_factor.enrolled(user):
        # The attempt stays counted until the code is right too: a known password does not buy
        # more guesses at the code.
        log.info("login password ok, code next username=%s addr=%s", key, remote_addr)
        return LoginResult(user, None, "code")
    _signed_in(user, keys, now)
    log.info("login ok username=%s addr=%s", key, remote_addr)
    if second_factor.required(user):
        return LoginResult(user, None, "setup")
    audit.record("login_ok", user=user)
    return LoginResult(user, None)


def _failed(keys: dict[str, str], user, username: str, remote_addr: str, what: str, detail: str) -> bool:
    """A wrong password or code, already counted: logged and audited, with the lockout it caused.
    Returns whether the user is locked out at this address now."""
    counter = LoginThrottle.get_or_none(LoginThrottle.key == keys["ua"])
    log.warning("%s failed username=%s addr=%s failures=%s", what, username, remote_addr,
                counter.failures if counter else "?")
    audit.record("login_failed", user=user, username=username, detail=detail)
    locked = bool(counter and counter.locked_until)
    if locked:
        audit.record("lockout", user=user, username=username,
                     detail=f"连续失败 {counter.failures} 次，锁定至 {counter.locked_until:%Y-%m-%d %H:%M} (UTC)")
    return locked


def _signed_in(user: User, keys: dict[str, str], now, attempts: int = 1):
    with db.atomic():
        _succeeded(keys, attempts)
        User.update(last_login_at=now).where(User.id == user.id).execute()


CODE_LOCKED = "尝试次数过多，账号已暂时锁定，请 15 分钟后重新登录。"
CODE_WRONG = "验证码不正确。请输入身份验证器里当前显示的 6 位数字，或一个未用过的恢复码。"
CODE_REUSED = "这个验证码刚刚用过。请等身份验证器显示下一个验证码（每 30 秒更新）后再输入。"


def check_second_factor(user: User, code: str, remote_addr: str = "", *,
                        signing_in: bool = True) -> tuple[str | None, str | None]:
    """A code typed after the password (or, signed in, to change a second-factor setting),
    throttled like the password on the same counters: (how, None) with how "totp" or
    "recovery", or (None, the message to show)."""
    now = utcnow()
    keys = throttle_keys(user.username.lower(), remote_addr or "-")
    full = reserve_attempt(keys, now)
    if full:
        log.warning("second factor refused (locked) username=%s addr=%s", user.username, remote_addr)
        audit.record("lockout", user=user, detail=f"锁定期间的两步验证被拒绝（{LOCKED_BY[full]}）")
        return None, CODE_LOCKED
    how = second_factor.check(user, code)
    if how in (None, "reused"):
        if _failed(keys, user, user.username, remote_addr, "second factor",
                   "两步验证码已用过" if how == "reused" else "两步验证码错误"):
            return None, CODE_LOCKED
        return None, CODE_REUSED if how == "reused" else CODE_WRONG
    if not signing_in:
        with db.atomic():
            _succeeded(keys)
        return how, None
    _signed_in(user, keys, now, attempts=2)  # the password's attempt and this one
    log.info("login ok (second factor: %s) username=%s addr=%s", how, user.username, remote_addr)
    detail = (f"两步验证：恢复码（剩余 {second_factor.recovery_left(user)} 个）" if how == "recovery"
              else "两步验证：验证码")
    audit.record("login_ok", user=user, detail=detail)
    return how, None


def lift_lockout(username: str):
    """A new password (often an admin's reset after a lockout) lifts the user's lockout."""
    name = username.lower()
    LoginThrottle.delete().where((LoginThrottle.key == f"u:{name}")
                                 | LoginThrottle.key.startswith(f"ua:{name}|")).execute()


def end_sessions(user: User):
    """Invalidate every cookie issued to this user (logout, password change, deactivation)."""
    with db.atomic():
        User.update(session_version=User.session_version + 1).where(User.id == user.id).execute()


def set_password(user: User, password: str):
    problem = password_problem(password, user.username)
    if problem:
        raise ServiceError(problem, "password")
    with db.atomic():
        User.update(password_hash=hash_password(password), password_changed_at=utcnow(),
                    session_version=User.session_version + 1).where(User.id == user.id).execute()
        lift_lockout(user.username)
    log.info("password set username=%s", user.username)


def create_user(username: str, name: str, role: str, org_unit: OrgUnit, password: str) -> User:
    username = (username or "").strip()
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "")\
            .replace("-", "").isalnum() or not username.isascii():
        raise ServiceError("用户名只能包含英文字母、数字、下划线、点或连字符，且不超过 64 位", "username")
    if not (name or "").strip():
        raise ServiceError("请填写姓名", "name")
    if role not in ROLES:
        raise ServiceError(f"未知角色：{role}（可选 {', '.join(ROLES.keys())}）", "role")
    if not org_unit.active:
        raise ServiceError(f"所属工会已停用：{org_unit.name}", "org_unit")
    problem = password_problem(password, username)
    if problem:
        raise ServiceError(problem, "password")
    with db.atomic():
        if User.select().where(fn.LOWER(User.username) == username.lower()).exists():
            raise ServiceError(f"用户名已存在：{username}", "username")
        return User.create(username=username, name=name.strip(), role=role, org_unit=org_unit,
                           password_hash=hash_password(password))


def update_user(user: User, *, name: str, role: str, org_unit: OrgUnit, active: bool):
    if role not in ROLES:
        raise ServiceError("未知角色", "role")
    if not (name or "").strip():
        raise ServiceError("请填写姓名", "name")
    with db.atomic():
        changed_access = (role != user.role or org_unit.id != user.org_unit_id or not active)
        changes = [f"角色 {ROLES.label(user.role)} → {ROLES.label(role)}" if role != user.role else "",
                   f"单位 {user.org_unit.name} → {org_unit.name}" if org_unit.id != user.org_unit_id else "",
                   ("启用" if active else "停用") if active != user.active else ""]
        User.update(name=name.strip(), role=role, org_unit=org_unit, active=active,
                    session_version=User.session_version + (1 if changed_access else 0)
                    ).where(User.id == user.id).execute()
        if any(changes):
            audit.record("role_change", target=("user", user.id),
                         detail=f"{user.username}：" + "；".join(c for c in changes if c))
    log.info("user updated username=%s role=%s org=%s active=%s", user.username, role,
             org_unit.code, active)
