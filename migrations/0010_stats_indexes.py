"""The district's dashboard groups the aggregates of every unit: unit_stat's index
(month, metric) becomes (month, metric, org_unit_id, value) and stage_stay gets (stage, days,
org_unit_id, count), so that the figures, the 12-month trends and the stage medians stream in
group order from an index instead of sorting the rows the primary keys give in unit order
(docs/performance.md). Declared in
crm/stats/models.py (the names are the models'); crm/stats/queries.py chooses them for scopes of
many units."""
from peewee import *

INDEXES = (
    ("unitstat_month_metric_org_unit_id_value", "unit_stat", "(month, metric, org_unit_id, value)"),
    ("stagestay_stage_days_org_unit_id_count", "stage_stay", "(stage, days, org_unit_id, count)"),
)


def up(migrator, db):
    db.execute_sql('DROP INDEX IF EXISTS "unitstat_month_metric"')
    for name, table, columns in INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {columns}')


def down(migrator, db):
    for name, *_ in reversed(INDEXES):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "unitstat_month_metric" ON "unit_stat" (month, metric)')
