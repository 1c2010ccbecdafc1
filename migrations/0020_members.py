"""会员 and their sign-ups (member, member_signup, signup_throttle; declared in crm/members/models.py).

A meeting's 参加人数 and 新入会人数 now add the confirmed sign-ups to a typed count of paper forms;
an activity's 参与人数 and 新入会人数 add its check-ins. The counts typed before are paper counts:
each is copied into its paper column, so every past meeting and activity counts what it did.
Also: a meeting's own sign-up cap, an outreach point's link round, an activity's sign-ups
(open, capacity). Columns are added by ALTER TABLE itself (see migration 0016)."""
from peewee import *

COLUMNS = [
    ("meeting", "paper_attendees", "INTEGER NOT NULL DEFAULT 0"),
    ("meeting", "signup_cap", "INTEGER"),
    ("meeting_new_members", "paper", "INTEGER NOT NULL DEFAULT 0"),
    ("outreach_point", "link_round", "INTEGER NOT NULL DEFAULT 1"),
    ("outreach_point", "link_issued_at", "TIMESTAMP"),
    ("service_activity", "paper_participants", "INTEGER NOT NULL DEFAULT 0"),
    ("service_activity", "paper_new_members", "INTEGER NOT NULL DEFAULT 0"),
    ("service_activity", "signup_open", "BOOLEAN NOT NULL DEFAULT FALSE"),
    ("service_activity", "capacity", "INTEGER"),
]


def up(migrator, db):
    def ref(name):
        class Meta:
            database = db
            table_name = name
        return type(name.title(), (Model,), {"Meta": Meta})

    OrgUnit, User, Enterprise = ref("org_unit"), ref("app_user"), ref("enterprise")
    Meeting, OutreachPoint, ServiceActivity = ref("meeting"), ref("outreach_point"), ref("service_activity")
    for table, column, kind in COLUMNS:
        if isinstance(db, SqliteDatabase):
            kind = kind.replace("TIMESTAMP", "DATETIME")
        db.execute_sql(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    db.execute_sql("UPDATE meeting SET paper_attendees = attendees")
    db.execute_sql("UPDATE meeting_new_members SET paper = count")
    db.execute_sql("UPDATE service_activity SET paper_participants = participants, paper_new_members = new_members")

    class Member(Model):
        name = CharField(max_length=50)
        phone_secret = TextField(default='')
        phone_key = CharField(max_length=64, null=True, unique=True)
        phone_mask = CharField(max_length=16, default='')
        group = CharField(max_length=20)
        platform = CharField(max_length=20, default='')
        employer = CharField(max_length=100, default='')
        enterprise = ForeignKeyField(Enterprise, null=True, on_delete='SET NULL')
        station = CharField(max_length=100, default='')
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        state = CharField(max_length=10, default='pending')
        joined_at = DateTimeField()
        card_issued = BooleanField(default=False)
        card_issued_at = DateTimeField(null=True)
        consent_version = CharField(max_length=20, default='')
        consent_at = DateTimeField(null=True)
        archived = BooleanField(default=False)
        archived_at = DateTimeField(null=True)
        archived_reason = CharField(max_length=200, default='')
        erased_at = DateTimeField(null=True)
        erased_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        created_at = DateTimeField()
        updated_at = DateTimeField()
        version = IntegerField(default=1)

        class Meta:
            database = db
            table_name = 'member'
            indexes = ((('org_unit', 'joined_at'), False),)

    class SignUp(Model):
        member = ForeignKeyField(Member, on_delete='RESTRICT')
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        meeting = ForeignKeyField(Meeting, null=True, on_delete='RESTRICT')
        point = ForeignKeyField(OutreachPoint, null=True, on_delete='RESTRICT')
        activity = ForeignKeyField(ServiceActivity, null=True, on_delete='RESTRICT')
        day = DateField()
        signed_at = DateTimeField()
        group = CharField(max_length=20)
        is_new = BooleanField(default=False)
        state = CharField(max_length=12)
        counted = BooleanField(default=False)
        via = CharField(max_length=10, default='qr')
        decided_at = DateTimeField(null=True)
        decided_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        checked_in_at = DateTimeField(null=True)
        checked_in_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        cancelled_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'member_signup'
            indexes = ((('meeting', 'member'), True), (('activity', 'member'), True),
                       (('point', 'member', 'day'), True), (('member', 'signed_at'), False),
                       (('org_unit', 'day'), False))

    class SignUpThrottle(Model):
        key = CharField(max_length=64, unique=True)
        window_start = DateTimeField()
        count = IntegerField(default=0)

        class Meta:
            database = db
            table_name = 'sign_up_throttle'
    db.create_tables([Member, SignUp, SignUpThrottle])


def down(migrator, db):
    for table in ('sign_up_throttle', 'member_signup', 'member'):
        migrator.migrate(migrator.drop_table(table))
    for table, column, _ in reversed(COLUMNS):
        migrator.migrate(migrator.drop_column(table, column))
