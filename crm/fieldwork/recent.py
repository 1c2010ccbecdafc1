"""A user's own latest field work across every kind (the home page)."""
from crm.activities.models import ServiceActivity
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import MEETING_KINDS, VISIT_KINDS
from crm.meetings.models import Meeting
from crm.permissions import scoped
from crm.trainings.models import Training
from crm.visits.models import Visit, VisitVisitor


def _visits(user, limit: int, among_latest: int | None = None) -> list:
    """The user's latest visits (as a visitor, in scope, not archived): among the district's
    `among_latest` latest visits, or else among all of the user's own."""
    query = (scoped(Visit, user,
                    query=Visit.select(Visit.id, Visit.visited_on, Visit.kind, Enterprise.name)
                    .join(Enterprise).switch(Visit).join(VisitVisitor))
             .where(VisitVisitor.user == user.id, Visit.archived == False)  # noqa: E712
             .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(limit))
    if among_latest is not None:
        latest = Visit.select(Visit.id).order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(among_latest)
        return list(query.where(Visit.id.in_(latest)))
    # The user's own visits by the visitor index, as a list: left to itself PostgreSQL walks the
    # district's visits by date looking for them (seconds for someone with none).
    ids = [i for (i,) in VisitVisitor.select(VisitVisitor.visit).where(VisitVisitor.user == user.id).tuples()]
    return list(query.where(Visit.id.in_(ids))) if ids else []


def recent_work(user, limit=8, among_latest: int | None = None):
    """[(date, kind label, title, endpoint, record id)] newest first: visits the user went on and
    meetings, trainings and activities the user recorded. One query per kind.

    `among_latest`: look for the user's visits among the district's that many latest first (by
    the index of visit dates, without reading all of a user's thousands); found `limit` there,
    they are the user's latest (any other visit of theirs is older than all of those), otherwise
    all of the user's visits are read. The list is the same either way."""
    visits = _visits(user, limit, among_latest) if among_latest is not None else []
    if len(visits) < limit:
        visits = _visits(user, limit)
    rows = [(v.visited_on, "走访", f"{v.enterprise.name}（{VISIT_KINDS.label(v.kind)}）", "visits.show", v.id)
            for v in visits]
    for model, day, label, title, endpoint in (
            (Meeting, Meeting.held_on, "沟通会",
             lambda m: MEETING_KINDS.label(m.kind) + (f"：{m.title or m.venue}" if (m.title or m.venue) else ""),
             "meetings.show"),
            (Training, Training.held_on, "培训", lambda t: t.title, "trainings.show"),
            (ServiceActivity, ServiceActivity.held_on, "服务活动", lambda a: a.title, "activities.show")):
        query = (scoped(model, user).where(model.created_by == user.id, model.archived == False)  # noqa: E712
                 .order_by(day.desc(), model.id.desc()).limit(limit))
        rows += [(getattr(r, day.name), label, title(r), endpoint, r.id) for r in query]
    rows.sort(key=lambda r: (r[0], r[4]), reverse=True)
    return rows[:limit]
