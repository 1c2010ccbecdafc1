"""Reading the aggregates over a set of org units (a subtree): a few grouped queries over
(units × months × metrics) rows, whatever the number of records behind them."""
from collections import Counter, defaultdict

from peewee import fn

from crm.db import plain
from crm.org.models import OrgUnit
from crm.permissions import scope_org_ids
from crm.stats import facts, services
from crm.stats.models import StageStay, UnitStat


def _ids(units) -> list[int]:
    """Org unit ids from ids, units or a select of units (crm/org/queries.subtree_ids)."""
    return [getattr(u, "id", u) for u in units]


# A scope of more units than this (a district's, not a town's with its stations) is grouped from
# the covering indexes; see _unit.
MANY_UNITS = 8


def _unit(model, unit_ids):
    """The org-unit column to filter `model`'s rows by. A scope of many units is read in group
    order from the covering index that starts with what is grouped ((month, metric, org_unit,
    value), (stage, days, org_unit, count)), the unit checked on each entry (`plain`); a few units
    read their own rows by the primary key (unit first) and sort them. Reading in unit order costs
    about three times as much per row: for Daxing's 29 units the two ways cost the same at about
    ten."""
    return plain(model.org_unit) if len(unit_ids) > MANY_UNITS else model.org_unit


def _years(first: int, last: int):
    return range(first // 100, last // 100 + 1)


def sums(unit_ids, first: int, last: int) -> Counter:
    """metric → total over the units and the months first..last (yyyymm, inclusive)."""
    unit_ids = _ids(unit_ids)
    services.ensure(unit_ids, _years(first, last))
    return Counter(dict(UnitStat.select(UnitStat.metric, fn.SUM(UnitStat.value))
                        .where(_unit(UnitStat, unit_ids).in_(unit_ids), UnitStat.month.between(first, last),
                               UnitStat.metric != services.READY)
                        .group_by(UnitStat.metric).tuples()))


def by_month(unit_ids, first: int, last: int) -> dict:
    """(yyyymm, metric) → total over the units."""
    unit_ids = _ids(unit_ids)
    services.ensure(unit_ids, _years(first, last))
    return {(m, k): v for m, k, v in
            UnitStat.select(UnitStat.month, UnitStat.metric, fn.SUM(UnitStat.value))
            .where(_unit(UnitStat, unit_ids).in_(unit_ids), UnitStat.month.between(first, last),
                   UnitStat.metric != services.READY)
            .group_by(UnitStat.month, UnitStat.metric).tuples()}


def by_unit(unit_ids, first: int, last: int) -> dict:
    """unit id → {(yyyymm, metric): value}, each unit's own records."""
    unit_ids = _ids(unit_ids)
    services.ensure(unit_ids, _years(first, last))
    out = defaultdict(Counter)
    for u, m, k, v in (UnitStat.select(UnitStat.org_unit, UnitStat.month, UnitStat.metric, UnitStat.value)
                       .where(UnitStat.org_unit.in_(unit_ids), UnitStat.month.between(first, last),
                              UnitStat.metric != services.READY).tuples()):
        out[u][(m, k)] = v
    return out


def present(unit_ids) -> Counter:
    """metric → the units' files as they stand (see crm/stats/facts.py)."""
    unit_ids = _ids(unit_ids)
    services.ensure(unit_ids, present=True)
    return Counter(dict(UnitStat.select(UnitStat.metric, fn.SUM(UnitStat.value))
                        .where(_unit(UnitStat, unit_ids).in_(unit_ids), UnitStat.month == services.PRESENT,
                               UnitStat.metric != services.READY)
                        .group_by(UnitStat.metric).tuples()))


def scope_present(user, unit_ids=None) -> Counter:
    """present() of the user's scope (every unit for an admin), or of `unit_ids` when given."""
    units = unit_ids if unit_ids is not None else scope_org_ids(user)
    return present(units if units is not None else OrgUnit.select(OrgUnit.id))


def median_days(unit_ids) -> dict:
    """stage → the median days firms of these units spent in it, over the stays that ended."""
    unit_ids = _ids(unit_ids)
    services.ensure(unit_ids, present=True)
    hist = defaultdict(Counter)
    for stage, days, n in (StageStay.select(StageStay.stage, StageStay.days, fn.SUM(StageStay.count))
                           .where(_unit(StageStay, unit_ids).in_(unit_ids))
                           .group_by(StageStay.stage, StageStay.days).tuples()):
        hist[stage][days] += int(n)
    return {stage: facts.median_of(h) for stage, h in hist.items()}
