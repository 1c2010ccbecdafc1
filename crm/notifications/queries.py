"""What the notification pages and the bell read: a user's own notifications only."""
from flask import abort
from peewee import fn

from crm.common.numbers import to_id
from crm.notifications.models import Notification, NotificationOptOut


def own(user):
    """The user's notifications, newest first: the one scope of this feature."""
    return (Notification.select().where(Notification.user == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


def get_own_or_404(note_id, user) -> Notification:
    """One of the user's notifications; anyone else's does not exist for them (404)."""
    pk = to_id(note_id)
    note = own(user).where(Notification.id == pk).first() if pk is not None else None
    if note is None:
        abort(404)
    return note


def unread_count(user) -> int:
    """The bell's count, from the index on (user, read_at)."""
    return (Notification.select(fn.COUNT(Notification.id))
            .where(Notification.user == user.id, Notification.read_at.is_null()).scalar()) or 0


def switched_off(user) -> set[str]:
    return {k for (k,) in NotificationOptOut.select(NotificationOptOut.kind)
            .where(NotificationOptOut.user == user.id).tuples()}
