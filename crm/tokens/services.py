"""Create, check and revoke personal access tokens.

A token is `crm_` + 40 random URL-safe characters, shown once when made. The database keeps its
SHA-256 (the token is random, so a plain hash cannot be reversed by guessing), the first 10
characters to tell tokens apart, its scope (`read`: GET only; `write`: also the writes the person's
role allows), its expiry and when it was last used. A token of a deactivated person, an expired
or a revoked one opens nothing.
"""
import hashlib
import secrets
from datetime import timedelta

from crm.audit import services as audit
from crm.auth.models import User
from crm.common.choices import Choices
from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.common.timeutil import utcnow
from crm.db import db
from crm.permissions import reads_only
from crm.tokens.models import ApiToken

SCOPES = Choices(("read", "只读"), ("write", "读写"))
PREFIX = "crm_"
DAYS = (7, 30, 90, 180, 365)
DEFAULT_DAYS = 90
MAX_DAYS = 365
PER_USER = 20  # live tokens a person may hold
USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(user: User, name: str, scope: str, days: int, actor=None) -> tuple[ApiToken, str]:
    """A new token for `user`: (row, the token itself, which is not kept)."""
    name = clean(name)[:60]
    if not name:
        raise ServiceError("请填写令牌名称，例如“智慧工会平台”", "name")
    if scope not in SCOPES:
        raise ServiceError("请选择权限范围", "scope")
    if scope == "write" and reads_only(user):
        raise ServiceError("领导账号只能创建只读令牌", "scope")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ServiceError(f"有效期应为 1 至 {MAX_DAYS} 天", "days")
    if not user.active:
        raise ServiceError("该账号已停用，不能创建令牌", None)
    now = utcnow()
    token = PREFIX + secrets.token_urlsafe(30)
    with db.atomic():
        live = (ApiToken.select().where(ApiToken.user == user.id, ApiToken.revoked_at.is_null(),
                                        ApiToken.expires_at > now).count())
        if live >= PER_USER:
            raise ServiceError(f"每个账号最多 {PER_USER} 个有效令牌，请先撤销不用的令牌", None)
        row = ApiToken.create(user=user.id, name=name, scope=scope, prefix=token[:10], digest=digest(token),
                              created_at=now, expires_at=now + timedelta(days=days))
        audit.record("token_created", user=actor or user, target=("api_token", row.id),
                     detail=f"{user.username}：{name}（{SCOPES.label(scope)}，{days} 天）")
    return row, token


def revoke(row: ApiToken, actor) -> ApiToken:
    with db.atomic():
        if row.revoked_at is None:
            ApiToken.update(revoked_at=utcnow()).where(ApiToken.id == row.id).execute()
            audit.record("token_revoked", user=actor, target=("api_token", row.id), detail=row.name)
    return ApiToken.get_by_id(row.id)


def authenticate(token: str) -> tuple[ApiToken, User] | None:
    """The live token and its active owner, or None."""
    if not token or not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = ApiToken.select(ApiToken, User).join(User).where(ApiToken.digest == digest(token)).first()
    now = utcnow()
    if row is None or not row.live(now) or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= USED_EVERY:
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row, row.user


def of_user(user: User):
    return list(ApiToken.select().where(ApiToken.user == user.id).order_by(ApiToken.created_at.desc()))
