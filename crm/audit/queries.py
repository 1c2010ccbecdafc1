"""Reading the audit log (admins only): filters kept in the URL, newest first."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from crm.audit.models import KINDS, AuditEvent
from crm.common.numbers import arg_page, to_id
from crm.common.text import safe_text
from crm.common.timeutil import LOCAL_TZ


@dataclass
class AuditArgs:
    kind: str = ""
    who: str = ""
    target_kind: str = ""
    target_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    @classmethod
    def from_request(cls, args):
        out = cls(kind=args.get("kind") if args.get("kind") in KINDS else "",
                  who=safe_text(args.get("who") or "").strip()[:64], page=arg_page(args))
        kind, _, raw = (args.get("target") or "").partition(":")
        if kind.isalpha() and to_id(raw):
            out.target_kind, out.target_id = kind[:20], to_id(raw)
        for name in ("date_from", "date_to"):
            try:
                setattr(out, name, date.fromisoformat(args.get(name) or ""))
            except ValueError:
                pass
        return out

    @property
    def target(self):
        return f"{self.target_kind}:{self.target_id}" if self.target_kind else ""


def _utc(day: date) -> datetime:
    """Midnight of a Beijing day, as the stored (naive UTC) times are."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(timezone.utc).replace(tzinfo=None)


def filtered(a: AuditArgs):
    query = AuditEvent.select().order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if a.kind:
        query = query.where(AuditEvent.kind == a.kind)
    if a.who:
        query = query.where(AuditEvent.username == a.who)
    if a.target_kind:
        query = query.where(AuditEvent.target_kind == a.target_kind, AuditEvent.target_id == a.target_id)
    if a.date_from:
        query = query.where(AuditEvent.at >= _utc(a.date_from))
    if a.date_to:
        query = query.where(AuditEvent.at < _utc(a.date_to + timedelta(days=1)))
    return query
