from peewee import fn

from crm.auth.models import User
from crm.common.timeutil import fmt_date
from crm.enterprises.models import Contact, Enterprise
from crm.fieldwork.choices import VISIT_KINDS, VISIT_PURPOSES, labels
from crm.fieldwork.registry import Kind, register
from crm.permissions import get_or_404, scoped
from crm.visits.models import Visit, VisitContact, VisitVisitor


def get_visit_or_404(record_id, user) -> Visit:
    """A visit is in scope when its enterprise is (crm/visits/queries.scoped_visits)."""
    return get_or_404(Visit, record_id, user, query=Visit.select(Visit, Enterprise).join(Enterprise))


def visitor_names(visit_id) -> str:
    names = (User.select(User.name).join(VisitVisitor, on=(VisitVisitor.user == User.id))
             .where(VisitVisitor.visit == visit_id).order_by(VisitVisitor.id).tuples())
    return "、".join(n for (n,) in names)


def contact_label(name: str, title: str) -> str:
    return f"{name}（{title}）" if title else name


def met_of(visit_ids) -> dict:
    """{visit id: ["王建国（人事经理）", …]}: the contacts met at each visit, in one query."""
    out = {}
    ids = list(visit_ids)
    if not ids:
        return out
    rows = (VisitContact.select(VisitContact.visit, Contact.name, Contact.title).join(Contact)
            .where(VisitContact.visit.in_(ids)).order_by(VisitContact.id).tuples())
    for visit_id, name, title in rows:
        out.setdefault(visit_id, []).append(contact_label(name, title))
    return out


def met_text(names, free_text: str) -> str:
    """见到的联系人 as one line: the contacts picked, then anyone else named."""
    return "、".join([*names, *([free_text] if free_text else [])])


def snapshot(v: Visit) -> dict:
    return {"走访日期": fmt_date(v.visited_on), "时间": v.visit_time.strftime("%H:%M") if v.visit_time else "",
            "走访人": visitor_names(v.id), "走访方式": VISIT_KINDS.label(v.kind),
            "走访目的": labels(VISIT_PURPOSES, v.purposes),
            "见到的联系人": met_text(met_of([v.id]).get(v.id, []), v.contacts_met),
            "内容摘要": v.summary, "走访结果": v.outcome, "下一步": v.next_step,
            "下一步日期": fmt_date(v.next_step_on)}


def timeline_keys(ent_id):
    return Visit.select(Visit.id, Visit.visited_on, Visit.created_at).where(
        Visit.enterprise == ent_id, Visit.archived == False).tuples()  # noqa: E712


def timeline_items(ent, user, ids):
    out, names = {}, {}
    for visit_id, name in (VisitVisitor.select(VisitVisitor.visit, User.name).join(User)
                           .where(VisitVisitor.visit.in_(ids)).order_by(VisitVisitor.id).tuples()):
        names.setdefault(visit_id, []).append(name)
    for v in Visit.select().where(Visit.id.in_(ids)):
        out[v.id] = {"title": VISIT_KINDS.label(v.kind), "detail": v.summary,
                     "who": "、".join(names.get(v.id, [])), "endpoint": "visits.show",
                     "args": {"record_id": v.id}}
    return out


def contact_days(ent_ids):
    return (Visit.select(Visit.enterprise, fn.MAX(Visit.visited_on))
            .where(Visit.enterprise.in_(ent_ids), Visit.archived == False)  # noqa: E712
            .group_by(Visit.enterprise).tuples())


def _visits_of(user, limit: int, among_latest: int | None = None) -> list:
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


def recent(user, limit, among_latest=None):
    """The visits the user went on. `among_latest`: look among the district's that many latest
    first (by the index of visit dates, without reading all of a user's thousands); found
    `limit` there, they are the user's latest, otherwise all of the user's visits are read."""
    visits = _visits_of(user, limit, among_latest) if among_latest is not None else []
    if len(visits) < limit:
        visits = _visits_of(user, limit)
    return [(v.visited_on, "走访", f"{v.enterprise.name}（{VISIT_KINDS.label(v.kind)}）", "visits.show", v.id)
            for v in visits]


KIND = register(Kind("visit", "走访记录", Visit, get_visit_or_404, "visits.show", snapshot,
                     timeline_label="走访", timeline_keys=timeline_keys, timeline_items=timeline_items,
                     contact_days=contact_days, recent=recent))
