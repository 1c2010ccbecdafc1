"""Reads of enterprise files. Every query starts from permissions.scoped()."""
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from peewee import JOIN, SQL, Case, NodeList, Ordering, fn

from crm.auth.models import User
from crm.common.choices import Choices
from crm.common.numbers import arg_id, arg_page
from crm.common.timeutil import local_today, quarter_start
from crm.db import db, is_sqlite
from crm.enterprises import search
from crm.enterprises.choices import AREA_SEEDS, CATEGORIES, INDUSTRIES, STATUSES
from crm.enterprises.models import Contact, Enterprise, EnterpriseChange, employees_key
from crm.founding import stages
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids
from crm.permissions import scope_org_ids, scoped

SORTS = {
    "updated": ("最近更新", lambda: [Enterprise.updated_at.desc(), Enterprise.id.desc()]),
    "name": ("企业名称", lambda: [Enterprise.name, Enterprise.id]),
    # Blanks last; equal head counts: the newer file first (the index read backwards).
    "employees": ("职工人数（多→少）", lambda: [employees_key().desc(), Enterprise.id.desc()]),
    "created": ("建档时间（新→旧）", lambda: [Enterprise.id.desc()]),
}


# 联系情况: a visit or a meeting (Enterprise.last_contact_on, kept by crm.fieldwork.contact).
CONTACT_FILTERS = Choices(("never", "从未联系"), ("30", "超过30天未联系"), ("90", "超过90天未联系"),
                          ("365", "超过一年未联系"), ("year", "今年尚未联系"))


@dataclass
class ListArgs:
    """The list's filters, read from and written back to the URL (so a list can be bookmarked)."""
    q: str = ""
    org: int | None = None
    union_status: str = ""
    stage: str = ""
    is_key: str = ""
    industry: str = ""
    category: str = ""
    status: str = ""
    archived: str = ""  # "" active files, "1" archived only, "all"
    contact: str = ""  # a CONTACT_FILTERS key
    size: str = ""  # "25": firms with 25 or more workers (the dashboard's 建会率 of larger firms)
    active: str = ""  # "1": 经营状态 正常 and not 已注销/迁出 (the dashboard's denominators)
    visit_q: str = ""  # "none": no visit this quarter (区级重点企业本季度走访)
    founded_from: date | None = None  # 工会成立日期 in a period (the dashboard's new unions)
    founded_to: date | None = None
    sort: str = "updated"
    page: int = 1
    errors: list = field(default_factory=list)

    @classmethod
    def from_request(cls, args):
        def choice(name, allowed):
            value = args.get(name, "")
            return value if value in allowed else ""

        out = cls(
            q=search.normalise_term(args.get("q", "")),
            union_status=choice("union_status", stages.UNION_STATUS),
            stage=choice("stage", stages.ALL_STAGES),
            is_key=choice("is_key", {"1", "0"}),
            industry=choice("industry", INDUSTRIES),
            category=choice("category", CATEGORIES),
            status=choice("status", STATUSES),
            archived=choice("archived", {"1", "all"}),
            contact=choice("contact", CONTACT_FILTERS),
            sort=args.get("sort") if args.get("sort") in SORTS else "updated",
        )
        out.org = arg_id(args, "org")
        out.size = "25" if args.get("size") == "25" else ""
        out.active = "1" if args.get("active") == "1" else ""
        out.visit_q = "none" if args.get("visit_q") == "none" else ""
        for name in ("founded_from", "founded_to"):
            try:
                setattr(out, name, date.fromisoformat(args[name]) if args.get(name) else None)
            except ValueError:
                setattr(out, name, None)
        out.page = arg_page(args)
        return out

    @property
    def active_filters(self):
        return any([self.q, self.org, self.union_status, self.stage, self.is_key, self.industry,
                    self.category, self.status, self.archived, self.contact, self.size,
                    self.founded_from, self.founded_to, self.active, self.visit_q])

    @property
    def narrowing_filters(self):
        """Filters other than the search, the org unit and 归档."""
        return any([self.union_status, self.stage, self.is_key, self.industry, self.category,
                    self.status, self.contact, self.size, self.founded_from, self.founded_to,
                    self.active, self.visit_q])

    @property
    def hidden_filters(self):
        """Filters the list keeps but has no control for (they come from the dashboard's links):
        [(name, value, label)] shown as removable notes and carried by the filter form."""
        out = []
        if self.active:
            out.append(("active", "1", "仅有效企业（经营正常、未注销迁出）"))
        if self.size:
            out.append(("size", self.size, f"职工{self.size}人以上"))
        if self.founded_from:
            out.append(("founded_from", self.founded_from.isoformat(), f"工会成立于 {self.founded_from.isoformat()} 起"))
        if self.founded_to:
            out.append(("founded_to", self.founded_to.isoformat(), f"工会成立于 {self.founded_to.isoformat()} 前"))
        if self.visit_q:
            out.append(("visit_q", self.visit_q, "本季度未走访"))
        return out


def _plain(field):
    return field


def _unindexed(field):
    """`field` in a WHERE term SQLite must not serve from an index (its unary +): the list is
    then read in sort order from the sort's index and the term checked on each row."""
    return NodeList((SQL("+"), field), glue="")


_ANY_UNIT = object()


def _unit_of(a: ListArgs):
    return OrgUnit.get_or_none(OrgUnit.id == a.org) if a.org else None


def not_visited(today=None, col=_plain):
    """本季度未走访: no (unarchived) visit since the quarter of `today` (default: today) began —
    the file's last visit (crm.fieldwork.contact keeps it) is none or earlier (a visit is never
    dated after today). The list's filter and the 重点企业本季度未走访 suggestion."""
    last = col(Enterprise.last_visit_on)
    return last.is_null() | (last < quarter_start(today or local_today()))


def filtered(user, a: ListArgs, plan=None, *, unit=_ANY_UNIT, walk=False, by_unit=False, ids="index"):
    """The files in scope matching the list's filters (any order).

    plan: the search plan of a.q (search.plan); None uses search.condition. ids: how the plan's
    index word is used: "index", its files are looked up from the index and then checked against
    the other filters; "probe", rows found otherwise are checked against that set; "like", LIKE
    on each row. walk (SQLite): no filter but `archived` may be served from an index, so the page
    is read in sort order from the sort's index (see list_page). by_unit (SQLite): only the org
    unit and `archived` may be served from an index, so a unit's files are read from the index
    that leads with the unit and holds every filter and sort column (enterprise_unit_list), the
    filters checked in it. unit: a.org's unit when already looked up."""
    col = _unindexed if (walk or by_unit) and is_sqlite() else _plain
    org = _plain if by_unit else col
    query = scoped(Enterprise, user, org_field=org(Enterprise.org_unit))
    if a.archived == "1":
        query = query.where(Enterprise.archived == True)  # noqa: E712
    elif a.archived != "all":
        query = query.where(Enterprise.archived == False)  # noqa: E712
    if a.org:
        if unit is _ANY_UNIT:
            unit = _unit_of(a)
        if unit is not None:
            query = query.where(org(Enterprise.org_unit).in_(subtree_ids(unit)))
    if a.union_status:
        query = query.where(col(Enterprise.stage).in_(stages.stages_with_status(a.union_status)))
    if a.stage:
        query = query.where(col(Enterprise.stage) == a.stage)
    if a.is_key:
        query = query.where(col(Enterprise.is_key) == (a.is_key == "1"))
    if a.industry:
        query = query.where(col(Enterprise.industry) == a.industry)
    if a.category:
        query = query.where(col(Enterprise.category) == a.category)
    if a.status:
        query = query.where(col(Enterprise.status) == a.status)
    if a.contact == "never":
        query = query.where(col(Enterprise.last_contact_on).is_null())
    elif a.contact:
        since = (local_today().replace(month=1, day=1) if a.contact == "year"
                 else local_today() - timedelta(days=int(a.contact)))
        last = col(Enterprise.last_contact_on)
        query = query.where(last.is_null() | (last < since))
    if a.size:
        query = query.where(col(employees_key()) >= int(a.size))
    if a.active:
        query = query.where(col(Enterprise.status) == "normal", col(Enterprise.stage) != "closed")
    if a.visit_q:
        query = query.where(not_visited(col=col))
    if a.founded_from:
        query = query.where(col(Enterprise.union_founded_on) >= a.founded_from)
    if a.founded_to:
        query = query.where(col(Enterprise.union_founded_on) <= a.founded_to)
    if a.q:
        if plan is None:
            query = query.where(search.condition(Enterprise, a.q))
        else:
            probe = (walk or ids == "probe") and is_sqlite()
            query = query.where(plan.where(Enterprise, ids != "like", _unindexed if probe else _plain,
                                           pairs=not walk))
    return query


@dataclass
class Page:
    rows: list
    page: int
    size: int
    total: int  # capped at LIST_COUNT_CAP + 1
    capped: bool
    contacts: dict

    @property
    def pages(self):
        return max(1, -(-self.total // self.size))

    @property
    def has_next(self):
        return self.page < self.pages


# A search word matching at most this many times LIST_COUNT_CAP files is counted through the
# index; above that it is common enough that counting row by row reaches the cap quickly.
SEARCH_INDEX_FACTOR = 3


# A town's list is read in sort order from the sort's index (each row looked up for its unit) when
# that reads fewer than 1 / UNIT_WALK_COST of the rows sorting the town's matches would (a row
# looked up costs several index entries read in a row).
UNIT_WALK_COST = 4


def list_page(user, a: ListArgs) -> Page:
    """One page of the list, in a fixed number of queries whatever the data size: the search
    plan (SQLite, with a term), the count (stopping at LIST_COUNT_CAP + 1), the page's ids by a
    narrow query (for a term found by pinyin, a second one when the page reaches the files found
    only by pinyin), the rows by id, their contacts.

    The count decides how the page is read. Reading in sort order from the sort's index
    (models: Enterprise.Meta.indexes) and checking the filters on each row stops as soon as the
    page is full: it goes through about (offset + size) × files / matches entries. Collecting
    every match through the filters' indexes and sorting them costs about the matches. The list
    reads in sort order when that is cheaper, and always above the cap (so page 1 of a long list
    and page 1,000 of the whole list both only skip index entries).

    A town's list without a term (by_unit below) is counted and its page picked from the index
    that leads with the unit and holds every filter and sort column (models: enterprise_unit_list),
    the filters checked in the index: it costs about the unit's files (a town has a few thousand)
    whatever the filters, where counting along a filter's index through the district read every
    file of that filter to find the town's."""
    size = current_app.config["PAGE_SIZE"]
    cap = current_app.config["LIST_COUNT_CAP"]
    offset = (a.page - 1) * size
    unit = _unit_of(a)
    plan = search.plan(a.q, SEARCH_INDEX_FACTOR * cap) if a.q else None
    # One town's (or a smaller unit's) list, the user's scope or the chosen unit: its files are
    # read from the index that leads with the unit (a town has a few thousand), rather than along
    # a filter's or the sort's index through the whole district, each row checked for its unit.
    # Without a term, they are counted and their page picked from that index alone; a search
    # within the town checks the unit's files against the search's set, rather than each file of
    # the set looked up for its unit.
    unit_scope = ((unit is not None and unit.depth > 0)
                  or (scope_org_ids(user) is not None and user.org_unit.depth > 0))
    by_unit = unit_scope and not a.q
    in_town = unit_scope and not a.narrowing_filters
    order = SORTS[a.sort][1]()
    if by_unit:
        matching = filtered(user, a, unit=unit, by_unit=True)
        sql, params = matching.select(SQL("1")).limit(cap + 1).sql()
        total, files = db.execute_sql(f"SELECT (SELECT COUNT(*) FROM ({sql}) AS c), (SELECT MAX(id) FROM enterprise)",
                                      params).fetchone()
        reach = offset + size
        if is_sqlite() and reach <= total and reach * (files or 0) * UNIT_WALK_COST < total * total:
            # Many of the district's files match (the town's whole list, a common filter): the
            # page is read in sort order from the sort's index, each row checked for its unit
            # and the filters, which stops when the page is full (about reach × files / total
            # rows, each looked up in the table), rather than sorting every match.
            walked = filtered(user, a, unit=unit, walk=True).select(Enterprise.id).order_by(*order)
            ids = [i for (i,) in walked.limit(size).offset(offset).tuples()]
        elif total <= cap and offset > total // 2:
            # A page in the second half is picked from the end, in the reverse order: sorting
            # keeps the rows up to the page's end, so fewer are kept that way.
            rows = (matching.select(Enterprise.id).order_by(*_reversed(order))
                    .limit(max(0, min(size, total - offset))).offset(max(0, total - offset - size)))
            ids = [i for (i,) in rows.tuples()][::-1]
        else:
            ids = [i for (i,) in matching.select(Enterprise.id).order_by(*order).limit(size).offset(offset).tuples()]
        return _page_of(ids, a.page, size, total, total > cap)

    def ids_for(p, limit, walk=False):
        if p is None:
            return "index"
        if not p.indexed(limit):
            return "like"
        return "probe" if walk or in_town else "index"

    if unit_scope and is_sqlite():
        # A search within a town (SQLite): the town's matching ids in one query, those where the
        # words are found as typed first, each tier in the list's order; the count is their number
        # and the page a slice (rather than counting, then paging each tier, each time finding the
        # words again). They are read up to the cap or the page's end, whichever is further.
        every = _unit_matches(filtered(user, a, plan, unit=unit, ids=ids_for(plan, SEARCH_INDEX_FACTOR * cap)),
                              plan, order, max(cap, offset + size) + 1)
        total = min(len(every), cap + 1)
        return _page_of(every[offset:offset + size], a.page, size, total, total > cap)

    def counting(p, limit):
        q = filtered(user, a, p, unit=unit, ids=ids_for(p, SEARCH_INDEX_FACTOR * cap)).select(SQL("1"))
        return q.limit(limit + 1).sql()

    # A term that may be found by pinyin: the files where it is found as typed come first, then
    # those found only by pinyin (search.Plan.tiers), each in the list's order. Both are counted
    # here, the first up to this page's end at least, so that a page past it knows where the
    # second begins.
    tiers = plan.tiers() if plan is not None else None
    sql, params = counting(plan, cap)
    columns = [f"(SELECT COUNT(*) FROM ({sql}) AS c)", "(SELECT MAX(id) FROM enterprise)"]
    first_cap = max(cap, offset + size)
    if tiers:
        first_sql, first_params = counting(tiers[0], first_cap)
        columns.append(f"(SELECT COUNT(*) FROM ({first_sql}) AS f)")
        params = params + first_params

    def page_ids(p, matching, capped, skip, limit):
        in_order = capped or (skip + limit) * (files or 0) < matching * matching
        base = filtered(user, a, p, unit=unit, walk=in_order, ids=ids_for(p, cap, in_order))
        if not in_order and not is_sqlite():
            return _collected(base, order, skip, limit)
        return [r.id for r in base.select(Enterprise.id).order_by(*order).limit(limit).offset(skip)]

    with _pairs_by_index(plan):  # the count and the page in one transaction
        total, files, *first = db.execute_sql("SELECT " + ", ".join(columns), params).fetchone()
        first = first[0] if first else 0
        if tiers and not first:  # no file has it as typed: one tier
            tiers = None
        capped = total > cap
        if not tiers:
            ids = page_ids(plan, total, capped, offset, size)
        else:
            ids = page_ids(tiers[0], first, first > cap, offset, size) if offset < first else []
            if len(ids) < size and first <= first_cap and (capped or total > first):
                ids += page_ids(tiers[1], total - first, capped, max(0, offset - first), size - len(ids))
    return _page_of(ids, a.page, size, total, capped)


def _reversed(order):
    """The sort `order` backwards (it ends with a unique key: the same rows, the other way)."""
    return [Ordering(o.node, "ASC" if o.direction.upper() == "DESC" else "DESC") if isinstance(o, Ordering)
            else o.desc() for o in order]


def _unit_matches(query, plan, order, limit):
    """The first `limit` ids of `query` (a unit's files matching `plan`'s term), the files having
    the words as typed first (search.Plan.tiers), each tier in `order`."""
    tiers = plan.tiers()
    if tiers:
        as_typed = tiers[0].where(Enterprise, use_index=False, pairs=False)
        order = [Case(None, [(as_typed, 0)], 1), *order]
    return [i for (i,) in query.select(Enterprise.id).order_by(*order).limit(limit).tuples()]


@contextmanager
def _pairs_by_index(plan):
    """PostgreSQL: a search with a 2-character word is planned with sequential scans off, so its
    files are read through the pairs' GIN index. The planner costs the pairs' expression, checked
    on a row, like any other (it is regular expressions over the row's text) and for a common word
    (jd: 12,855 files) would scan the whole table checking it. SET LOCAL, inside the statements'
    own transaction, set back after them."""
    if plan is None or is_sqlite() or not plan.pairs():
        yield
        return
    with db.atomic():
        db.execute_sql("SET LOCAL enable_seqscan = off")
        yield
        db.execute_sql("SET LOCAL enable_seqscan TO DEFAULT")


# What the list shows of a file (templates/enterprises/index.html): its rows are read with these
# columns only (a whole row's dates and texts cost more to turn into Python than the page to draw).
LIST_COLUMNS = (Enterprise.id, Enterprise.name, Enterprise.credit_code, Enterprise.is_key, Enterprise.archived,
                Enterprise.stage, Enterprise.area, Enterprise.org_unit, OrgUnit.id, OrgUnit.name)


def _page_of(ids, page, size, total, capped):
    """The Page of these ids: their rows read by id, in this order, and their contacts."""
    rows = []
    if ids:
        by_id = {e.id: e for e in Enterprise.select(*LIST_COLUMNS).join(OrgUnit)
                 .where(Enterprise.id.in_(ids))}
        rows = [by_id[i] for i in ids]
    return Page(rows, page, size, total, capped, primary_contacts(ids))


def _collected(query, order, skip, limit):
    """PostgreSQL: the ids of `query`'s rows (with the keys of `order`) gathered first, then
    sorted. Its planner guesses how many rows a LIKE matches from the word's length alone, and with
    a low guess may read the sort's index in order through most of the table (a word whose files
    sort late: 圆通… by name) where gathering the few matches costs little."""
    order = [o if isinstance(o, Ordering) else o.asc() for o in order]
    keys = [o.node.alias(f"k{i}") for i, o in enumerate(order)]
    matched = query.select(Enterprise.id, *keys).cte("matched", materialized=True)
    page = (matched.select_from(matched.c.id)
            .order_by(*[Ordering(getattr(matched.c, f"k{i}"), o.direction) for i, o in enumerate(order)])
            .limit(limit).offset(skip))
    return [row[0] for row in db.execute(page).fetchall()]


def primary_contacts(ids):
    if not ids:
        return {}
    out = {}
    for c in (Contact.select(Contact.id, Contact.enterprise, Contact.name, Contact.phone)
              .where(Contact.enterprise.in_(ids), Contact.archived == False)  # noqa: E712
              .order_by(Contact.is_primary.desc(), Contact.id)):
        out.setdefault(c.enterprise_id, c)
    return out


def scope_summary(user):
    """Counts per stage of the active files in scope, and the headline figures."""
    rows = (scoped(Enterprise, user).select(Enterprise.stage, fn.COUNT(Enterprise.id).alias("n"))
            .where(Enterprise.archived == False).group_by(Enterprise.stage).tuples())  # noqa: E712
    by_stage = dict(rows)
    total = sum(by_stage.values())
    by_status = {key: 0 for key in stages.UNION_STATUS.keys()}
    for key, n in by_stage.items():
        by_status[stages.union_status(key)] += n
    key_firms = scoped(Enterprise, user).where(Enterprise.archived == False,  # noqa: E712
                                               Enterprise.is_key == True).count()  # noqa: E712
    return {"total": total, "by_stage": by_stage, "by_status": by_status, "key_firms": key_firms,
            "stages": stages.STAGES + stages.SIDE_STATES}


def recently_changed(user, limit=8):
    return list(scoped(Enterprise, user).select(Enterprise, OrgUnit).join(OrgUnit)
                .where(Enterprise.archived == False)  # noqa: E712
                .order_by(Enterprise.updated_at.desc()).limit(limit))


def area_suggestions(user, limit=200):
    used = [r[0] for r in scoped(Enterprise, user).select(Enterprise.area)
            .where(Enterprise.area != "").distinct().order_by(Enterprise.area).limit(limit).tuples()]
    return list(dict.fromkeys(list(AREA_SEEDS) + used))


def contacts_of(ent):
    return list(Contact.select().where(Contact.enterprise == ent.id, Contact.archived == False)  # noqa: E712
                .order_by(Contact.is_primary.desc(), Contact.id))


def history(ent, limit=None, offset=0):
    query = (EnterpriseChange.select(EnterpriseChange, User).join(User, JOIN.LEFT_OUTER)
             .where(EnterpriseChange.enterprise == ent.id)
             .order_by(EnterpriseChange.at.desc(), EnterpriseChange.id.desc()))
    if limit:
        query = query.limit(limit).offset(offset)
    return list(query)


LOOKUP_INDEX_MAX = 2000


def lookup(user, term: str, limit: int = 15) -> list[dict]:
    """A few active files in scope for a search term (the enterprise pickers)."""
    plan = search.plan(term, LOOKUP_INDEX_MAX)
    if plan is None:
        return []
    # A rare word: its files from the index, sorted; a common one: read in name order, stopping
    # at `limit` matches. The files where the term is found as typed first, then those found only
    # by pinyin (search.Plan.tiers).
    found = []
    for p in plan.tiers() or (plan,):
        query = (scoped(Enterprise, user)
                 .select(Enterprise.id, Enterprise.name, Enterprise.stage, OrgUnit.name.alias("unit"))
                 .join(OrgUnit, on=(Enterprise.org_unit == OrgUnit.id))
                 .where(Enterprise.archived == False,  # noqa: E712
                        p.where(Enterprise, p.indexed(LOOKUP_INDEX_MAX))))
        found += _first_by_name(query, limit - len(found), gather=p.trigrams())
        if len(found) >= limit:
            break
    return [{"id": e[0], "name": e[1], "stage": stages.label(e[2]), "unit": e[3]} for e in found]


def _first_by_name(query, limit, gather):
    """The first `limit` rows of `query` (id, name, stage, unit) in name order. PostgreSQL, with
    `gather` (a word its trigram indexes serve; no estimate there): up to LOOKUP_INDEX_MAX + 1
    matches gathered first and sorted, as for a rare word; only more than that are read in name
    order (see _collected for why)."""
    if gather and not is_sqlite():
        matched = query.limit(LOOKUP_INDEX_MAX + 1).cte("matched", materialized=True)
        rows = db.execute(matched.select_from(matched.c.id, matched.c.name, matched.c.stage, matched.c.unit,
                                              SQL("(SELECT COUNT(*) FROM matched)"))
                          .order_by(matched.c.name, matched.c.id).limit(limit)).fetchall()
        if not rows or rows[0][4] <= LOOKUP_INDEX_MAX:
            return [row[:4] for row in rows]
    return list(query.order_by(Enterprise.name, Enterprise.id).limit(limit).tuples())
