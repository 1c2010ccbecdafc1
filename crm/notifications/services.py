"""通知: made from what other features report (crm.common.signals), inside their transactions, and
by the sweep (overdue tasks, the supervisors' weekly digest); read, marked read, switched off.

- followups_assigned: the new assignee is told (分派给我的跟进任务), the former one too when a task
  is reassigned away from them (我的任务转派给了别人) — never the person who made the change.
- visit_commented: the visit's recorder is told of a 点评 (not when they commented themselves).
- followups_overdue (crm.followups.overdue): the assignee, once per task and due date.
- the weekly digest: each 主管, once per ISO week, the open suggestions of their scope and the
  unions among them whose 换届 is due (crm.followups.suggestions), linking to the suggestions page.

Each notification has a key unique per user (models.Notification), written with "insert or
ignore": an event told twice, or two sweeps racing, make one notification. A kind the user
switched off, or a deactivated user, gets none.
"""
from dataclasses import dataclass
from datetime import date

from crm.auth.models import User
from crm.common import signals
from crm.common.text import clean
from crm.common.timeutil import local_today, utcnow
from crm.db import db
from crm.enterprises.models import Enterprise
from crm.followups import overdue, suggestions
from crm.jobs import registry
from crm.notifications.models import KINDS, Notification, NotificationOptOut
from crm.permissions import can_edit_records, leads_team, receives_tasks

SUGGESTIONS_LINK = "/followups/suggestions"
INSERT_ROWS = 200  # rows per INSERT


@dataclass
class Note:
    """One notification to make."""
    user_id: int
    kind: str
    key: str
    title: str
    text: str
    link: str


def task_link(fu_id: int) -> str:
    return f"/followups/{fu_id}"


def visit_link(visit_id: int) -> str:
    return f"/visits/{visit_id}#comments"


def kinds_for(user) -> list[str]:
    """The kinds a user's role can receive (what the settings page offers)."""
    kinds = []
    if receives_tasks(user):
        kinds += ["assigned", "reassigned", "overdue"]
    if can_edit_records(user):
        kinds.append("commented")
    if leads_team(user):
        kinds.append("digest")
    return [k for k in KINDS.keys() if k in kinds]


def deliver(notes: list[Note]) -> int:
    """Write the notifications (inside the caller's transaction) but those of a kind their user
    switched off or for a deactivated user; one already made (same user and key) stays as it
    was. Returns how many were offered."""
    if not notes:
        return 0
    users = list({n.user_id for n in notes})
    active = {i for (i,) in User.select(User.id).where(User.id.in_(users), User.active == True).tuples()}  # noqa: E712
    off = set(NotificationOptOut.select(NotificationOptOut.user, NotificationOptOut.kind)
              .where(NotificationOptOut.user.in_(users)).tuples())
    now = utcnow()
    rows = [{"user": n.user_id, "kind": n.kind, "key": n.key[:100], "title": _fit(n.title, 200),
             "text": _fit(n.text, 300), "link": n.link[:300], "created_at": now}
            for n in notes if n.user_id in active and (n.user_id, n.kind) not in off]
    for start in range(0, len(rows), INSERT_ROWS):
        Notification.insert_many(rows[start:start + INSERT_ROWS]).on_conflict_ignore().execute()
    return len(rows)


def _fit(text: str, size: int) -> str:
    text = clean(text)
    return text if len(text) <= size else text[:size - 1] + "…"


def _firm_names(followups) -> dict:
    ids = {fu.enterprise_id for fu in followups if fu.enterprise_id}
    if not ids:
        return {}
    return dict(Enterprise.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(list(ids))).tuples())


def _user_names(ids) -> dict:
    ids = [i for i in set(ids) if i]
    return dict(User.select(User.id, User.name).where(User.id.in_(ids)).tuples()) if ids else {}


# ---- what other features report ----------------------------------------------------------

@signals.followups_assigned.connect
def followups_assigned(_sender, followups=(), previous=None, user=None, **_) -> int:
    previous = previous or {}
    actor_id = getattr(user, "id", None)
    actor = getattr(user, "name", "") or "系统"
    firms = _firm_names(followups)
    names = _user_names(fu.assignee_id for fu in followups)
    notes = []
    for fu in followups:
        where = f"{firms[fu.enterprise_id]} · " if fu.enterprise_id in firms else ""
        if fu.assignee_id != actor_id:
            notes.append(Note(fu.assignee_id, "assigned", f"assigned:{fu.id}:{fu.version}",
                              f"新的跟进任务：{fu.title}",
                              f"{where}{actor}分派给您，{fu.due_on.isoformat()} 到期", task_link(fu.id)))
        former = previous.get(fu.id)
        if former and former != fu.assignee_id and former != actor_id:
            notes.append(Note(former, "reassigned", f"reassigned:{fu.id}:{fu.version}",
                              f"任务已转派：{fu.title}",
                              f"{where}{actor}转派给了{names.get(fu.assignee_id, '他人')}", task_link(fu.id)))
    return deliver(notes)


@signals.visit_commented.connect
def visit_commented(_sender, visit=None, comment=None, user=None, **_) -> int:
    owner = visit.created_by_id
    if owner is None or owner == getattr(user, "id", None):
        return 0
    firm = (Enterprise.select(Enterprise.name).where(Enterprise.id == visit.enterprise_id).scalar()) or ""
    who = getattr(user, "name", "") or "主管"
    return deliver([Note(owner, "commented", f"comment:{comment.id}", f"{who}点评了您的走访",
                         f"{firm} {visit.visited_on.isoformat()}：{comment.text}", visit_link(visit.id))])


@signals.followups_overdue.connect
def followups_overdue(_sender, followups=(), **_) -> int:
    firms = _firm_names(followups)
    notes = []
    for fu in followups:
        where = f"{firms[fu.enterprise_id]} · " if fu.enterprise_id in firms else ""
        notes.append(Note(fu.assignee_id, "overdue", f"overdue:{fu.id}:{fu.due_on.isoformat()}",
                          f"任务已逾期：{fu.title}", f"{where}到期日 {fu.due_on.isoformat()}", task_link(fu.id)))
    return deliver(notes)


# ---- the sweep ---------------------------------------------------------------------------

def week_key(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"digest:{year}-W{week:02d}"


def digest_note(user, counts: dict, today: date) -> Note | None:
    """The week's digest for a supervisor from suggestions.counts (each rule counted up to the
    cap: past it the total reads "N+"); None when nothing is suggested."""
    cap = suggestions.COUNT_CAP
    total = sum(min(n, cap) for n in counts.values())
    if not total:
        return None
    shown = f"{total}+" if any(n > cap for n in counts.values()) else str(total)
    term = suggestions.count_label(counts.get("term", 0))
    return Note(user.id, "digest", week_key(today), f"本周待跟进建议 {shown} 条",
                f"其中换届到期（或即将到期）的工会 {term} 家。打开“待跟进建议”分派给团队。", SUGGESTIONS_LINK)


def send_digests(today: date | None = None) -> int:
    """This ISO week's digest for every active 主管 who has none yet and has not switched it off."""
    today = today or local_today()
    key = week_key(today)
    people = list(User.select().where(User.role == "supervisor", User.active == True))  # noqa: E712
    if not people:
        return 0
    ids = [u.id for u in people]
    done = {i for (i,) in Notification.select(Notification.user)
            .where(Notification.user.in_(ids), Notification.key == key).tuples()}
    done |= {i for (i,) in NotificationOptOut.select(NotificationOptOut.user)
             .where(NotificationOptOut.user.in_(ids), NotificationOptOut.kind == "digest").tuples()}
    made = 0
    for person in people:
        if person.id in done:
            continue
        note = digest_note(person, suggestions.counts(person, today), today)
        if note is not None:
            with db.atomic():
                made += deliver([note])
    return made


def sweep(today: date | None = None) -> dict:
    """The periodic work: overdue tasks (crm.followups.overdue) and the weekly digests. Safe to run
    at any time and any number of times, from several processes at once: nothing is made twice.
    Returns {"overdue": tasks reported, "digests": digests made}."""
    today = today or local_today()
    return {"overdue": overdue.sweep(today), "digests": send_digests(today)}


# `crm worker` runs it every ten minutes (and `crm notifications sweep` from a timer).
SWEEP = registry.periodic("notifications_sweep", "逾期提醒与每周建议汇总", sweep, minute="*/10")


# ---- reading and settings ----------------------------------------------------------------

def mark_read(note: Notification) -> None:
    """Mark one of the user's notifications read (already read: left as it was)."""
    with db.atomic():
        (Notification.update(read_at=utcnow())
         .where(Notification.id == note.id, Notification.read_at.is_null()).execute())


def mark_all_read(user) -> int:
    with db.atomic():
        return (Notification.update(read_at=utcnow())
                .where(Notification.user == user.id, Notification.read_at.is_null()).execute())


def save_settings(user, wanted: set[str]) -> None:
    """Switch on the kinds in `wanted` and off the others the user's role can receive."""
    offered = kinds_for(user)
    with db.atomic():
        (NotificationOptOut.delete()
         .where(NotificationOptOut.user == user.id, NotificationOptOut.kind.in_(offered)).execute())
        off = [{"user": user.id, "kind": k} for k in offered if k not in wanted]
        if off:
            NotificationOptOut.insert_many(off).on_conflict_ignore().execute()
