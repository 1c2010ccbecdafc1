"""Reading follow-ups: my list by due date, the counts in the navigation, the team board, the
filtered list and its export. Dates are Beijing dates (local_today): a follow-up due today is
not overdue until midnight in Beijing."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from peewee import JOIN, Case, fn

from crm.auth.models import User
from crm.common.timeutil import local_today
from crm.enterprises.models import Enterprise
from crm.followups.models import OPEN, PRIORITIES, STATUSES, FollowUp
from crm.founding import stages
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids
from crm.permissions import scoped

PRIORITY_ORDER = Case(FollowUp.priority, (("high", 0), ("medium", 1)), 2)
DUE_FILTERS = (("overdue", "已逾期"), ("today", "今天到期"), ("week", "本周到期"), ("later", "以后"))
STATUS_FILTERS = (("", "未完成"), ("done", "已完成"), ("cancelled", "已取消"), ("all", "全部"))


def week_end(today: date) -> date:
    """The Sunday of today's week (weeks run Monday–Sunday)."""
    return today + timedelta(days=6 - today.weekday())


def month_start(today: date) -> date:
    return today.replace(day=1)


def bucket(fu: FollowUp, today: date) -> str:
    if fu.due_on < today:
        return "overdue"
    if fu.due_on == today:
        return "today"
    if fu.due_on <= week_end(today):
        return "week"
    return "later"


def _with_refs(query):
    return (query.select_extend(Enterprise.id, Enterprise.name, Enterprise.stage, Enterprise.org_unit)
            .join_from(FollowUp, Enterprise, JOIN.LEFT_OUTER))


def my_buckets(user, today: date | None = None, limit: int = 200) -> dict:
    """我的任务: the user's open follow-ups as {overdue, today, week, later}, each by due date and
    priority (overdue first on the page)."""
    today = today or local_today()
    # Scoped too: after a move to another unit, the old unit's tasks wait on its board for a
    # reassignment instead of showing here as links the user may not open.
    query = scoped(FollowUp, user, query=_with_refs(FollowUp.select(FollowUp))).where(
        FollowUp.assignee == user.id, FollowUp.status.in_(OPEN)).order_by(
        FollowUp.due_on, PRIORITY_ORDER, FollowUp.id).limit(limit)
    out = {key: [] for key, _ in DUE_FILTERS}
    for fu in query:
        out[bucket(fu, today)].append(fu)
    return out


def nav_counts(user, today: date | None = None) -> tuple[int, int]:
    """(open, overdue) follow-ups assigned to the user: one query on the (assignee, status,
    due_on) index."""
    today = today or local_today()
    query = (FollowUp.select(fn.COUNT(FollowUp.id), fn.SUM(Case(None, ((FollowUp.due_on < today, 1),), 0)))
             .where(FollowUp.assignee == user.id, FollowUp.status.in_(OPEN)))
    row = scoped(FollowUp, user, query=query).tuples().first()
    return (row[0] or 0, int(row[1] or 0)) if row else (0, 0)


@dataclass
class BoardRow:
    user: User
    open: int = 0
    week: int = 0
    overdue: int = 0
    done_month: int = 0


def board(actor, today: date | None = None, unit_ids=None) -> list[BoardRow]:
    """团队任务: per active 走访干部/主管 of the scope (and anyone else holding open tasks there):
    open, due this week (today to Sunday), overdue, done this month."""
    from crm.followups.services import ASSIGNEE_ROLES
    today = today or local_today()
    end, start = week_end(today), month_start(today)
    is_open = FollowUp.status.in_(OPEN)
    counts = (FollowUp.select(
        FollowUp.assignee,
        fn.SUM(Case(None, ((is_open, 1),), 0)),
        fn.SUM(Case(None, (((is_open) & (FollowUp.due_on >= today) & (FollowUp.due_on <= end), 1),), 0)),
        fn.SUM(Case(None, (((is_open) & (FollowUp.due_on < today), 1),), 0)),
        fn.SUM(Case(None, (((FollowUp.status == "done") & (FollowUp.completed_on >= start), 1),), 0)))
        .where(is_open | (FollowUp.completed_on >= start)).group_by(FollowUp.assignee))
    counts = scoped(FollowUp, actor, query=counts)
    if unit_ids is not None:
        counts = counts.where(FollowUp.org_unit.in_(unit_ids))
    by_user = {row[0]: row[1:] for row in counts.tuples()}
    # The active cadres of the scope, and whoever holds its tasks (someone since moved away or
    # deactivated included, so their tasks can be seen and reassigned).
    team = scoped(User, actor).where(User.active == True, User.role.in_(ASSIGNEE_ROLES))  # noqa: E712
    if unit_ids is not None:
        team = team.where(User.org_unit.in_(unit_ids))
    people = (User.select(User, OrgUnit).join(OrgUnit)
              .where(User.id.in_(team.select(User.id)) | User.id.in_(list(by_user) or [0])))
    rows = []
    for person in people.order_by(OrgUnit.path, User.name):
        c = by_user.get(person.id, (0, 0, 0, 0))
        rows.append(BoardRow(person, *(int(v or 0) for v in c)))
    rows.sort(key=lambda r: (-r.overdue, -r.open, r.user.org_unit.path, r.user.name))
    return rows


@dataclass
class ListArgs:
    """Filters of the follow-up list, read from the URL."""
    assignee: int | None = None
    org: int | None = None
    status: str = ""      # "" open, done, cancelled, all
    due: str = ""         # overdue, today, week, later
    priority: str = ""
    stage: str = ""
    q: str = ""           # enterprise name
    page: int = 1
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_request(cls, args, default_assignee=None):
        out = cls()
        for name in ("assignee", "org"):
            try:
                setattr(out, name, int(args[name]) if args.get(name) else None)
            except ValueError:
                pass
        if "assignee" not in args and default_assignee is not None:
            out.assignee = default_assignee
        out.status = args.get("status", "") if args.get("status") in dict(STATUS_FILTERS) else ""
        out.due = args.get("due", "") if args.get("due") in dict(DUE_FILTERS) else ""
        out.priority = args.get("priority", "") if args.get("priority") in PRIORITIES else ""
        out.stage = args.get("stage", "") if args.get("stage") in stages.BY_KEY else ""
        out.q = (args.get("q") or "").strip()[:50]
        try:
            out.page = max(1, min(int(args.get("page", 1)), 100_000))
        except ValueError:
            out.page = 1
        return out


def listing(actor, args: ListArgs, today: date | None = None):
    """The follow-ups of the actor's scope matching the filters, soonest due first."""
    today = today or local_today()
    Assignee = User.alias("assignee")
    query = (_with_refs(FollowUp.select(FollowUp, Assignee.id, Assignee.name))
             .join_from(FollowUp, Assignee, on=(FollowUp.assignee == Assignee.id), attr="assignee"))
    query = scoped(FollowUp, actor, query=query)
    if args.assignee:
        query = query.where(FollowUp.assignee == args.assignee)
    if args.org:
        unit = OrgUnit.get_or_none(OrgUnit.id == args.org)
        if unit is not None:
            query = query.where(FollowUp.org_unit.in_(subtree_ids(unit)))
    if args.status == "":
        query = query.where(FollowUp.status.in_(OPEN))
    elif args.status in ("done", "cancelled"):
        query = query.where(FollowUp.status == args.status)
    if args.due == "overdue":
        query = query.where(FollowUp.due_on < today)
    elif args.due == "today":
        query = query.where(FollowUp.due_on == today)
    elif args.due == "week":
        query = query.where(FollowUp.due_on >= today, FollowUp.due_on <= week_end(today))
    elif args.due == "later":
        query = query.where(FollowUp.due_on > week_end(today))
    if args.priority:
        query = query.where(FollowUp.priority == args.priority)
    if args.stage:
        query = query.where(Enterprise.stage == args.stage)
    if args.q:  # peewee escapes LIKE wildcards in contains()
        query = query.where(Enterprise.name.contains(args.q) | FollowUp.title.contains(args.q))
    if args.status in ("done", "cancelled"):
        return query.order_by(FollowUp.completed_at.desc(), FollowUp.id.desc())
    return query.order_by(FollowUp.due_on, PRIORITY_ORDER, FollowUp.id)


def of_enterprise(ent_id: int):
    """Open follow-ups of one file (its page lists them)."""
    return list(FollowUp.select(FollowUp, User).join(User, on=(FollowUp.assignee == User.id))
                .where(FollowUp.enterprise == ent_id, FollowUp.status.in_(OPEN))
                .order_by(FollowUp.due_on))


def of_visit(visit_id: int):
    """(completed by this visit, made from its next step)."""
    done = list(FollowUp.select().where(FollowUp.completed_visit == visit_id).order_by(FollowUp.id))
    made = list(FollowUp.select().where(FollowUp.source_visit == visit_id).order_by(FollowUp.id))
    return done, made


def of_need(need_id: int):
    return list(FollowUp.select().where(FollowUp.source_need == need_id).order_by(FollowUp.id.desc()))


def status_label(key):
    return STATUSES.label(key)
