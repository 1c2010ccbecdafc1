"""The aggregates of crm/stats: UnitStat (per org unit, month and metric), StageStay
(days spent in each founding stage) and FirmStat (what each firm adds), and an index for a
month's founding moves in date order. The aggregates start empty: readers fill the cells they need
from the records, writers keep the computed ones current (`crm stats rebuild` recomputes all).

Generated with playhouse.migrations.template() from the models.
"""
from peewee import *


def up(migrator, db):
    class OrgUnit(Model):
        class Meta:
            database = db
            table_name = 'org_unit'

    class UnitStat(Model):
        org_unit = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        month = IntegerField()
        metric = CharField(max_length=40)
        value = IntegerField()
        class Meta:
            database = db
            table_name = 'unit_stat'
            indexes = [(('month', 'metric'), False)]
            primary_key = CompositeKey('org_unit', 'month', 'metric')

    class StageStay(Model):
        org_unit = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        stage = CharField(max_length=30)
        days = IntegerField()
        count = IntegerField()
        class Meta:
            database = db
            table_name = 'stage_stay'
            primary_key = CompositeKey('org_unit', 'stage', 'days')
    class Enterprise(Model):
        class Meta:
            database = db
            table_name = 'enterprise'

    class FirmStat(Model):
        enterprise = ForeignKeyField(Enterprise, on_delete='CASCADE')
        cell = IntegerField()
        org_unit = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        data = TextField()
        class Meta:
            database = db
            table_name = 'firm_stat'
            indexes = [(('org_unit', 'cell'), False)]
            primary_key = CompositeKey('enterprise', 'cell')
    db.create_tables([UnitStat, StageStay, FirmStat])
    # The monthly report lists a month's founding moves in date order.
    migrator.migrate(migrator.add_index('founding_event', ('occurred_on', 'id'), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('founding_event', 'founding_event_occurred_on_id'))
    migrator.migrate(migrator.drop_table('firm_stat'))
    migrator.migrate(migrator.drop_table('stage_stay'))
    migrator.migrate(migrator.drop_table('unit_stat'))
