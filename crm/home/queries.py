"""What the home page reads, at a cost that does not grow with the district's records."""
from crm.db import plain
from crm.enterprises.models import Enterprise
from crm.fieldwork import recent
from crm.founding import stages
from crm.org.models import OrgUnit
from crm.permissions import scoped
from crm.stats import queries as stats

# A scope with more files than this finds its latest changes by walking the district's files from
# the most recently changed (a few hundred of them at most); a smaller one sorts its own files.
WALK_FROM_LATEST = 2000
# A user's latest visits are looked for first among the district's this many latest visits.
LATEST_VISITS = 2000


def scope_summary(user) -> dict:
    """The files of the user's scope (not archived) per founding stage and per union status, read
    from the aggregates (crm/stats: per unit, kept current by every write) instead of grouping the
    district's files on every visit to the home page."""
    now = stats.scope_present(user)
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


def recent_work(user, limit: int = 8) -> list:
    """The user's latest field work (crm/fieldwork/recent.py), their visits looked for among the
    district's LATEST_VISITS latest first."""
    return recent.recent_work(user, limit, among_latest=LATEST_VISITS)
