"""待跟进建议: what is due in a scope, by six rules, with thresholds an admin sets (crm.settings).

A firm (or a need) that already has an open follow-up is not suggested again. Only active files
are considered: not archived, 经营状态 正常, not 已注销/迁出 on the founding track.

At district scale each rule is read along the index of its own condition (last contact, stage
date, 区级重点, term end, the need's date) or the scope's units, and the counts on the tabs stop
at COUNT_CAP + 1 ("99+"): a page never counts every file of the district.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from peewee import JOIN, SQL, Select, fn

from crm.common.choices import Choices
from crm.common.timeutil import local_today, quarter_start, to_local
from crm.db import db, plain, stream_batches
from crm.enterprises import queries as enterprise_queries
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import NEED_CATEGORIES
from crm.followups.models import OPEN, FollowUp
from crm.followups.services import Task
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.needs.models import Need
from crm.permissions import scoped
from crm.settings import services as settings
from crm.stats import queries as stats
from crm.common.numbers import to_id

RULES = Choices(("never", "从未联系"), ("stale", "久未联系"), ("key", "重点企业本季度未走访"),
                ("stalled", "建会停滞"), ("term", "换届提醒"), ("need", "需求久未解决"))
# Stages a firm can stall in: on the way, not at the start (never contacted has its own rule),
# not at the end, not in a side state.
STALL_STAGES = tuple(s.key for s in stages.STAGES if s.order not in (0, 8))
# The tabs count up to this many suggestions, then show "99+" (the list itself is complete).
COUNT_CAP = 99
# Rules listed in the order of an indexed date (久未联系 by the last contact, 建会停滞 by the stage
# date). A page of such a rule with more than COUNT_CAP rows in a scope of more than WALK_FILES
# files is read along that date's index, the scope checked on each row: some (offset + page) ×
# district ÷ scope entries, instead of reading and sorting every file of the scope.
WALK_RULES = ("stale", "stalled")
WALK_FILES = 2000
# What Suggestion.day is, rule by rule (the export's heading for it).
DAY_LABELS = {"never": "建档日期", "stale": "上次联系日期", "key": "上次联系日期", "stalled": "进入当前阶段日期",
              "term": "任期届满日期", "need": "提出日期"}


@dataclass
class Suggestion:
    rule: str
    key: str            # "never:12", "need:5": what the bulk form posts
    reason: str
    title: str
    enterprise: Enterprise | None = None
    need: Need | None = None
    day: date | None = None  # the date its reason cites (DAY_LABELS says which)

    @property
    def rule_label(self):
        return RULES.label(self.rule)

    def task(self) -> Task:
        if self.need is not None:
            return Task(title=self.title, enterprise=self.enterprise, detail=self.reason, source="suggestion",
                        source_need_id=self.need.id, rule=self.rule, org_unit_id=self.need.org_unit_id)
        return Task(title=self.title, enterprise=self.enterprise, detail=self.reason, source="suggestion",
                    rule=self.rule)


def _firms(user, unit_ids=None, by_rule=False):
    """The active files of the scope without an open follow-up. The conditions every active file
    meets are checked on the rows (`plain`): SQLite would otherwise walk the index of 经营状态 —
    nearly every file — instead of the rule's own. `by_rule`: the scope's units are checked on
    the rows too, so the rule's index is read (for a rule that holds for few files: reading all of
    a town's files instead would cost thousands of rows)."""
    open_followup = FollowUp.select(FollowUp.id).where(FollowUp.enterprise == Enterprise.id,
                                                       FollowUp.status.in_(OPEN))
    unit = plain(Enterprise.org_unit) if by_rule else Enterprise.org_unit
    query = scoped(Enterprise, user, org_field=unit).where(
        plain(Enterprise.archived) == False, plain(Enterprise.status) == "normal",  # noqa: E712
        plain(Enterprise.stage) != "closed", ~fn.EXISTS(open_followup))
    if unit_ids is not None:
        query = query.where(unit.in_(unit_ids))
    return query


def _query(rule, user, today, limits, unit_ids=None, walk=False):
    """The rule's rows (enterprises, or needs for "need"), in the order they are shown. `walk`: read
    along the index of the rule's date (WALK_RULES; 换届提醒 always is)."""
    if rule == "need":
        open_followup = FollowUp.select(FollowUp.id).where(FollowUp.source_need == Need.id,
                                                           FollowUp.status.in_(OPEN))
        query = scoped(Need, user, query=Need.select(Need, Enterprise).join(Enterprise, JOIN.LEFT_OUTER)).where(
            Need.archived == False, Need.status.in_(("open", "in_progress")),  # noqa: E712
            Need.raised_on < today - timedelta(days=limits["suggest.need_days"]), ~fn.EXISTS(open_followup),
            Enterprise.id.is_null() | (Enterprise.archived == False))  # noqa: E712
        if unit_ids is not None:
            query = query.where(Need.org_unit.in_(unit_ids))
        return query.order_by(Need.raised_on, Need.id)
    # 换届提醒 holds for the few files whose term ends soon (or has ended): read by that date.
    firms = _firms(user, unit_ids, by_rule=rule == "term" or walk and rule in WALK_RULES)
    if rule == "never":
        return firms.where(Enterprise.last_contact_on.is_null()).order_by(Enterprise.created_at, Enterprise.id)
    if rule == "stale":
        cutoff = today - timedelta(days=limits["suggest.contact_days"])
        return firms.where(Enterprise.last_contact_on < cutoff).order_by(Enterprise.last_contact_on, Enterprise.id)
    if rule == "key":
        return (firms.where(Enterprise.is_key == True, enterprise_queries.not_visited(today))  # noqa: E712
                .order_by(Enterprise.name))
    if rule == "stalled":
        cutoff = today - timedelta(days=limits["suggest.stalled_days"])
        return firms.where(plain(Enterprise.stage).in_(STALL_STAGES), Enterprise.stage_since < cutoff) \
            .order_by(Enterprise.stage_since, Enterprise.id)
    if rule == "term":
        horizon = today + timedelta(days=limits["suggest.term_days"])
        return firms.where(Enterprise.union_term_end.is_null(False), Enterprise.union_term_end <= horizon) \
            .order_by(Enterprise.union_term_end, Enterprise.id)
    raise KeyError(rule)


def _filed_on(rule, rows) -> dict:
    """{firm id: the day its founding track begins (建档时的建会进度)} for the 从未联系 rows, in one
    query: a file imported today from a ledger kept for years says when it was really filed."""
    if rule != "never" or not rows:
        return {}
    return dict(FoundingEvent.select(FoundingEvent.enterprise, FoundingEvent.occurred_on)
                .where(FoundingEvent.enterprise.in_([r.id for r in rows]), FoundingEvent.kind == "initial")
                .tuples())


def _explain(rule, row, today, filed=None) -> Suggestion:
    if rule == "need":
        need = row
        days = (today - need.raised_on).days
        category = NEED_CATEGORIES.label(need.category)
        detail = f"：{need.detail[:40]}" if need.detail else ""
        return Suggestion(rule, f"need:{need.id}", f"{category}{detail}（{need.raised_on.isoformat()} 提出，已 {days} 天未解决）",
                          f"跟进需求：{category}", enterprise=need.enterprise, need=need, day=need.raised_on)
    ent = row
    day = ent.last_contact_on
    if rule == "never":
        day = (filed or {}).get(ent.id) or to_local(ent.created_at).date()
        reason, title = f"建档于 {day.isoformat()}，至今没有走访或沟通会记录", "首次走访宣传"
    elif rule == "stale":
        reason = f"上次联系 {ent.last_contact_on.isoformat()}，已 {(today - ent.last_contact_on).days} 天"
        title = "回访"
    elif rule == "key":
        reason, title = f"区级重点企业，本季度（{quarter_start(today).isoformat()} 起）还没有走访", "重点企业季度走访"
    elif rule == "stalled":
        reason = (f"在“{stages.label(ent.stage)}”已 {(today - ent.stage_since).days} 天"
                  f"（{ent.stage_since.isoformat()} 起）")
        title = f"推进建会（{stages.label(ent.stage)}）"
        day = ent.stage_since
    else:
        end = day = ent.union_term_end
        reason = (f"本届任期 {end.isoformat()} 届满（还有 {(end - today).days} 天）" if end >= today
                  else f"本届任期已于 {end.isoformat()} 届满 {(today - end).days} 天")
        title = "督促换届选举"
    return Suggestion(rule, f"{rule}:{ent.id}", reason, title, enterprise=ent, day=day)


def counts(user, today: date | None = None, unit_ids=None, cap: int | None = None) -> dict:
    """{rule: number of suggestions}, each counted up to cap + 1 (default COUNT_CAP; more than
    `cap`: count_label shows "99+"). One query: each rule stops at its (cap + 1)-th row."""
    today = today or local_today()
    cap = COUNT_CAP if cap is None else cap
    limits = settings.values()
    parts = []
    for rule in RULES.keys():
        rows = _query(rule, user, today, limits, unit_ids).select(SQL("1")).order_by().limit(cap + 1)
        parts.append(Select([rows.alias(f"{rule}_rows")], [fn.COUNT(SQL("1"))]))
    row = db.execute(Select(columns=parts)).fetchone()
    return dict(zip(RULES.keys(), (int(n or 0) for n in row)))


def count_label(n: int, cap: int | None = None) -> str:
    """What a tab shows: the count, or "99+" past the cap."""
    cap = COUNT_CAP if cap is None else cap
    return f"{cap}+" if n > cap else str(n)


def page(user, rule: str, page_no: int = 1, size: int = 50, today: date | None = None, unit_ids=None,
         count: int | None = None):
    """(suggestions, has_next) for one rule. `count`: the rule's count from counts(), when known
    (a rule past the cap in a big scope is read along its date's index, see WALK_RULES)."""
    today = today or local_today()
    # (The scope's files are read whatever the count: the same queries for the rule on any data.)
    walk = (rule in WALK_RULES and count is not None
            and stats.scope_present(user, unit_ids)["files"] > WALK_FILES and count > COUNT_CAP)
    rows = list(_query(rule, user, today, settings.values(), unit_ids, walk)
                .offset((page_no - 1) * size).limit(size + 1))
    filed = _filed_on(rule, rows[:size])
    return [_explain(rule, r, today, filed) for r in rows[:size]], len(rows) > size


def every(user, rule: str, today: date | None = None, unit_ids=None):
    """Every suggestion of one rule, in the order of its pages (the export), read in batches."""
    today = today or local_today()
    for rows in stream_batches(_query(rule, user, today, settings.values(), unit_ids)):
        filed = _filed_on(rule, rows)
        for row in rows:
            yield _explain(rule, row, today, filed)


def resolve(user, keys, today: date | None = None) -> list[Suggestion]:
    """The posted suggestion keys that still hold for this user's scope, in the order given
    (a firm visited or given a follow-up since the page was shown drops out)."""
    today = today or local_today()
    limits = settings.values()
    wanted = {}
    for key in keys:
        rule, _, raw = (key or "").partition(":")
        if rule in RULES and to_id(raw) is not None:
            wanted.setdefault(rule, []).append(to_id(raw))
    found = {}
    for rule, ids in wanted.items():
        model = Need if rule == "need" else Enterprise
        rows = list(_query(rule, user, today, limits).where(model.id.in_(ids)))
        filed = _filed_on(rule, rows)
        for row in rows:
            found[f"{rule}:{row.id}"] = _explain(rule, row, today, filed)
    seen, out = set(), []
    for key in keys:
        s = found.get(key)
        target = s and (s.enterprise.id if s.enterprise is not None and s.need is None else key)
        if s is not None and target not in seen:  # one follow-up per firm even if two rules hit it
            seen.add(target)
            out.append(s)
    return out
