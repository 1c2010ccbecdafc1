"""What the home page reads, at a cost that does not grow with the district's records."""
from crm.activities.models import ServiceActivity
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import MEETING_KINDS, VISIT_KINDS
from crm.followups.queries import plain
from crm.founding import stages
from crm.meetings.models import Meeting
from crm.org.models import OrgUnit
from crm.permissions import scope_org_ids, scoped
from crm.stats import queries as stats
from crm.trainings.models import Training
from crm.visits.models import Visit, VisitVisitor

# A scope with more files than this finds its latest changes by walking the district's files from
# the most recently changed (a few hundred of them at most); a smaller one sorts its own files.
WALK_FROM_LATEST = 2000
# A user's latest visits are looked for first among the district's this many latest visits.
LATEST_VISITS = 2000


def scope_summary(user) -> dict:
    """The files of the user's scope (not archived) per founding stage and per union status, read
    from the aggregates (crm/stats: per unit, kept current by every write) instead of grouping the
    district's files on every visit to the home page."""
    units = scope_org_ids(user)
    if units is None:
        units = OrgUnit.select(OrgUnit.id)
    now = stats.present([unit_id for (unit_id,) in units.tuples()])
    by_stage = {key.split(":", 1)[1]: n for key, n in now.items() if key.startswith("stage:") and n}
    by_status = {key: 0 for key in stages.UNION_STATUS.keys()}
    for key, n in by_stage.items():
        by_status[stages.union_status(key)] += n
    return {"total": now["files"], "by_stage": by_stage, "by_status": by_status,
            "stages": stages.STAGES + stages.SIDE_STATES}


def recently_changed(user, files_in_scope: int, limit: int = 8):
    """The scope's files (not archived) changed last, newest first. `files_in_scope` (from
    scope_summary) picks the cheaper way: walk the index of change times until `limit` of the
    scope's files are found (expected limit × district / scope rows), or sort the scope's files."""
    walk = files_in_scope > WALK_FROM_LATEST
    query = scoped(Enterprise, user, org_field=plain(Enterprise.org_unit) if walk else Enterprise.org_unit,
                   query=Enterprise.select(Enterprise, OrgUnit).join(OrgUnit))
    return list(query.where(Enterprise.archived == False)  # noqa: E712
                .order_by(Enterprise.updated_at.desc()).limit(limit))


def _visits(user, limit: int, among_latest: int | None = None) -> list:
    query = (scoped(Visit, user, Enterprise.org_unit,
                    query=Visit.select(Visit.id, Visit.visited_on, Visit.kind, Enterprise.name)
                    .join(Enterprise).switch(Visit).join(VisitVisitor))
             .where(VisitVisitor.user == user.id, Visit.archived == False)  # noqa: E712
             .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(limit))
    if among_latest is not None:
        latest = Visit.select(Visit.id).order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(among_latest)
        query = query.where(Visit.id.in_(latest))
    else:
        # The user's own visits by the visitor index, as a list: left to itself PostgreSQL walks
        # the district's visits by date looking for them (seconds for someone with none).
        ids = [i for (i,) in VisitVisitor.select(VisitVisitor.visit).where(VisitVisitor.user == user.id).tuples()]
        if not ids:
            return []
        query = query.where(Visit.id.in_(ids))
    return list(query)


def recent_work(user, limit: int = 8) -> list:
    """[(date, kind label, title, endpoint, record id)] newest first: visits the user went on and
    meetings, trainings and activities the user recorded — crm/fieldwork/recent.py's list, with
    the visits found without reading all of a user's visits (thousands, each a look-up): first
    among the district's LATEST_VISITS latest (by the index of visit dates). Found `limit` there,
    they are the user's latest (any other visit of theirs is older than all of those); otherwise
    (someone who has not been out lately) the user's visits are read and sorted as before."""
    visits = _visits(user, limit, LATEST_VISITS)
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
