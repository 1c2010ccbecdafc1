"""跟进任务: creating (one, or many in one transaction), reassigning, working and closing follow-ups.

Who may assign to whom is decided here, for every path (the file, a need, a visit's next step,
the enterprise list, the suggestions, the board):
- staff create follow-ups for themselves only;
- supervisors and admins assign to an active 走访干部 or 主管 of their own subtree;
- the enterprise (or, without one, the task's unit) must lie in the assignee's scope too, so the
  assignee can open the file and log the visit.
Every change is kept in RecordChange (kind "followup"): creation, reassignment, due date,
priority, status, completion.
"""
from dataclasses import dataclass
from datetime import date

from crm.auth.models import User
from crm.common import signals
from crm.common.errors import Conflict, ServiceError
from crm.common.text import clean
from crm.common.timeutil import local_today, utcnow
from crm.db import db
from crm.enterprises.models import Enterprise
from crm.fieldwork.models import RecordChange
from crm.fieldwork.services import history as record_history
from crm.followups.models import OPEN, PRIORITIES, STATUSES, FollowUp
from crm.org.models import OrgUnit
from crm.permissions import (TASK_ROLES, can_edit_records, can_supervise, in_scope, own_tasks_only,
                             receives_tasks, scope_org_ids)
from crm.sync import services as submissions

KIND = "followup"
ASSIGNEE_ROLES = TASK_ROLES


@dataclass
class Task:
    """What one new follow-up is about; the assignee, due date and priority are shared."""
    title: str
    enterprise: Enterprise | None = None
    detail: str = ""
    source: str = "manual"
    source_visit_id: int | None = None
    source_need_id: int | None = None
    rule: str = ""
    org_unit_id: int | None = None  # when there is no enterprise (e.g. a meeting's need)


# ---- who may do what ---------------------------------------------------------------------

def assignable_users(actor, enterprise: Enterprise | None = None):
    """The people `actor` may give a follow-up to (for `enterprise`, those who can see it)."""
    if own_tasks_only(actor):
        users = [actor]
    elif can_supervise(actor):
        # What the pickers show (the unit beside each name) and the checks read: a district's
        # list has some 300 people.
        query = (User.select(User.id, User.username, User.name, User.role, User.active, User.org_unit,
                             OrgUnit.id, OrgUnit.name, OrgUnit.path, OrgUnit.depth).join(OrgUnit)
                 .where(User.active == True, User.role.in_(ASSIGNEE_ROLES))  # noqa: E712
                 .order_by(User.name))
        ids = scope_org_ids(actor)
        users = list(query if ids is None else query.where(User.org_unit.in_(ids)))
    else:
        return []
    if enterprise is not None:
        users = [u for u in users if in_scope(u, enterprise.org_unit)]
    return users


def can_work(user, fu: FollowUp) -> bool:
    """Start, complete or close it: the assignee, or a supervisor or admin who can see it."""
    return can_edit_records(user) and (fu.assignee_id == user.id or can_supervise(user))


def can_cancel(user, fu: FollowUp) -> bool:
    """Cancel: supervisors and admins; staff only the tasks they gave themselves (a task from a
    supervisor is completed with a note, or handed back by asking for a reassignment)."""
    return can_work(user, fu) and (can_supervise(user) or fu.assigned_by_id == user.id)


def can_manage(user, fu: FollowUp) -> bool:
    """Change title, due date, priority or assignee, reopen: supervisors and admins, and staff
    on the follow-ups they gave themselves."""
    if can_supervise(user):
        return True
    return own_tasks_only(user) and fu.assigned_by_id == user.id == fu.assignee_id


def check_assignee(actor, assignee: User | None, units):
    """Refuse an assignment `actor` may not make. `units` are the org units of the tasks."""
    if not can_edit_records(actor):
        raise ServiceError("您没有分派跟进任务的权限", "assignee")
    if assignee is None:
        raise ServiceError("请选择负责人", "assignee")
    if own_tasks_only(actor) and assignee.id != actor.id:
        raise ServiceError("走访干部只能给自己创建跟进任务，分派给他人请联系主管", "assignee")
    if not receives_tasks(assignee):
        raise ServiceError(f"{assignee.name}不是在岗的走访干部或主管，不能接收任务", "assignee")
    if not in_scope(actor, assignee.org_unit):
        raise ServiceError(f"{assignee.name}不在本单位及下属单位，不能分派", "assignee")
    for unit, name in units:
        if not in_scope(actor, unit):
            raise ServiceError(f"“{name}”不在您的管辖范围内", "assignee")
        if not in_scope(assignee, unit):
            raise ServiceError(f"“{name}”不在{assignee.name}的工作范围（{assignee.org_unit.name}）内，"
                               "请分派给该单位的人员", "assignee")


def _check_common(due_on, priority, today):
    if due_on is None:
        raise ServiceError("请填写到期日", "due_on")
    if due_on < today:
        raise ServiceError("到期日不能早于今天", "due_on")
    if priority not in PRIORITIES:
        raise ServiceError("请选择优先级", "priority")


def _unit_of(task: Task, assignee: User):
    if task.enterprise is not None:
        return task.enterprise.org_unit, task.enterprise.name
    unit = OrgUnit.get_by_id(task.org_unit_id) if task.org_unit_id else assignee.org_unit
    return unit, task.title


def _unit_for(fu: FollowUp, assignee: User):
    """(unit, name) a follow-up belongs to once given to `assignee`: its firm's unit, or for a
    task without a firm the assignee's own unit (it moves with the person)."""
    if fu.enterprise_id:
        return fu.org_unit, fu.enterprise.name
    return assignee.org_unit, fu.title


# ---- creating ----------------------------------------------------------------------------

def create_many(actor, tasks: list[Task], assignee: User | None, due_on: date | None, priority: str,
                form_key: str, today: date | None = None) -> tuple[list[FollowUp], bool]:
    """Create one follow-up per task, all or none, in one transaction. Returns (follow-ups,
    created); a form key saved with the same content returns that batch's follow-ups with
    created=False, one saved with other content raises KeyReused (crm.sync)."""
    today = today or local_today()
    sent = submissions.as_sent(form_key, {
        "tasks": [[t.title, t.detail, t.enterprise.id if t.enterprise else "", t.source, t.rule,
                   t.source_visit_id or "", t.source_need_id or ""] for t in tasks],
        "assignee": assignee.id if assignee else "", "due_on": due_on, "priority": priority})
    if submissions.prior(sent, actor) is not None:
        return _batch(sent.key), False
    if not tasks:
        raise ServiceError("请至少选择一家企业或一条建议", "items")
    if any(not clean(t.title) for t in tasks):
        raise ServiceError("请填写任务内容", "title")
    if any(t.enterprise is not None and t.enterprise.archived for t in tasks):
        raise ServiceError("归档的档案不能分派任务", "items")
    _check_common(due_on, priority, today)
    units = [_unit_of(t, assignee) for t in tasks] if assignee is not None else []
    check_assignee(actor, assignee, units)
    keys = [sent.key] if len(tasks) == 1 else [f"{sent.key}.{i}" for i in range(len(tasks))]

    def build():
        now = utcnow()
        rows = []
        for key, task, (unit, _) in zip(keys, tasks, units):
            fu = FollowUp.create(
                form_key=key, title=clean(task.title)[:200], detail=(task.detail or "").strip()[:4000],
                org_unit=unit.id, enterprise=task.enterprise.id if task.enterprise else None,
                source=task.source, source_visit=task.source_visit_id, source_need=task.source_need_id,
                rule=task.rule, assignee=assignee.id, assigned_by=actor.id, due_on=due_on,
                priority=priority, created_by=actor.id, updated_by=actor.id, created_at=now,
                updated_at=now)
            _record(fu.id, actor, 1, "分派", "", f"{assignee.name}，{due_on.isoformat()} 到期",)
            rows.append(fu)
        signals.followups_assigned.send(KIND, followups=rows, previous={}, user=actor)
        return rows

    return submissions.once(KIND, sent, actor, build, lambda found: _batch(sent.key))


def _batch(form_key):
    return list(FollowUp.select().where((FollowUp.form_key == form_key)
                                        | FollowUp.form_key.startswith(form_key + "."))
                .order_by(FollowUp.id))


def create(actor, task: Task, assignee, due_on, priority, form_key, today=None):
    rows, created = create_many(actor, [task], assignee, due_on, priority, form_key, today)
    return rows[0], created


def from_visit(actor, visit, today: date | None = None) -> tuple[FollowUp, bool]:
    """下一步 → 跟进任务 in one tap: the visit's next step, due on its date (or in a week), for the
    person who tapped (staff) or the visit's recorder when they may take it (supervisors)."""
    from datetime import timedelta
    today = today or local_today()
    existing = (FollowUp.select().where(FollowUp.source_visit == visit.id, FollowUp.status.in_(OPEN))
                .first())
    if existing is not None:
        return existing, False
    if not visit.next_step:
        raise ServiceError("这次走访没有填写下一步", None)
    if visit.archived:
        raise ServiceError("这条记录已归档", None)
    ent = visit.enterprise
    assignee = actor
    if not own_tasks_only(actor):
        recorder = visit.created_by
        if recorder is not None and recorder.id in {u.id for u in assignable_users(actor, ent)}:
            assignee = recorder
    due = visit.next_step_on if visit.next_step_on and visit.next_step_on >= today else today + timedelta(days=7)
    task = Task(title=visit.next_step, enterprise=ent, source="visit", source_visit_id=visit.id,
                detail=f"来自 {visit.visited_on.isoformat()} 的走访记录")
    # One task per (visit version, person): the key's content is that, not the day it is tapped.
    key = f"visit-next-step-{visit.id}-{visit.version}-{actor.id}"
    sent = submissions.Sent(key, submissions.fingerprint_data({"visit": visit.id, "version": visit.version,
                                                                "actor": actor.id}))
    rows, created = create_many(actor, [task], assignee, due, "medium", sent, today)
    return rows[0], created


# ---- changing ----------------------------------------------------------------------------

def _record(fu_id, user, version, field, old, new):
    RecordChange.create(kind=KIND, record_id=fu_id, user=user, version=version, field=field,
                        old_value=old, new_value=new)


def _bump(fu: FollowUp, expected_version: int, user, **values) -> int:
    """Write `values` if the follow-up is still at `expected_version`; returns the new version."""
    version = expected_version + 1
    updated = (FollowUp.update(**values, version=version, updated_at=utcnow(), updated_by=user.id)
               .where(FollowUp.id == fu.id, FollowUp.version == expected_version).execute())
    if updated != 1:
        raise Conflict("这条任务刚被他人修改，请刷新页面后再操作", None)
    return version


def update(actor, fu: FollowUp, data: dict, expected_version: int, today: date | None = None) -> FollowUp:
    """Change title, detail, due date, priority and assignee (a reassignment, with its note)."""
    today = today or local_today()
    if not can_manage(actor, fu):
        raise ServiceError("只有主管可以修改或转派这条任务", None)
    if not fu.is_open:
        raise ServiceError("任务已关闭，如需继续请先重新打开", None)
    title = clean(data.get("title"))[:200]
    if not title:
        raise ServiceError("请填写任务内容", "title")
    due_on, priority = data.get("due_on"), data.get("priority")
    if due_on is None:
        raise ServiceError("请填写到期日", "due_on")
    if due_on != fu.due_on and due_on < today:
        raise ServiceError("到期日不能早于今天", "due_on")
    if priority not in PRIORITIES:
        raise ServiceError("请选择优先级", "priority")
    assignee = data.get("assignee") or fu.assignee
    unit_id = fu.org_unit_id
    if assignee.id != fu.assignee_id:
        check_assignee(actor, assignee, [_unit_for(fu, assignee)])
        unit_id = _unit_for(fu, assignee)[0].id
    detail = (data.get("detail") or "").strip()[:4000]
    changes = []
    if title != fu.title:
        changes.append(("任务内容", fu.title, title))
    if detail != fu.detail:
        changes.append(("说明", fu.detail, detail))
    if due_on != fu.due_on:
        changes.append(("到期日", fu.due_on.isoformat(), due_on.isoformat()))
    if priority != fu.priority:
        changes.append(("优先级", PRIORITIES.label(fu.priority), PRIORITIES.label(priority)))
    if assignee.id != fu.assignee_id:
        note = clean(data.get("note"))
        changes.append(("负责人", fu.assignee.name, assignee.name + (f"（{note}）" if note else "")))
    if not changes:
        return fu
    with db.atomic():
        version = _bump(fu, expected_version, actor, title=title, detail=detail, due_on=due_on,
                        priority=priority, assignee=assignee.id, org_unit=unit_id,
                        assigned_by=actor.id if assignee.id != fu.assignee_id else fu.assigned_by_id)
        for field, old, new in changes:
            _record(fu.id, actor, version, field, old, new)
        if assignee.id != fu.assignee_id:
            signals.followups_assigned.send(KIND, followups=[FollowUp.get_by_id(fu.id)],
                                            previous={fu.id: fu.assignee_id}, user=actor)
    return FollowUp.get_by_id(fu.id)


def reassign_many(actor, ids, assignee: User | None, note: str = "") -> int:
    """Give several open follow-ups (already scoped by the caller) to `assignee` at once."""
    if not can_supervise(actor):
        raise ServiceError("只有主管可以转派任务", "assignee")
    rows = list(FollowUp.select().where(FollowUp.id.in_(list(ids)), FollowUp.status.in_(OPEN)))
    if not rows:
        raise ServiceError("请选择要转派的未完成任务", "ids")
    moving = [fu for fu in rows if assignee is None or fu.assignee_id != assignee.id]
    check_assignee(actor, assignee, [_unit_for(fu, assignee) for fu in moving])
    note = clean(note)
    with db.atomic():
        for fu in moving:
            version = _bump(fu, fu.version, actor, assignee=assignee.id, assigned_by=actor.id,
                            org_unit=_unit_for(fu, assignee)[0].id)
            _record(fu.id, actor, version, "负责人", fu.assignee.name,
                    assignee.name + (f"（{note}）" if note else ""))
        if moving:
            signals.followups_assigned.send(
                KIND, followups=list(FollowUp.select().where(FollowUp.id.in_([fu.id for fu in moving]))),
                previous={fu.id: fu.assignee_id for fu in moving}, user=actor)
    return len(moving)


def set_status(actor, fu: FollowUp, action: str, note: str = "", expected_version: int | None = None,
               visit=None) -> FollowUp:
    """start (→ 进行中), complete (→ 已完成, a note or a visit), cancel (→ 已取消, a reason),
    reopen (→ 待办, supervisors)."""
    note = (note or "").strip()[:2000]
    expected = fu.version if expected_version is None else expected_version
    if action == "reopen":
        if fu.is_open:
            return fu
        if not can_manage(actor, fu):
            raise ServiceError("只有主管可以重新打开任务", None)
        if fu.enterprise_id and fu.enterprise.archived:
            raise ServiceError("该企业档案已归档，不能重新打开任务", None)
        if not fu.assignee.active or not in_scope(fu.assignee, fu.org_unit):
            raise ServiceError(f"{fu.assignee.name}已停用或已调离，请新建任务分派给其他人", None)
        values = {"status": "open", "completion_note": "", "completed_visit": None, "completed_at": None,
                  "completed_on": None, "completed_by": None}
        field_note = note
    else:
        if not can_work(actor, fu):
            raise ServiceError("这条任务不是分派给您的", None)
        if (action, fu.status) in (("complete", "done"), ("cancel", "cancelled")):
            return fu  # a double tap: it is already so
        if not fu.is_open:
            raise ServiceError(f"这条任务{fu.status_label}", None)
        if action == "cancel" and not can_cancel(actor, fu):
            raise ServiceError("主管分派的任务不能由走访干部取消；办不了的请写明情况后完成，或请主管转派", "note")
        if action == "start":
            if fu.status == "in_progress":
                return fu
            values, field_note = {"status": "in_progress"}, note
        elif action in ("complete", "cancel"):
            if not note and visit is None:
                raise ServiceError("请填写完成情况" if action == "complete" else "请填写取消原因", "note")
            values = {"status": "done" if action == "complete" else "cancelled", "completion_note": note,
                      "completed_visit": visit.id if visit is not None else None, "completed_at": utcnow(),
                      "completed_on": local_today(), "completed_by": actor.id}
            field_note = note
        else:
            raise ServiceError("未知的操作", None)
    with db.atomic():
        version = _bump(fu, expected, actor, **values)
        new = STATUSES.label(values["status"]) + (f"：{field_note}" if field_note else "")
        _record(fu.id, actor, version, "状态", fu.status_label, new)
        if visit is not None:
            _record(fu.id, actor, version, "完成走访", "", f"{visit.visited_on.isoformat()} 走访记录 #{visit.id}")
    return FollowUp.get_by_id(fu.id)


@signals.visit_logged.connect
def _visit_logged(_sender, visit=None, followup_id=None, user=None, **_):
    complete_with_visit(followup_id, visit, user)


def complete_with_visit(fu_id: int, visit, user) -> FollowUp | None:
    """Called inside the transaction that saves the visit logged from a follow-up: the
    follow-up is completed with the visit linked (unless it was closed meanwhile)."""
    fu = FollowUp.get_or_none(FollowUp.id == fu_id)
    if fu is None or not fu.is_open or fu.enterprise_id != visit.enterprise_id or not can_work(user, fu):
        return None
    note = f"已走访（{visit.visited_on.isoformat()}）"
    try:
        with db.atomic():  # a savepoint: a task changed meanwhile never costs the visit
            return set_status(user, fu, "complete", note=note, visit=visit)
    except ServiceError:
        return None


def _of_firms(ent_id, ent_ids):
    return FollowUp.enterprise == ent_id if ent_id is not None else FollowUp.enterprise.in_(list(ent_ids))


@signals.firm_moved.connect
def firm_moved(_sender, unit_id: int, ent_id: int | None = None, ent_ids=(), **_) -> int:
    """A file moved to another unit takes its follow-ups along (they are scoped by its unit);
    `ent_ids`: several files moved to that unit at once."""
    return FollowUp.update(org_unit=unit_id).where(_of_firms(ent_id, ent_ids)).execute()


@signals.firm_archived.connect
def cancel_for_archived_file(_sender, user, reason: str, ent_id: int | None = None, ent_ids=(), **_) -> int:
    """Archiving a file (or several, `ent_ids`) cancels its open follow-ups (each with the reason
    in its history). Runs inside the archiving transaction; restoring the file does not reopen them."""
    return _close_all(_of_firms(ent_id, ent_ids), user, "cancelled", f"档案已归档：{reason}")


@signals.need_resolved.connect
def complete_for_resolved_need(_sender, need_id: int, user, resolution: str, **_) -> int:
    """Resolving a need completes the open follow-ups made for it (in the same transaction)."""
    return _close_all(FollowUp.source_need == need_id, user, "done", f"需求已解决：{resolution}")


def _close_all(condition, user, status, note) -> int:
    """Close every open follow-up matching `condition` as `status`, each change in its history."""
    rows = list(FollowUp.select().where(condition, FollowUp.status.in_(OPEN)))
    for fu in rows:
        version = _bump(fu, fu.version, user, status=status, completion_note=note, completed_at=utcnow(),
                        completed_on=local_today(), completed_by=user.id)
        _record(fu.id, user, version, "状态", fu.status_label, f"{STATUSES.label(status)}：{note}")
    return len(rows)


def history(fu_id: int):
    return record_history(KIND, fu_id)
