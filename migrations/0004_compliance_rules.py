"""The 双沟通 rules as data: RuleSetting rows (a rule's target and whether it applies, for one
unit or district-wide, from a date on), seeded with the district's default rules.

Generated with playhouse.migrations.template() from the models, plus the seed rows.
"""
from peewee import *


def up(migrator, db):
    class OrgUnit(Model):
        class Meta:
            database = db
            table_name = 'org_unit'

    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class RuleSetting(Model):
        rule = CharField(max_length=40)
        org_unit = ForeignKeyField(OrgUnit, null=True, on_delete='RESTRICT')
        enabled = BooleanField(default=True)
        target = IntegerField()
        effective_from = DateField()
        note = CharField(max_length=200, default='')
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'rule_setting'
            indexes = ((('rule', 'org_unit', 'effective_from'), False),)
    db.create_tables([RuleSetting])
    # The default rules, district-wide, since always (kept as data: an admin
    # adds a row to change a target from a date on).
    import datetime
    defaults = [("staff_weekly", True, 4), ("enterprise_half_month", True, 2),
                ("district_third_thursday", True, 1), ("key_quarterly", True, 100),
                ("coverage_yearly", True, 100), ("unionized_monthly", False, 100)]
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
    for rule, enabled, target in defaults:
        RuleSetting.create(rule=rule, org_unit=None, enabled=enabled, target=target,
                           effective_from=datetime.date(2000, 1, 1), note="默认规则",
                           created_at=now)


def down(migrator, db):
    migrator.migrate(migrator.drop_table('rule_setting'))
