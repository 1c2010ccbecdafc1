"""Imports as jobs: an import batch's current job (reading its header, its analysis, then its
commit), the stored analysis its preview shows and the first rows its mapping page shows. Declared in crm/imports/models.py."""
from peewee import ForeignKeyField, Model, TextField


def up(migrator, db):
    class Job(Model):
        class Meta:
            database = db
            table_name = 'job'

    migrator.migrate(
        migrator.add_column('import_batch', 'job_id', ForeignKeyField(Job, null=True, on_delete='SET NULL',
                                                                    field=Job.id)),
        migrator.add_column('import_batch', 'analysis', TextField(default='')),
        migrator.add_column('import_batch', 'sample', TextField(default='[]')),
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_index('import_batch', 'import_batch_job_id'),
                     migrator.drop_column('import_batch', 'sample'),
                     migrator.drop_column('import_batch', 'analysis'),
                     migrator.drop_column('import_batch', 'job_id'))
