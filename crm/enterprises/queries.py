"""Reads of enterprise files. Every query starts from permissions.scoped()."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from peewee import JOIN, fn

from crm.common.choices import Choices
from crm.common.timeutil import local_today
from crm.enterprises import search
from crm.enterprises.choices import AREA_SEEDS, CATEGORIES, INDUSTRIES, STATUSES
from crm.enterprises.models import Contact, Enterprise
from crm.founding import stages
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids
from crm.permissions import scoped

SORTS = {
    "updated": ("最近更新", lambda: [Enterprise.updated_at.desc(), Enterprise.id.desc()]),
    "name": ("企业名称", lambda: [Enterprise.name, Enterprise.id]),
    "employees": ("职工人数（多→少）", lambda: [Enterprise.employees.desc(nulls="LAST"), Enterprise.id]),
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
        try:
            out.org = int(args["org"]) if args.get("org") else None
        except ValueError:
            out.org = None
        out.size = "25" if args.get("size") == "25" else ""
        out.active = "1" if args.get("active") == "1" else ""
        out.visit_q = "none" if args.get("visit_q") == "none" else ""
        for name in ("founded_from", "founded_to"):
            try:
                setattr(out, name, date.fromisoformat(args[name]) if args.get(name) else None)
            except ValueError:
                setattr(out, name, None)
        try:
            out.page = max(1, min(int(args.get("page", 1)), 100_000))
        except ValueError:
            out.page = 1
        return out

    @property
    def active_filters(self):
        return any([self.q, self.org, self.union_status, self.stage, self.is_key, self.industry,
                    self.category, self.status, self.archived, self.contact, self.size,
                    self.founded_from, self.founded_to, self.active, self.visit_q])

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


def filtered(user, a: ListArgs):
    query = scoped(Enterprise, user)
    if a.archived == "1":
        query = query.where(Enterprise.archived == True)  # noqa: E712
    elif a.archived != "all":
        query = query.where(Enterprise.archived == False)  # noqa: E712
    if a.org:
        unit = OrgUnit.get_or_none(OrgUnit.id == a.org)
        if unit is not None:
            query = query.where(Enterprise.org_unit.in_(subtree_ids(unit)))
    if a.union_status:
        query = query.where(Enterprise.stage.in_(stages.stages_with_status(a.union_status)))
    if a.stage:
        query = query.where(Enterprise.stage == a.stage)
    if a.is_key:
        query = query.where(Enterprise.is_key == (a.is_key == "1"))
    if a.industry:
        query = query.where(Enterprise.industry == a.industry)
    if a.category:
        query = query.where(Enterprise.category == a.category)
    if a.status:
        query = query.where(Enterprise.status == a.status)
    if a.contact == "never":
        query = query.where(Enterprise.last_contact_on.is_null())
    elif a.contact == "year":
        since = local_today().replace(month=1, day=1)
        query = query.where(Enterprise.last_contact_on.is_null() | (Enterprise.last_contact_on < since))
    elif a.contact:
        since = local_today() - timedelta(days=int(a.contact))
        query = query.where(Enterprise.last_contact_on.is_null() | (Enterprise.last_contact_on < since))
    if a.size:
        query = query.where(Enterprise.employees >= int(a.size))
    if a.active:
        query = query.where(Enterprise.status == "normal", Enterprise.stage != "closed")
    if a.visit_q:
        from crm.compliance.calendar import quarter_of
        from crm.visits.models import Visit
        today = local_today()
        q = quarter_of(today.year, today.month)
        visited = Visit.select(Visit.enterprise).where(Visit.archived == False,  # noqa: E712
                                                       Visit.visited_on.between(q.start, q.end))
        query = query.where(Enterprise.id.not_in(visited))
    if a.founded_from:
        query = query.where(Enterprise.union_founded_on >= a.founded_from)
    if a.founded_to:
        query = query.where(Enterprise.union_founded_on <= a.founded_to)
    if a.q:
        query = query.where(search.condition(Enterprise, a.q))
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


def list_page(user, a: ListArgs) -> Page:
    """One page of the list: ids picked by a narrow (index-only) query, then rows fetched by id,
    so deep pages do not drag whole rows through the offset. Counting stops at the cap."""
    size = current_app.config["PAGE_SIZE"]
    cap = current_app.config["LIST_COUNT_CAP"]
    base = filtered(user, a)
    order = SORTS[a.sort][1]()
    ids = [r.id for r in base.select(Enterprise.id).order_by(*order)
           .limit(size).offset((a.page - 1) * size)]
    rows = []
    if ids:
        by_id = {e.id: e for e in Enterprise.select(Enterprise, OrgUnit).join(OrgUnit)
                 .where(Enterprise.id.in_(ids))}
        rows = [by_id[i] for i in ids]
    total = base.select(Enterprise.id).limit(cap + 1).count()
    contacts = primary_contacts(ids)
    return Page(rows, a.page, size, total, total > cap, contacts)


def primary_contacts(ids):
    if not ids:
        return {}
    out = {}
    for c in (Contact.select().where(Contact.enterprise.in_(ids), Contact.archived == False)  # noqa: E712
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
    from crm.auth.models import User
    from crm.enterprises.models import EnterpriseChange
    query = (EnterpriseChange.select(EnterpriseChange, User).join(User, JOIN.LEFT_OUTER)
             .where(EnterpriseChange.enterprise == ent.id)
             .order_by(EnterpriseChange.at.desc(), EnterpriseChange.id.desc()))
    if limit:
        query = query.limit(limit).offset(offset)
    return list(query)


def lookup(user, term: str, limit: int = 15) -> list[dict]:
    """A few active files in scope for a search term (the enterprise pickers)."""
    term = search.normalise_term(term)
    if not term:
        return []
    query = (scoped(Enterprise, user)
             .select(Enterprise.id, Enterprise.name, Enterprise.stage, OrgUnit.name.alias("unit"))
             .join(OrgUnit, on=(Enterprise.org_unit == OrgUnit.id))
             .where(Enterprise.archived == False, search.condition(Enterprise, term))  # noqa: E712
             .order_by(Enterprise.name).limit(limit))
    return [{"id": e.id, "name": e.name, "unit": e.unit, "stage": stages.label(e.stage)}
            for e in query.objects()]
