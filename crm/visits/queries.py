"""Reads of visits. Every list starts from permissions.scoped() (a visit is in scope when its
enterprise is)."""
from crm.auth.models import User
from crm.enterprises.models import Enterprise
from crm.fieldwork.ledger import LedgerArgs
from crm.org.models import OrgUnit
from crm.permissions import EDIT_ROLES, can_edit_records, scoped, sees_district
from crm.visits.models import Visit, VisitComment, VisitVisitor


def scoped_visits(user):
    """Visits in the user's scope: a visit is in scope when its enterprise is (decided on the
    visit's copy of its enterprise's unit, which the services keep equal)."""
    return scoped(Visit, user, query=Visit.select(Visit, Enterprise).join(Enterprise))


def visitor_choices(ent, user, include=()):
    """Active users who may go on a visit to this enterprise: people of its unit, the units above
    it and below it, within the current user's own scope; the current user first."""
    unit_path = ent.org_unit.path
    parts = unit_path.strip("/").split("/")
    ancestors = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]
    query = (User.select(User.id, User.name, OrgUnit.name.alias("unit")).join(OrgUnit)
             .where(User.active == True, User.role.in_(EDIT_ROLES),  # noqa: E712
                    OrgUnit.path.startswith(unit_path) | OrgUnit.path.in_(ancestors or [""])))
    if not sees_district(user):
        query = query.where(OrgUnit.path.startswith(user.org_unit.path) | (User.id == user.id))
    people = {u.id: u for u in query.order_by(OrgUnit.path, User.name)}
    extra = [i for i in include if i not in people]
    if extra:
        for u in User.select(User.id, User.name, OrgUnit.name.alias("unit")).join(OrgUnit).where(User.id.in_(extra)):
            people[u.id] = u
    choices = [(u.id, u.name) for u in people.values()]
    choices.sort(key=lambda c: c[0] != user.id)
    if user.id not in people and can_edit_records(user):
        choices.insert(0, (user.id, user.name))
    return choices


def ledger(user, a: LedgerArgs):
    """The filtered visits, newest first, without their enterprises (a page's ids are picked from
    the (org_unit, archived, visited_on, id) index alone); with_firms() reads what rows show.
    The units are written in as values: a unit with few visits is then read by its index on
    PostgreSQL too (with a subquery it walked the district's million visits by date)."""
    query = scoped(Visit, user, listed=True)
    query = query.where(Visit.archived == (a.archived == "1"))
    units = a.unit_ids(listed=True)
    if units is not None:
        query = query.where(Visit.org_unit.in_(units))
    query = a.dates(query, Visit.visited_on)
    if a.kind:
        query = query.where(Visit.kind == a.kind)
    if a.staff:
        query = query.where(Visit.id.in_(VisitVisitor.select(VisitVisitor.visit).where(VisitVisitor.user == a.staff)))
    return query.order_by(Visit.visited_on.desc(), Visit.id.desc())


def with_firms(query):
    """A ledger query reading each visit with its enterprise."""
    return query.select(Visit, Enterprise).join(Enterprise)


def visitors_of(visit_ids) -> dict:
    """{visit id: [names]} in one query."""
    out = {}
    ids = list(visit_ids)
    if not ids:
        return out
    rows = (VisitVisitor.select(VisitVisitor.visit, User.name).join(User)
            .where(VisitVisitor.visit.in_(ids)).order_by(VisitVisitor.id).tuples())
    for visit_id, name in rows:
        out.setdefault(visit_id, []).append(name)
    return out


def visitor_ids(visit) -> list[int]:
    return [r.user_id for r in VisitVisitor.select(VisitVisitor.user).where(VisitVisitor.visit == visit.id)
            .order_by(VisitVisitor.id)]


def recent_by(user, limit=8):
    """The user's own latest visits (home page)."""
    return list(scoped_visits(user)
                .where(Visit.archived == False,  # noqa: E712
                       Visit.id.in_(VisitVisitor.select(VisitVisitor.visit).where(VisitVisitor.user == user.id)))
                .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(limit))


def comments(visit):
    return list(VisitComment.select(VisitComment, User).join(User)
                .where(VisitComment.visit == visit.id).order_by(VisitComment.at))
