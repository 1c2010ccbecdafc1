"""Keeping the aggregates right (crm/stats/models.py).

Writers say what they changed, inside their transaction and after their writes: a firm
(`firm_changed`: a visit, a meeting it took part in, a founding move, an edit of the file) or a
meeting, training or activity (`record_changed`, with what it counted before and after). A firm's
contribution is recomputed from the records and replaces what it had added (kept in FirmStat);
a record's difference is added. Only computed cells are kept; a cell never computed (a fresh
database, a new year) is filled from the records by its first reader (`ensure`). So no reader sees
a figure older than the data, and a change costs a few small queries whatever the data size.

Concurrency: on SQLite writers are serialised. On PostgreSQL the firms' rows are locked (in id
order) before their contribution is read, and each (unit, cell) is held by a transaction-scoped
advisory lock — shared by writers, exclusive while a cell is filled — so a fill never misses a
write that commits meanwhile."""
import contextvars
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date

from crm.common import signals
from crm.common.timeutil import local_today
from crm.db import db, is_postgres
from crm.enterprises.models import Enterprise
from crm.meetings.models import Meeting, MeetingEnterprise
from crm.members.models import SignUp
from crm.org.models import OrgUnit
from crm.stats import facts
from crm.stats.models import FirmStat, StageStay, UnitStat
from crm.visits.models import Visit

PRESENT = facts.PRESENT
READY = "ready"
ALL = "all"
CHUNK = 500
BULK = 2000  # firms changed in one transaction above which their units' cells are recomputed


def _chunks(items, size=CHUNK):
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _lock(unit_id: int, cell: int, shared: bool):
    if is_postgres():
        db.execute_sql(f"SELECT pg_advisory_xact_lock{'_shared' if shared else ''}(%s, %s)", (unit_id, cell))


def _months(cell: int) -> tuple[int, int]:
    return (PRESENT, PRESENT) if cell == PRESENT else (cell * 100, cell * 100 + 12)


def _cell_of(month: int) -> int:
    return month // 100


def _ready(unit_ids, cells=None) -> set:
    """(unit id, cell) of every computed cell of these units (of `cells` only, when given: the
    markers are then read from the (month, metric) index, not from every row of each unit)."""
    unit_ids = list(unit_ids)
    if not unit_ids or cells is not None and not cells:
        return set()
    query = (UnitStat.select(UnitStat.org_unit, UnitStat.month)
             .where(UnitStat.metric == READY, UnitStat.org_unit.in_(unit_ids)))
    if cells is not None:
        query = query.where(UnitStat.month.in_(sorted({_months(c)[0] for c in cells})))
    return {(u, _cell_of(m)) for u, m in query.tuples()}


def _encode(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _add(unit_rows: Counter, stay_rows: Counter):
    """Add differences: {(unit, month, metric): n} and {(unit, stage, days): n}."""
    from peewee import EXCLUDED
    rows = [{"org_unit": u, "month": m, "metric": k, "value": v} for (u, m, k), v in unit_rows.items() if v]
    for i in range(0, len(rows), CHUNK):
        (UnitStat.insert_many(rows[i:i + CHUNK])
         .on_conflict(conflict_target=[UnitStat.org_unit, UnitStat.month, UnitStat.metric],
                      update={UnitStat.value: UnitStat.value + EXCLUDED.value}).execute())
    rows = [{"org_unit": u, "stage": s, "days": d, "count": v} for (u, s, d), v in stay_rows.items() if v]
    for i in range(0, len(rows), CHUNK):
        (StageStay.insert_many(rows[i:i + CHUNK])
         .on_conflict(conflict_target=[StageStay.org_unit, StageStay.stage, StageStay.days],
                      update={StageStay.count: StageStay.count + EXCLUDED.count}).execute())


# ---- filling a cell from the records -------------------------------------------------------------

def fill(unit_id: int, cell: int, force: bool = False):
    """Compute one cell from the records (unless another transaction just did)."""
    with db.atomic():
        _lock(unit_id, cell, shared=False)
        if not force and (unit_id, cell) in _ready([unit_id], {cell}):
            return
        first, last = _months(cell)
        unit_firms = Enterprise.select(Enterprise.id).where(Enterprise.org_unit == unit_id)
        # Rows of this cell counted elsewhere (never, unless records were changed behind the app's
        # back): that unit's cell is dropped too, to be filled again when read.
        strays = {u for (u,) in FirmStat.select(FirmStat.org_unit)
                  .where(FirmStat.cell == cell, FirmStat.enterprise.in_(unit_firms), FirmStat.org_unit != unit_id)
                  .distinct().tuples()}
        for other in strays | {unit_id}:
            _drop(other, cell)
        data = facts.firm_years(unit_firms, cell) if cell != PRESENT else facts.firm_present(unit_firms)
        rows, stays, firm_rows = Counter(), Counter(), []
        for ent_id, (_, values) in data.items():
            if not values:
                continue
            firm_rows.append({"enterprise": ent_id, "cell": cell, "org_unit": unit_id, "data": _encode(values)})
            rows.update({(unit_id, m, k): v for (m, k), v in facts.contribution(cell, values).items()})
            stays.update({(unit_id, s, d): n for (s, d), n in facts.stay_counts(values).items()})
        if cell != PRESENT:
            rows.update({(unit_id, m, k): v for (m, k), v in facts.unit_records(unit_id, cell).items()})
        rows[(unit_id, first, READY)] = 1
        for i in range(0, len(firm_rows), CHUNK):
            FirmStat.insert_many(firm_rows[i:i + CHUNK]).execute()
        _add(rows, stays)


def _drop(unit_id: int, cell: int):
    first, last = _months(cell)
    UnitStat.delete().where(UnitStat.org_unit == unit_id, UnitStat.month.between(first, last)).execute()
    FirmStat.delete().where(FirmStat.org_unit == unit_id, FirmStat.cell == cell).execute()
    if cell == PRESENT:
        StageStay.delete().where(StageStay.org_unit == unit_id).execute()


def ensure(unit_ids, years: Iterable = (), present: bool = False):
    """Fill the cells a reader needs that were never computed."""
    unit_ids = list(unit_ids)
    wanted = {(u, y) for u in unit_ids for y in years} | ({(u, PRESENT) for u in unit_ids} if present else set())
    for unit_id, cell in sorted(wanted - _ready(unit_ids, {c for _, c in wanted})):
        fill(unit_id, cell)


def rebuild(years: Iterable | None = None, progress=None):
    """Recompute every aggregate (after loading records by other means than the app): the present
    state of every unit and the given years (default: the years any visit or meeting is dated in,
    up to this one). `progress(done, total)` after each unit (统计重算 as a job)."""
    if years is None:
        this_year = local_today().year
        firsts = [facts.as_date(q.scalar()) for q in (Visit.select(Visit.visited_on).order_by(Visit.visited_on),
                                                      Meeting.select(Meeting.held_on).order_by(Meeting.held_on))]
        years = range(min([d.year for d in firsts if d] + [this_year]), this_year + 1)
    with db.atomic():
        for model in (UnitStat, StageStay, FirmStat):
            model.delete().execute()
    units = [unit_id for (unit_id,) in OrgUnit.select(OrgUnit.id).order_by(OrgUnit.id).tuples()]
    years = list(years)
    for done, unit_id in enumerate(units, start=1):
        fill(unit_id, PRESENT, force=True)
        for year in years:
            fill(unit_id, year, force=True)
        if progress is not None:
            progress(done, len(units))


# ---- what writers call ------------------------------------------------------------------------

_pending = contextvars.ContextVar("stats_pending", default=None)


class Pending:
    def __init__(self):
        self.firms = defaultdict(set)   # firm id → years, ALL, ("since", year)
        self.records = Counter()        # (unit, month, metric) → difference
        self.before = {}                # (kind, record id) → its scope before the change
        self.depth = 0                  # nested signals.batch() blocks

    def __bool__(self):
        return bool(self.firms or self.records)


def _batch_began(_sender, **_):
    """signals.batch(): collect what the writes inside change and apply it once, at the end
    (inside the caller's transaction): an import of many rows, or a visit whose founding move also
    reports a change."""
    pending = _pending.get()
    if pending is None:
        pending = Pending()
        _pending.set(pending)
    pending.depth += 1


def _batch_ended(_sender, ok=True, **_):
    pending = _pending.get()
    pending.depth -= 1
    if pending.depth == 0:
        _pending.set(None)
        if ok:
            _apply(pending)


def _collect(fill_in):
    pending = _pending.get()
    if pending is not None:
        fill_in(pending)
        return
    pending = Pending()
    fill_in(pending)
    _apply(pending)


def firm_changed(firms: Iterable, days: Iterable = (), all_years: bool = False, since: date | None = None):
    """Firms whose own figures may have changed: their present state always; the years of `days`
    (a visit's or meeting's day before and after the change); every year for a change of the file
    itself (unit, state, archive); the year of `since` and later (a file filed on that day)."""
    years = {d.year for d in days if d}
    if all_years:
        years.add(ALL)
    if since is not None:
        years.add(("since", since.year))

    def fill_in(pending):
        for f in firms:
            if f:
                pending.firms[getattr(f, "id", f)] |= years
    _collect(fill_in)


def scope_of(record) -> dict:
    """What a field-work record counts in, read before and after a change: its own contribution
    (a meeting, training or activity), the firms whose figures it is part of (a visit's firm, the
    firms that took part in a meeting) and its day."""
    if record is None:
        return {}
    day = getattr(record, "visited_on", None) or getattr(record, "held_on", None) \
        or (record.day if isinstance(record, SignUp) else None)
    if day is None:  # 固定点位 and the like count in nothing
        return {}
    firms = {getattr(record, "enterprise_id", None)} - {None}
    if isinstance(record, Meeting):
        firms |= {e for (e,) in MeetingEnterprise.select(MeetingEnterprise.enterprise)
                  .where(MeetingEnterprise.meeting == record.id).tuples()}
    return {"counts": facts.record_contribution(record), "firms": firms, "days": {day}}


def record_changed(before: dict, after: dict):
    """A field-work record was created (before = {}), edited or archived/restored."""
    def fill_in(pending):
        pending.records.update(after.get("counts", Counter()))
        pending.records.subtract(before.get("counts", Counter()))
    _collect(fill_in)
    firms = before.get("firms", set()) | after.get("firms", set())
    days = before.get("days", set()) | after.get("days", set())
    if firms:
        firm_changed(firms, days=days)


def _apply(pending: Pending):
    if not pending:
        return
    ids = sorted(pending.firms)
    if len(ids) > BULK:  # an import: recompute the cells of the units involved instead
        units = {u for chunk in _chunks(ids) for (u,) in
                 Enterprise.select(Enterprise.org_unit).where(Enterprise.id.in_(chunk)).distinct().tuples()}
        units |= {u for chunk in _chunks(ids) for (u,) in
                  FirmStat.select(FirmStat.org_unit).where(FirmStat.enterprise.in_(chunk)).distinct().tuples()}
        units |= {u for (u, _m, _k) in pending.records}
        for unit_id, cell in sorted(_ready(units)):
            fill(unit_id, cell, force=True)
        return
    if ids and is_postgres():  # one writer per firm at a time, in id order (NO KEY: the rows other
        # transactions reference while inserting visits stay compatible, as their own UPDATEs are)
        list(Enterprise.select(Enterprise.id).where(Enterprise.id.in_(ids)).order_by(Enterprise.id)
             .for_update("FOR NO KEY UPDATE"))
    units_now = dict(Enterprise.select(Enterprise.id, Enterprise.org_unit).where(Enterprise.id.in_(ids)).tuples()) \
        if ids else {}

    def existing_rows():
        return {(e, c): (u, d) for e, c, u, d in
                FirmStat.select(FirmStat.enterprise, FirmStat.cell, FirmStat.org_unit, FirmStat.data)
                .where(FirmStat.enterprise.in_(ids)).tuples()} if ids else {}

    existing = existing_rows()
    record_cells = {(u, _cell_of(m)) for (u, m, _k), v in pending.records.items() if v}
    units = set(units_now.values()) | {u for u, _ in existing.values()} | {u for u, _ in record_cells}
    ready = _ready(units)
    work = defaultdict(set)  # cell → firms
    for ent in ids:
        wanted = pending.firms[ent]
        candidates = {c for (e, c) in existing if e == ent} | {c for (u, c) in ready if u == units_now.get(ent)}
        cells = {PRESENT} | {c for c in wanted if isinstance(c, int)}
        if ALL in wanted:
            cells |= candidates
        for item in wanted:
            if isinstance(item, tuple):
                cells |= {c for c in candidates if c != PRESENT and c >= item[1]}
        for c in cells:
            work[c].add(ent)
    touched = set(record_cells)
    for c, ents in work.items():
        for e in ents:
            if e in units_now:
                touched.add((units_now[e], c))
            if (e, c) in existing:
                touched.add((existing[(e, c)][0], c))
    for unit_id, cell in sorted(touched):
        _lock(unit_id, cell, shared=True)
    if is_postgres():  # a fill may have committed while we waited
        existing, ready = existing_rows(), _ready(units)

    unit_rows, stay_rows = Counter(), Counter()
    for (u, m, k), v in pending.records.items():
        if v and (u, _cell_of(m)) in ready:
            unit_rows[(u, m, k)] += v
    for cell, ents in sorted(work.items()):
        counted = [e for e in ents if (units_now.get(e), cell) in ready]
        new = (facts.firm_present(counted) if cell == PRESENT else facts.firm_years(counted, cell)) if counted else {}
        for ent in sorted(ents):
            old = existing.get((ent, cell))
            unit_id, values = new.get(ent, (None, {}))
            encoded = _encode(values) if values else None
            if old is not None and old == (unit_id, encoded):
                continue
            if old is not None:
                old_unit, old_values = old[0], json.loads(old[1])
                if (old_unit, cell) in ready:
                    unit_rows.subtract({(old_unit, m, k): v for (m, k), v in facts.contribution(cell, old_values).items()})
                    stay_rows.subtract({(old_unit, s, d): n for (s, d), n in facts.stay_counts(old_values).items()})
                FirmStat.delete().where(FirmStat.enterprise == ent, FirmStat.cell == cell).execute()
            if encoded is not None:
                unit_rows.update({(unit_id, m, k): v for (m, k), v in facts.contribution(cell, values).items()})
                stay_rows.update({(unit_id, s, d): n for (s, d), n in facts.stay_counts(values).items()})
                FirmStat.insert(enterprise=ent, cell=cell, org_unit=unit_id, data=encoded).execute()
    _add(unit_rows, stay_rows)


# ---- the writes' signals -------------------------------------------------------------------------

def _firms_changed(_sender, ids=(), days=(), all_years=False, since=None, **_):
    firm_changed(ids, days=days, all_years=all_years, since=since)


def _record_changing(kind, record=None, **_):
    pending = _pending.get()
    if pending is not None:
        pending.before[(kind, record.id)] = scope_of(record)


def _record_changed(kind, record=None, **_):
    pending = _pending.get()
    before = pending.before.pop((kind, record.id), {}) if pending is not None else {}
    record_changed(before, scope_of(record))


signals.batch_began.connect(_batch_began)
signals.batch_ended.connect(_batch_ended)
signals.firms_changed.connect(_firms_changed)
signals.record_changing.connect(_record_changing)
signals.record_changed.connect(_record_changed)
