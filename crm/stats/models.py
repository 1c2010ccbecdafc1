"""Aggregates kept beside the records they count, so the dashboard and the reports read a few
thousand rows instead of a million visits.

UnitStat holds, per org unit (its own records, not its subtree) and month, one integer per
metric; StageStay the histogram of days its firms spent in each founding stage (for the medians).
Both are sums of contributions (crm/stats/facts.py): each firm's, kept in FirmStat so that a change
to a firm replaces exactly what it had added, and each meeting's, training's and activity's.
A cell — a unit and a year (months yyyy01..yyyy12, marked computed by metric "ready" at yyyy00)
or the unit's present state (month 0) — is filled from the records when first read and kept
current by the writes (crm/stats/services.py)."""
from peewee import CharField, CompositeKey, ForeignKeyField, IntegerField

from peewee import TextField

from crm.db import BaseModel
from crm.enterprises.models import Enterprise
from crm.org.models import OrgUnit


class UnitStat(BaseModel):
    org_unit = ForeignKeyField(OrgUnit, backref="+", on_delete="CASCADE")
    month = IntegerField()     # yyyymm; yyyy00 marks the year computed; 0 = the present state
    metric = CharField(max_length=40)
    value = IntegerField()

    class Meta:
        table_name = "unit_stat"
        primary_key = CompositeKey("org_unit", "month", "metric")
        # Many units' figures are grouped by (month, metric) straight from this index (migration 0010).
        indexes = ((("month", "metric", "org_unit", "value"), False),)


class StageStay(BaseModel):
    org_unit = ForeignKeyField(OrgUnit, backref="+", on_delete="CASCADE")
    stage = CharField(max_length=30)
    days = IntegerField()
    count = IntegerField()

    class Meta:
        table_name = "stage_stay"
        primary_key = CompositeKey("org_unit", "stage", "days")
        # The medians group every unit's stays by (stage, days): read in that order (migration 0010).
        indexes = ((("stage", "days", "org_unit", "count"), False),)


class FirmStat(BaseModel):
    """What one firm adds to its unit's cell (a year, or 0 for the present), as last counted."""
    enterprise = ForeignKeyField(Enterprise, backref="+", on_delete="CASCADE")
    cell = IntegerField()
    org_unit = ForeignKeyField(OrgUnit, backref="+", on_delete="CASCADE")
    data = TextField()   # JSON: {metric: [12 monthly values]} or, for the present, {metric: 1, "stays": [...]}

    class Meta:
        table_name = "firm_stat"
        primary_key = CompositeKey("enterprise", "cell")
        indexes = ((("org_unit", "cell"), False),)
