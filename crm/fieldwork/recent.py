"""A user's own latest field work across every kind (the home page)."""
from crm.activities.models import ServiceActivity
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import MEETING_KINDS, VISIT_KINDS
from crm.meetings.models import Meeting
from crm.permissions import scoped
from crm.trainings.models import Training
from crm.visits.models import Visit, VisitVisitor


def recent_work(user, limit=8):
    """[(date, kind label, title, endpoint, record id)] newest first: visits the user went on and
    meetings, trainings and activities the user recorded. One query per kind."""
    rows = []
    visits = (scoped(Visit, user, Enterprise.org_unit,
                     query=Visit.select(Visit.id, Visit.visited_on, Visit.kind, Enterprise.name)
                     .join(Enterprise).switch(Visit).join(VisitVisitor))
              .where(VisitVisitor.user == user.id, Visit.archived == False)  # noqa: E712
              .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(limit))
    rows += [(v.visited_on, "走访", f"{v.enterprise.name}（{VISIT_KINDS.label(v.kind)}）", "visits.show", v.id)
             for v in visits]
    for model, day, label, title, endpoint in (
            (Meeting, Meeting.held_on, "沟通会", lambda m: MEETING_KINDS.label(m.kind) + (f"：{m.title or m.venue}" if (m.title or m.venue) else ""), "meetings.show"),
            (Training, Training.held_on, "培训", lambda t: t.title, "trainings.show"),
            (ServiceActivity, ServiceActivity.held_on, "服务活动", lambda a: a.title, "activities.show")):
        query = (scoped(model, user).where(model.created_by == user.id, model.archived == False)  # noqa: E712
                 .order_by(day.desc(), model.id.desc()).limit(limit))
        rows += [(getattr(r, day.name), label, title(r), endpoint, r.id) for r in query]
    rows.sort(key=lambda r: (r[0], r[4]), reverse=True)
    return rows[:limit]
