"""The sign-up link of a meeting, an outreach point or a service activity: /join/<token>, where
the token is signed with the app's secret key and says what it is for and until when.

- a meeting's link ends with the meeting's day (Beijing time);
- an activity's with the activity's day;
- an outreach point's lasts POINT_LINK_DAYS from when it was issued, and renewing it (a new
  round) ends every link given out before, posters included.
An archived record's link is dead. Anything else in the URL is refused as forged."""
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from crm.activities.models import ServiceActivity
from crm.common.errors import ServiceError
from crm.common import timeutil
from crm.common.timeutil import LOCAL_TZ, to_local
from crm.meetings.models import Meeting, OutreachPoint

FORGED = "这个登记链接无效，请重新扫描现场的二维码"
EXPIRED = "这个登记二维码已过期，请扫描现场最新的二维码或联系工作人员"
CLOSED = "本次活动已取消或不再接受登记"


@dataclass
class Target:
    kind: str  # meeting, point, activity
    record: object
    expires: datetime  # aware

    @property
    def org_unit(self):
        return self.record.org_unit


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="crm-member-signup")


def _end_of(day) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)


def point_expiry(point) -> datetime:
    issued = to_local(point.link_issued_at or point.created_at)
    return issued + timedelta(days=current_app.config["POINT_LINK_DAYS"])


def expiry(kind: str, record) -> datetime:
    if kind == "point":
        return point_expiry(record)
    return _end_of(record.held_on)


def is_live(kind: str, record) -> bool:
    """The record's link still takes sign-ups (not archived, not expired; an activity's open)."""
    if record.archived or (kind == "activity" and not record.signup_open):
        return False
    return timeutil.now() < expiry(kind, record)


def token_for(kind: str, record) -> str:
    if kind == "point":
        payload = ["p", record.id, record.link_round]
    else:
        payload = ["m" if kind == "meeting" else "a", record.id]
    return _serializer().dumps(payload)


def target_of(token: str) -> Target:
    """The record a token names, or ServiceError(FORGED / EXPIRED / CLOSED)."""
    try:
        payload = _serializer().loads(token or "")
    except (BadSignature, UnicodeError, ValueError):
        raise ServiceError(FORGED)
    if not isinstance(payload, list) or len(payload) < 2 or not isinstance(payload[1], int):
        raise ServiceError(FORGED)
    code = payload[0]
    model, kind = {"m": (Meeting, "meeting"), "a": (ServiceActivity, "activity"),
                   "p": (OutreachPoint, "point")}.get(code, (None, None))
    if model is None:
        raise ServiceError(FORGED)
    record = model.get_or_none(model.id == payload[1])
    if record is None:
        raise ServiceError(FORGED)
    if kind == "point" and (len(payload) != 3 or payload[2] != record.link_round):
        raise ServiceError(EXPIRED)
    if record.archived or (kind == "activity" and not record.signup_open):
        raise ServiceError(CLOSED)
    ends = expiry(kind, record)
    if timeutil.now() >= ends:
        raise ServiceError(EXPIRED)
    return Target(kind, record, ends)
