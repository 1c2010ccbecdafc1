"""The form-key ledger: one row per saved submission of a creating form (its key, the fingerprint
of its content, the record it made), so that a key re-sent with the same content finds its record
and a key re-sent with other content is refused. Declared in crm/sync/models.py.

The keys of records saved before it are carried over with an empty fingerprint (their content was
not kept): a re-send of such a key finds its record, as it did before."""
from peewee import *

KINDS = (("visit", "visit"), ("meeting", "meeting"), ("point", "outreach_point"),
         ("training", "training"), ("activity", "service_activity"))


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class FormSubmission(Model):
        key = CharField(max_length=64, unique=True)
        kind = CharField(max_length=20)
        fingerprint = CharField(max_length=64)
        user = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        record_id = IntegerField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'form_submission'
            indexes = ((('user', 'created_at'), False),)
    db.create_tables([FormSubmission])
    for kind, table in KINDS:
        db.execute_sql(
            f"INSERT INTO form_submission (key, kind, fingerprint, user_id, record_id, created_at) "
            f"SELECT form_key, '{kind}', '', created_by_id, id, created_at FROM {table} "
            f"WHERE form_key IS NOT NULL")
    # A follow-up batch is KEY.0, KEY.1 …; a single task is KEY.
    p = db.param
    db.execute_sql(
        "INSERT INTO form_submission (key, kind, fingerprint, user_id, record_id, created_at) "
        "SELECT form_key, 'followup', '', created_by_id, id, created_at FROM follow_up "
        f"WHERE form_key IS NOT NULL AND form_key NOT LIKE {p}", ("%.%",))
    db.execute_sql(
        "INSERT INTO form_submission (key, kind, fingerprint, user_id, record_id, created_at) "
        "SELECT substr(form_key, 1, length(form_key) - 2), 'followup', '', created_by_id, id, created_at "
        f"FROM follow_up WHERE form_key LIKE {p}", ("%.0",))


def down(migrator, db):
    migrator.migrate(migrator.drop_table('form_submission'))
