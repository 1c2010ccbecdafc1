"""后台任务: the job table (what a worker runs, its progress, its result's file). Declared in
crm/jobs/models.py."""
from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class Job(Model):
        kind = CharField(max_length=40)
        params = TextField(default='{}')
        user = ForeignKeyField(User, on_delete='RESTRICT')
        state = CharField(max_length=10, default='queued')
        progress = IntegerField(default=0)
        progress_text = CharField(max_length=200, default='')
        attempts = IntegerField(default=0)
        max_attempts = IntegerField(default=3)
        error = CharField(max_length=500, default='')
        not_before = DateTimeField(null=True)
        lease = CharField(max_length=32, default='')
        lease_until = DateTimeField(null=True)
        result_path = CharField(max_length=200, default='')
        result_name = CharField(max_length=200, default='')
        result_type = CharField(max_length=100, default='')
        result_size = IntegerField(default=0)
        expires_at = DateTimeField(null=True)
        created_at = DateTimeField()
        started_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'job'
            indexes = ((('user', 'id'), False), (('state', 'lease_until'), False))
    db.create_tables([Job])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('job'))
