"""Imports of enterprise ledgers: who imported which file when, the column mapping and the counts
(ImportBatch); the files it touched name it in their change history.

Generated with playhouse.migrations.template() from the models.
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

    class ImportBatch(Model):
        kind = CharField(max_length=20, default='enterprises')
        file_name = CharField(max_length=200)
        stored_path = CharField(max_length=400)
        user = ForeignKeyField(User, on_delete='RESTRICT')
        scope_unit = ForeignKeyField(OrgUnit, null=True, on_delete='RESTRICT')
        org_unit = ForeignKeyField(OrgUnit, null=True, on_delete='RESTRICT')
        on_duplicate = CharField(max_length=10, default='update')
        header_row = IntegerField(null=True)
        headers = TextField(default='[]')
        mapping = TextField(default='{}')
        status = CharField(max_length=20, default='uploaded')
        valid_only = BooleanField(default=False)
        rows_total = IntegerField(default=0)
        created = IntegerField(default=0)
        updated = IntegerField(default=0)
        unchanged = IntegerField(default=0)
        duplicates = IntegerField(default=0)
        errors = IntegerField(default=0)
        message = TextField(default='')
        created_at = DateTimeField()
        finished_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'import_batch'
    db.create_tables([ImportBatch])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('import_batch'))
