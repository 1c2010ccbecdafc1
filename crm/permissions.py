"""Named permission rules and the one scoping helper. Views and templates both use these.

A user sees the records of their org unit and every unit below it (admins see all).
Anything outside that subtree does not exist for them: get_*_or_404 raises 404.
"""
from flask import abort
from flask_login import current_user
from peewee import SQL

from crm.audit import services as audit
from crm.common.log import log
from crm.common.numbers import to_id
from crm.enterprises.models import Enterprise
from crm.jobs.models import Job
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids

EDIT_ROLES = {"staff", "supervisor", "admin"}
TASK_ROLES = ("staff", "supervisor")  # who is given follow-ups


def is_admin(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.is_admin


def can_edit_records(user) -> bool:
    """Create and edit enterprise files and their founding track (viewers are read-only)."""
    return getattr(user, "is_authenticated", False) and user.role in EDIT_ROLES


def can_supervise(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.role in {"supervisor", "admin"}


def can_bulk_edit_firms(user) -> bool:
    """批量操作 on the enterprise list: move many files to another unit, mark or unmark 区级重点企业,
    add or remove a tag, archive (supervisors and admins, within their scope)."""
    return can_supervise(user)


def can_manage_system(user) -> bool:
    """Org units and users."""
    return is_admin(user)


def can_manage_backups(user) -> bool:
    """数据备份 from the web: a copy of every record and photo to download (admins only)."""
    return is_admin(user)


def can_rebuild_stats(user) -> bool:
    """统计重算: recompute every aggregate (admins only)."""
    return is_admin(user)


def sees_district(user) -> bool:
    """Sees the whole district rather than a unit and those below it (admins), by role alone:
    the scope of a deactivated admin's import still running is the district's."""
    return bool(getattr(user, "is_admin", False))


def leads_team(user) -> bool:
    """A unit's 主管: the home page shows the team's tasks and the suggestions to hand out."""
    return getattr(user, "is_authenticated", False) and user.role == "supervisor"


def own_tasks_only(user) -> bool:
    """A 走访干部: works on the tasks given to them and gives tasks to nobody but themselves."""
    return getattr(user, "is_authenticated", False) and user.role == "staff"


def receives_tasks(user) -> bool:
    """Is given follow-ups (走访干部 and 主管 at work in a unit)."""
    return getattr(user, "is_authenticated", False) and user.active and user.role in TASK_ROLES


def reads_only(user) -> bool:
    """A 领导: reads the figures and the files of their scope, records nothing."""
    return getattr(user, "is_authenticated", False) and user.role == "viewer"


def reads_member_phone(user, member) -> bool:
    """A member's full phone number: read only by a 主管 of the unit that recruited them (each
    reading is logged by crm.members.services.reveal_phone). Not in RULES: it takes the member."""
    return (getattr(user, "is_authenticated", False) and user.active and user.role == "supervisor"
            and user.org_unit_id == member.org_unit_id)


RULES = {
    "edit_records": can_edit_records,
    "supervise": can_supervise,
    "bulk_edit_firms": can_bulk_edit_firms,
    "manage_system": can_manage_system,
    "manage_backups": can_manage_backups,
    "rebuild_stats": can_rebuild_stats,
    "see_district": sees_district,
    "lead_team": leads_team,
    "own_tasks_only": own_tasks_only,
    "read_only": reads_only,
    "receive_tasks": receives_tasks,
}


def can(rule: str, user=None) -> bool:
    return RULES[rule](user if user is not None else current_user)


def require(rule: str):
    """Abort 403 unless the current user passes the rule (for actions, not for record lookups)."""
    if not can(rule):
        log.warning("denied rule=%s user=%s", rule, getattr(current_user, "username", None))
        audit.record("denied", detail=f"无权操作：{rule}")
        abort(403)


# ---- scoping -------------------------------------------------------------------------------

def scope_org_ids(user):
    """A subquery of the org-unit ids the user may see, or None for everything (admin)."""
    if sees_district(user):
        return None
    return subtree_ids(user.org_unit)


def scoped(model, user, org_field=None, query=None, listed=False):
    """model.select() (or `query`, e.g. one with a join) limited to the user's subtree.
    The one place scoping is decided. `org_field` is the org unit that decides it.
    `listed`: the subtree's ids are read first and written into the query as values, so that
    the database plans with the actual units (PostgreSQL then reads a small unit's rows from
    their index instead of walking a big table in sort order looking for them)."""
    org_field = org_field if org_field is not None else model.org_unit
    query = query if query is not None else model.select()
    ids = scope_org_ids(user)
    if ids is not None and listed:
        ids = [i for (i,) in ids.tuples()]
    return query if ids is None else query.where(org_field.in_(ids))


def visible_enterprises(user):
    """A condition: the enterprise is in the user's scope (for records that list enterprises of
    other units: their names are shown only to users who may see those files)."""
    ids = scope_org_ids(user)
    return SQL("1 = 1") if ids is None else Enterprise.org_unit.in_(ids)


def in_scope(user, org_unit) -> bool:
    if sees_district(user):
        return True
    return org_unit.path.startswith(user.org_unit.path)


def get_or_404(model, pk, user, org_field=None, query=None):
    pk = to_id(pk)
    if pk is None:
        abort(404)
    record = scoped(model, user, org_field, query).where(model.id == pk).first()
    if record is None:
        log.info("not found or out of scope model=%s id=%s user=%s", model.__name__, pk,
                 getattr(user, "username", None))
        audit.record("denied", user=user, target=(model._meta.table_name[:20], pk),
                     detail="记录不存在或不在管辖范围内")
        abort(404)
    return record


def visible_jobs(user):
    """后台任务: a user's own jobs; an admin's view: everyone's."""
    query = Job.select()
    return query if is_admin(user) else query.where(Job.user == user.id)


def get_job_or_404(pk, user) -> Job:
    """A job its user (or an admin) may see; another user's job is as missing as one that
    never was."""
    pk = to_id(pk)
    job = visible_jobs(user).where(Job.id == pk).first() if pk is not None else None
    if job is None:
        log.info("job not found or not the user's id=%s user=%s", pk, getattr(user, "username", None))
        abort(404)
    return job


def visible_org_units(user, active_only=True):
    """Org units the user may pick (their subtree), in tree order."""
    query = OrgUnit.select().order_by(OrgUnit.path)
    if not sees_district(user):
        query = query.where(OrgUnit.path.startswith(user.org_unit.path))
    if active_only:
        query = query.where(OrgUnit.active == True)  # noqa: E712
    return list(query)
