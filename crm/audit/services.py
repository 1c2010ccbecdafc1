"""Writing the audit log. Each event is its own small write, so that what a refused request did
is kept even when the request itself saves nothing."""
from datetime import timedelta

from flask import current_app, has_request_context, request

from crm.audit.models import AuditEvent
from crm.common.text import safe_text
from crm.common.timeutil import utcnow
from crm.db import db
from crm.common.log import log

_PURGED = {}


def record(kind: str, *, user=None, username: str = "", target=None, detail: str = ""):
    """One event. `target`: (kind, id) of what it concerns. The client address and, when not
    given, the signed-in user come from the request."""
    address = ""
    if has_request_context():
        address = (request.remote_addr or "")[:64]
        if user is None:
            from flask_login import current_user
            if current_user and current_user.is_authenticated:
                user = current_user
    target_kind, target_id = target if target else ("", None)
    with db.atomic():
        AuditEvent.create(kind=kind, user=getattr(user, "id", None),
                          username=(username or getattr(user, "username", "") or "")[:64], address=address,
                          target_kind=target_kind, target_id=target_id, detail=safe_text(detail)[:2000])
    log.info("audit kind=%s user=%s addr=%s target=%s:%s %s", kind, username or getattr(user, "username", ""),
             address, target_kind, target_id or "", detail[:200])
    _purge_now_and_then()


def _purge_now_and_then():
    """Events older than CRM_AUDIT_DAYS go, checked at most once an hour per process."""
    now = utcnow()
    if _PURGED.get("at") and now - _PURGED["at"] < timedelta(hours=1):
        return
    _PURGED["at"] = now
    purge(now)


def purge(now=None) -> int:
    days = int(current_app.config.get("AUDIT_DAYS", 365))
    with db.atomic():
        return AuditEvent.delete().where(AuditEvent.at < (now or utcnow()) - timedelta(days=days)).execute()
