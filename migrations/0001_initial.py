"""Initial schema: org units, users, login throttle, enterprise files, contacts, change log,
founding events; plus the substring-search index of each backend (SQLite FTS5 trigram,
PostgreSQL pg_trgm).

Generated with playhouse.migrations.template() from the models; Python-side defaults
(utcnow) need no SQL.
"""
from peewee import *


def up(migrator, db):
    class OrgUnit(Model):
        code = CharField(unique=True, max_length=64)
        name = CharField(unique=True, max_length=100)
        kind = CharField(max_length=20)
        parent = ForeignKeyField('self', null=True, on_delete='RESTRICT')
        path = CharField(index=True)
        depth = IntegerField(default=0)
        active = BooleanField(default=True)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'org_unit'
    db.create_tables([OrgUnit])

    class User(Model):
        username = CharField(unique=True, max_length=64)
        name = CharField(max_length=64)
        role = CharField(max_length=16)
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        password_hash = CharField()
        active = BooleanField(default=True)
        session_version = IntegerField(default=1)
        created_at = DateTimeField()
        password_changed_at = DateTimeField()
        last_login_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'app_user'
    db.create_tables([User])

    class Enterprise(Model):
        name = CharField(max_length=200)
        name_norm = CharField(index=True, max_length=200)
        credit_code = CharField(unique=True, null=True, max_length=18)
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        address = CharField(max_length=300, default='')
        area = CharField(index=True, max_length=100, default='')
        industry = CharField(index=True, max_length=2, default='')
        kind = CharField(max_length=20, default='')
        category = CharField(index=True, max_length=20, default='enterprise')
        employees = IntegerField(null=True)
        new_form_workers = IntegerField(null=True)
        legal_rep = CharField(max_length=64, default='')
        is_key = BooleanField(index=True, default=False)
        party_org = CharField(max_length=20, default='')
        stage = CharField(index=True, max_length=20, default='not_contacted')
        stage_changed_at = DateTimeField()
        union_name = CharField(max_length=200, default='')
        union_founded_on = DateField(null=True)
        union_chair = CharField(max_length=64, default='')
        member_count = IntegerField(null=True)
        union_credit_code = CharField(max_length=18, default='')
        union_term_end = DateField(null=True)
        union_form = CharField(max_length=20, default='')
        status = CharField(index=True, max_length=20, default='normal')
        tags = CharField(max_length=300, default='')
        notes = TextField(default='')
        archived = BooleanField(default=False)
        archived_at = DateTimeField(null=True)
        archived_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        version = IntegerField(default=1)
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        updated_at = DateTimeField(index=True)
        updated_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        search_text = TextField(default='')
        class Meta:
            database = db
            table_name = 'enterprise'
            indexes = ((('org_unit', 'archived', 'name'), False),)
    db.create_tables([Enterprise])

    class Contact(Model):
        enterprise = ForeignKeyField(Enterprise, on_delete='RESTRICT')
        name = CharField(max_length=64)
        title = CharField(max_length=64, default='')
        phone = CharField(max_length=32, default='')
        wechat = CharField(max_length=64, default='')
        is_primary = BooleanField(default=False)
        archived = BooleanField(default=False)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'contact'
    db.create_tables([Contact])

    class EnterpriseChange(Model):
        enterprise = ForeignKeyField(Enterprise, on_delete='RESTRICT')
        user = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        at = DateTimeField()
        version = IntegerField()
        field = CharField(max_length=40)
        old_value = TextField(default='')
        new_value = TextField(default='')
        source = CharField(max_length=40, default='edit')
        class Meta:
            database = db
            table_name = 'enterprise_change'
            indexes = ((('enterprise', 'at'), False),)
    db.create_tables([EnterpriseChange])

    class FoundingEvent(Model):
        enterprise = ForeignKeyField(Enterprise, on_delete='RESTRICT')
        from_stage = CharField(null=True, max_length=20)
        to_stage = CharField(max_length=20)
        kind = CharField(max_length=10)
        occurred_on = DateField()
        recorded_at = DateTimeField()
        user = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        note = TextField(default='')
        evidence = TextField(default='{}')
        class Meta:
            database = db
            table_name = 'founding_event'
            indexes = ((('enterprise', 'occurred_on'), False),)
    db.create_tables([FoundingEvent])

    _search_index(db)

    class LoginThrottle(Model):
        username = CharField(unique=True, max_length=64)
        failures = IntegerField(default=0)
        locked_until = DateTimeField(null=True)
        last_failure_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'login_throttle'
    db.create_tables([LoginThrottle])


def down(migrator, db):
    if isinstance(db, SqliteDatabase):
        db.execute_sql('DROP TABLE IF EXISTS enterprise_fts')
    migrator.migrate(migrator.drop_table('login_throttle'))
    migrator.migrate(migrator.drop_table('founding_event'))
    migrator.migrate(migrator.drop_table('enterprise_change'))
    migrator.migrate(migrator.drop_table('contact'))
    migrator.migrate(migrator.drop_table('enterprise'))
    migrator.migrate(migrator.drop_table('app_user'))
    migrator.migrate(migrator.drop_table('org_unit'))


# The search index is backend-specific and lives outside the models; crm/enterprises/search.py
# reads it and tests/test_migrations.py checks that it exists.
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE enterprise_fts USING fts5(search_text, content='enterprise', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER enterprise_fts_ai AFTER INSERT ON enterprise BEGIN "
    "INSERT INTO enterprise_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER enterprise_fts_ad AFTER DELETE ON enterprise BEGIN "
    "INSERT INTO enterprise_fts(enterprise_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER enterprise_fts_au AFTER UPDATE OF search_text ON enterprise BEGIN "
    "INSERT INTO enterprise_fts(enterprise_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO enterprise_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX enterprise_search_trgm ON enterprise USING gin (search_text gin_trgm_ops)",
]


def _search_index(db):
    if isinstance(db, SqliteDatabase):
        statements = SQLITE_SEARCH
    elif isinstance(db, PostgresqlDatabase):
        statements = POSTGRES_SEARCH
    else:
        statements = []
    for sql in statements:
        db.execute_sql(sql)
