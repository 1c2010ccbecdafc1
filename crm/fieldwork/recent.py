"""A user's own latest field work across every kind (the home page)."""
from crm.fieldwork import registry


def recent_work(user, limit=8, among_latest: int | None = None):
    """[(date, kind label, title, endpoint, record id)] newest first: visits the user went on and
    meetings, trainings and activities the user recorded; one query per kind (each kind's
    `recent`). `among_latest`: see crm.visits.kind.recent."""
    rows = []
    for kind in registry.KINDS.values():
        if kind.recent is not None:
            rows += kind.recent(user, limit, among_latest)
    rows.sort(key=lambda r: (r[0], r[4]), reverse=True)
    return rows[:limit]
