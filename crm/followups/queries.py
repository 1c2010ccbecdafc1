"""Reading follow-ups: my list by due date, the counts in the navigation, the team board, the
filtered list and its export. Dates are Beijing dates (local_today): a follow-up due today is
not overdue until midnight in Beijing."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from peewee import JOIN, SQL, Case, NodeList, fn

from crm.auth.models import User
from crm.common.numbers import arg_id, arg_page
from crm.common.timeutil import local_today
from crm.db import plain
from crm.enterprises.models import Enterprise
from crm.followups.models import DONE_SQL, OPEN, OPEN_SQL, PRIORITIES, STATUSES, FollowUp
from crm.followups.services import ASSIGNEE_ROLES
from crm.founding import stages
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids
from crm.permissions import scoped
from crm.visits.models import Visit

PRIORITY_ORDER = Case(FollowUp.priority, (("high", 0), ("medium", 1)), 2)
DUE_FILTERS = (("overdue", "已逾期"), ("today", "今天到期"), ("week", "本周到期"), ("later", "以后"))
STATUS_FILTERS = (("", "未完成"), ("done", "已完成"), ("cancelled", "已取消"), ("all", "全部"))


def _index_condition(condition: str):
    """A partial index's condition (models.OPEN_SQL, DONE_SQL: "status …") as a term of a query on
    FollowUp: SQLite reads a partial index only for a query that names its condition in the same
    words, the values written out (not as parameters)."""
    column, _, rest = condition.partition(" ")
    return NodeList((getattr(FollowUp, column), SQL(rest)))


def is_open():
    """The task is open (status in OPEN), so that the open-task indexes serve the query."""
    return _index_condition(OPEN_SQL)


def is_done():
    return _index_condition(DONE_SQL)


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


MY_ORDER = (FollowUp.due_on, PRIORITY_ORDER, FollowUp.id)
# A task's line in a list (followups/_macros.html task_item).
TASK_LINE = (FollowUp.id, FollowUp.title, FollowUp.priority, FollowUp.due_on, FollowUp.status, FollowUp.enterprise,
             FollowUp.assignee, FollowUp.org_unit)


def _with_refs(query):
    return (query.select_extend(Enterprise.id, Enterprise.name, Enterprise.stage, Enterprise.org_unit)
            .join_from(FollowUp, Enterprise, JOIN.LEFT_OUTER))


def _bucket_ranges(today: date) -> dict:
    end = week_end(today)
    return {"overdue": FollowUp.due_on < today, "today": FollowUp.due_on == today,
            "week": (FollowUp.due_on > today) & (FollowUp.due_on <= end), "later": FollowUp.due_on > end}


def _mine(user):
    # Scoped too: after a move to another unit, the old unit's tasks wait on its board for a
    # reassignment instead of showing here as links the user may not open.
    return scoped(FollowUp, user, query=FollowUp.select(FollowUp.id)).where(
        FollowUp.assignee == user.id, is_open())


def my_buckets(user, today: date | None = None, limit: int = 200, per_bucket: int | None = None) -> dict:
    """我的任务: the user's open follow-ups as {overdue, today, week, later}, each by due date and
    priority (overdue first on the page): the first `limit` of them, or (per_bucket) the first
    `per_bucket` of each group, one small query per group."""
    today = today or local_today()
    if per_bucket is not None:  # the home page: only what a task's line shows (templates: task_item)
        query = _with_refs(_mine(user).select(*TASK_LINE)).order_by(*MY_ORDER)
        return {key: list(query.where(cond).limit(per_bucket)) for key, cond in _bucket_ranges(today).items()}
    query = _with_refs(_mine(user).select(FollowUp)).order_by(*MY_ORDER)
    out = {key: [] for key, _ in DUE_FILTERS}
    for fu in query.limit(limit):
        out[bucket(fu, today)].append(fu)
    return out


def bucket_counts(user, today: date | None = None) -> dict:
    """{overdue, today, week, later}: how many of the user's open follow-ups are in each group
    (one query, from the index of the open tasks by person)."""
    today = today or local_today()
    ranges = _bucket_ranges(today)
    row = _mine(user).select(*(fn.SUM(Case(None, ((cond, 1),), 0)) for cond in ranges.values())).tuples().get()
    return {key: int(n or 0) for key, n in zip(ranges, row)}


def nav_counts(user, today: date | None = None) -> tuple[int, int]:
    """(open, overdue) follow-ups assigned to the user: one query read from the index of the open
    tasks by person (followup_open_assignee: the user's open tasks only, never the table)."""
    today = today or local_today()
    query = (FollowUp.select(fn.COUNT(FollowUp.id), fn.SUM(Case(None, ((FollowUp.due_on < today, 1),), 0)))
             .where(FollowUp.assignee == user.id, is_open()))
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
    open, due this week (today to Sunday), overdue, done this month; the most overdue first, then
    the most open, then by unit and name."""
    return board_page(actor, today, unit_ids)[0]


def board_page(actor, today: date | None = None, unit_ids=None, limit: int | None = None) -> tuple[list[BoardRow], int]:
    """(the first `limit` rows of the board, or all of them; how many people it has): every
    person's counts are read and sorted, only the rows returned are made into records."""
    today = today or local_today()
    end, start = week_end(today), month_start(today)
    # Two grouped queries, each read from its partial index alone (models.py): the open tasks by
    # person, the tasks done since the 1st by date. The history of done tasks is never read, so
    # the cost follows the open workload, not the years of records. `plain` keeps SQLite on those
    # indexes (not on the unit's or the person's whole history). The week's and the overdue
    # counts are aggregate filters (cheaper per task than a CASE inside a SUM).
    unit = plain(FollowUp.org_unit)
    every = SQL("*")
    open_counts = (FollowUp.select(
        FollowUp.assignee, fn.COUNT(every),
        fn.COUNT(every).filter((FollowUp.due_on >= today) & (FollowUp.due_on <= end)),
        fn.COUNT(every).filter(FollowUp.due_on < today))
        .where(is_open()).group_by(FollowUp.assignee))
    done_counts = (FollowUp.select(FollowUp.assignee, fn.COUNT(FollowUp.id))
                   .where(is_done(), FollowUp.completed_on >= start).group_by(plain(FollowUp.assignee)))
    by_user = {}
    for query, slot in ((open_counts, slice(0, 3)), (done_counts, slice(3, 4))):
        query = scoped(FollowUp, actor, org_field=unit, query=query)
        if unit_ids is not None:
            query = query.where(unit.in_(unit_ids))
        for assignee, *values in query.tuples():
            by_user.setdefault(assignee, [0, 0, 0, 0])[slot] = values
    # The active cadres of the scope, and whoever holds its tasks (someone since moved away or
    # deactivated included, so their tasks can be seen and reassigned).
    team = scoped(User, actor).where(User.active == True, User.role.in_(ASSIGNEE_ROLES))  # noqa: E712
    if unit_ids is not None:
        team = team.where(User.org_unit.in_(unit_ids))
    # Only what the board shows (a district's board lists hundreds of people), as plain values:
    # only the rows returned become records.
    people = (User.select(User.id, User.username, User.name, User.role, User.active, User.org_unit,
                          OrgUnit.name, OrgUnit.path).join(OrgUnit)
              .where(User.id.in_(team.select(User.id)) | User.id.in_(list(by_user) or [0]))
              .order_by(OrgUnit.path, User.name))
    rows = []
    for person in people.tuples():
        c = by_user.get(person[0], (0, 0, 0, 0))
        rows.append((person, *(int(v or 0) for v in c)))
    # (person, open, week, overdue, done_month); person[7] is the unit's path, person[2] the name
    rows.sort(key=lambda r: (-r[3], -r[1], r[0][7], r[0][2]))
    shown = rows if limit is None else rows[:limit]
    out = []
    for (uid, username, name, role, active, unit_id, unit_name, path), *counts in shown:
        person = User(id=uid, username=username, name=name, role=role, active=active,
                      org_unit=OrgUnit(id=unit_id, name=unit_name, path=path))
        out.append(BoardRow(person, *counts))
    return out, len(rows)


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
            setattr(out, name, arg_id(args, name))
        if "assignee" not in args and default_assignee is not None:
            out.assignee = default_assignee
        out.status = args.get("status", "") if args.get("status") in dict(STATUS_FILTERS) else ""
        out.due = args.get("due", "") if args.get("due") in dict(DUE_FILTERS) else ""
        out.priority = args.get("priority", "") if args.get("priority") in PRIORITIES else ""
        out.stage = args.get("stage", "") if args.get("stage") in stages.BY_KEY else ""
        out.q = (args.get("q") or "").strip()[:50]
        out.page = arg_page(args)
        return out


def listing(actor, args: ListArgs, today: date | None = None):
    """The follow-ups of the actor's scope matching the filters, soonest due first."""
    today = today or local_today()
    Assignee = User.alias("assignee")
    query = (_with_refs(FollowUp.select(FollowUp, Assignee.id, Assignee.name))
             .join_from(FollowUp, Assignee, on=(FollowUp.assignee == Assignee.id), attr="assignee"))
    # Each list is read in its order from an index that holds the unit (followup_open_due, and
    # (due_on | completed_at, org_unit) for the others): the scope is checked in the index, and a
    # page stops after a page of rows in scope instead of sorting all of a town's tasks.
    org_unit = plain(FollowUp.org_unit)
    query = scoped(FollowUp, actor, org_field=org_unit, query=query)
    if args.assignee:
        query = query.where(FollowUp.assignee == args.assignee)
    if args.org:
        unit = OrgUnit.get_or_none(OrgUnit.id == args.org)
        if unit is not None:
            query = query.where(org_unit.in_(subtree_ids(unit)))
    if args.status == "":
        query = query.where(is_open())  # the first page straight from followup_open_due
    elif args.status in ("done", "cancelled"):  # newest first, along (completed_at, org_unit)
        query = query.where(plain(FollowUp.status) == args.status)
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


def firms_to_visit(user, limit=10):
    """记录走访 from the home page, before any search: the firms of my open tasks (soonest due
    first), then the firms I visited last — active files in my scope, each once."""
    firms = (scoped(Enterprise, user)
             .select(Enterprise.id, Enterprise.name, Enterprise.stage, OrgUnit.name.alias("unit"))
             .join(OrgUnit, on=(Enterprise.org_unit == OrgUnit.id))
             .where(Enterprise.archived == False))  # noqa: E712
    task_ids = [r[0] for r in FollowUp.select(FollowUp.enterprise).where(
        FollowUp.assignee == user.id, FollowUp.status.in_(OPEN), FollowUp.enterprise.is_null(False))
        .order_by(FollowUp.due_on).limit(limit * 3).tuples()]
    recent_ids = [r[0] for r in Visit.select(Visit.enterprise).where(Visit.created_by == user.id)
                  .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(limit * 3).tuples()]
    tasks = list(dict.fromkeys(task_ids))[:limit]
    recent = [i for i in dict.fromkeys(recent_ids) if i not in tasks][:limit]
    found = {e.id: e for e in firms.where(Enterprise.id.in_(tasks + recent or [0])).objects()}
    return [found[i] for i in tasks if i in found], [found[i] for i in recent if i in found]
