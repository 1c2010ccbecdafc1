"""Field work: visits (with visitors and comments), outreach points, communication meetings (with
new members per group and participating enterprises), trainings, service activities, needs,
photos, and the history of every field-work record; each enterprise's last contact date and the
record behind a founding move.

Generated with playhouse.migrations.template() from the models; Python-side defaults
(utcnow) need no SQL.
"""
from peewee import *


def up(migrator, db):
    class Enterprise(Model):
        class Meta:
            database = db
            table_name = 'enterprise'

    class OrgUnit(Model):
        class Meta:
            database = db
            table_name = 'org_unit'

    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class OutreachPoint(Model):
        form_key = CharField(unique=True, null=True, max_length=64)
        version = IntegerField(default=1)
        archived = BooleanField(default=False)
        archived_at = DateTimeField(null=True)
        archived_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        updated_at = DateTimeField()
        updated_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        name = CharField(max_length=100)
        address = CharField(max_length=300, default='')
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        kind = CharField(max_length=20)
        schedule = CharField(max_length=100, default='')
        target_groups = CharField(max_length=200, default='')
        notes = TextField(default='')
        class Meta:
            database = db
            table_name = 'outreach_point'
    db.create_tables([OutreachPoint])

    class ServiceActivity(Model):
        form_key = CharField(unique=True, null=True, max_length=64)
        version = IntegerField(default=1)
        archived = BooleanField(default=False)
        archived_at = DateTimeField(null=True)
        archived_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        updated_at = DateTimeField()
        updated_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        title = CharField(max_length=200)
        services = CharField(max_length=300, default='')
        held_on = DateField(index=True)
        place = CharField(max_length=200, default='')
        point = ForeignKeyField(OutreachPoint, null=True, on_delete='RESTRICT')
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        target_groups = CharField(max_length=200, default='')
        partners = CharField(max_length=200, default='')
        participants = IntegerField(default=0)
        new_members = IntegerField(default=0)
        summary = TextField(default='')
        class Meta:
            database = db
            table_name = 'service_activity'
            indexes = ((('org_unit', 'held_on'), False),)
    db.create_tables([ServiceActivity])

    class ActivityEnterprise(Model):
        activity = ForeignKeyField(ServiceActivity, on_delete='CASCADE')
        enterprise = ForeignKeyField(Enterprise, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'activity_enterprise'
            indexes = ((('activity', 'enterprise'), True),)
    db.create_tables([ActivityEnterprise])

    class Meeting(Model):
        form_key = CharField(unique=True, null=True, max_length=64)
        version = IntegerField(default=1)
        archived = BooleanField(default=False)
        archived_at = DateTimeField(null=True)
        archived_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        updated_at = DateTimeField()
        updated_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        kind = CharField(max_length=20)
        level = CharField(max_length=20, default='routine')
        format = CharField(max_length=20, default='face')
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        held_on = DateField(index=True)
        start_time = TimeField(null=True)
        title = CharField(max_length=200, default='')
        venue = CharField(max_length=200, default='')
        point = ForeignKeyField(OutreachPoint, null=True, on_delete='RESTRICT')
        target_groups = CharField(max_length=200, default='')
        attendees = IntegerField(default=0)
        new_members = IntegerField(default=0)
        cards = IntegerField(default=0)
        services = CharField(max_length=300, default='')
        partners = CharField(max_length=200, default='')
        summary = TextField()
        class Meta:
            database = db
            table_name = 'meeting'
            indexes = ((('org_unit', 'held_on'), False), (('kind', 'held_on'), False))
    db.create_tables([Meeting])

    class MeetingEnterprise(Model):
        meeting = ForeignKeyField(Meeting, on_delete='CASCADE')
        enterprise = ForeignKeyField(Enterprise, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'meeting_enterprise'
            indexes = ((('meeting', 'enterprise'), True),)
    db.create_tables([MeetingEnterprise])

    class MeetingNewMembers(Model):
        meeting = ForeignKeyField(Meeting, on_delete='CASCADE')
        group = CharField(max_length=20)
        count = IntegerField()
        class Meta:
            database = db
            table_name = 'meeting_new_members'
            indexes = ((('meeting', 'group'), True),)
    db.create_tables([MeetingNewMembers])

    class Visit(Model):
        form_key = CharField(unique=True, null=True, max_length=64)
        version = IntegerField(default=1)
        archived = BooleanField(default=False)
        archived_at = DateTimeField(null=True)
        archived_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        updated_at = DateTimeField()
        updated_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        enterprise = ForeignKeyField(Enterprise, on_delete='RESTRICT')
        visited_on = DateField(index=True)
        visit_time = TimeField(null=True)
        kind = CharField(max_length=20)
        purposes = CharField(max_length=200, default='')
        contacts_met = CharField(max_length=300, default='')
        summary = TextField()
        outcome = TextField(default='')
        next_step = CharField(max_length=300, default='')
        next_step_on = DateField(null=True)
        latitude = FloatField(null=True)
        longitude = FloatField(null=True)
        accuracy_m = FloatField(null=True)
        class Meta:
            database = db
            table_name = 'visit'
            indexes = ((('enterprise', 'visited_on'), False),)
    db.create_tables([Visit])

    class Need(Model):
        form_key = CharField(unique=True, null=True, max_length=64)
        version = IntegerField(default=1)
        archived = BooleanField(default=False)
        archived_at = DateTimeField(null=True)
        archived_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        updated_at = DateTimeField()
        updated_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        enterprise = ForeignKeyField(Enterprise, null=True, on_delete='RESTRICT')
        visit = ForeignKeyField(Visit, null=True, on_delete='RESTRICT')
        meeting = ForeignKeyField(Meeting, null=True, on_delete='RESTRICT')
        category = CharField(max_length=20)
        detail = TextField(default='')
        raised_on = DateField(index=True)
        status = CharField(max_length=20, default='open')
        resolution = TextField(default='')
        resolved_on = DateField(null=True)
        resolved_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'need'
            indexes = ((('org_unit', 'status', 'raised_on'), False), (('enterprise', 'status'), False))
    db.create_tables([Need])

    class Photo(Model):
        kind = CharField(null=True, max_length=20)
        record_id = IntegerField(null=True)
        form_key = CharField(index=True, max_length=64)
        stored_name = CharField(unique=True, max_length=64)
        original_name = CharField(max_length=200, default='')
        sha256 = CharField(index=True, max_length=64)
        size_bytes = IntegerField()
        width = IntegerField()
        height = IntegerField()
        uploaded_by = ForeignKeyField(User, on_delete='RESTRICT')
        uploaded_at = DateTimeField()
        archived = BooleanField(default=False)
        class Meta:
            database = db
            table_name = 'photo'
            indexes = ((('kind', 'record_id'), False),)
    db.create_tables([Photo])

    class RecordChange(Model):
        kind = CharField(max_length=20)
        record_id = IntegerField()
        user = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        at = DateTimeField()
        version = IntegerField()
        field = CharField(max_length=40)
        old_value = TextField(default='')
        new_value = TextField(default='')
        class Meta:
            database = db
            table_name = 'record_change'
            indexes = ((('kind', 'record_id', 'at'), False),)
    db.create_tables([RecordChange])

    class Training(Model):
        form_key = CharField(unique=True, null=True, max_length=64)
        version = IntegerField(default=1)
        archived = BooleanField(default=False)
        archived_at = DateTimeField(null=True)
        archived_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        created_at = DateTimeField()
        created_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        updated_at = DateTimeField()
        updated_by = ForeignKeyField(User, field=User.id, null=True, on_delete='RESTRICT')
        title = CharField(max_length=200)
        category = CharField(max_length=20)
        held_on = DateField(index=True)
        hours = DecimalField(null=True, max_digits=5, decimal_places=1)
        trainer = CharField(max_length=100, default='')
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        participants = IntegerField(default=0)
        summary = TextField()
        class Meta:
            database = db
            table_name = 'training'
            indexes = ((('org_unit', 'held_on'), False),)
    db.create_tables([Training])

    class TrainingEnterprise(Model):
        training = ForeignKeyField(Training, on_delete='CASCADE')
        enterprise = ForeignKeyField(Enterprise, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'training_enterprise'
            indexes = ((('training', 'enterprise'), True),)
    db.create_tables([TrainingEnterprise])

    class VisitComment(Model):
        visit = ForeignKeyField(Visit, on_delete='RESTRICT')
        user = ForeignKeyField(User, on_delete='RESTRICT')
        at = DateTimeField()
        text = TextField()
        class Meta:
            database = db
            table_name = 'visit_comment'
    db.create_tables([VisitComment])

    class VisitVisitor(Model):
        visit = ForeignKeyField(Visit, on_delete='CASCADE')
        user = ForeignKeyField(User, on_delete='RESTRICT')
        class Meta:
            database = db
            table_name = 'visit_visitor'
            indexes = ((('visit', 'user'), True),)
    db.create_tables([VisitVisitor])

    migrator.migrate(migrator.add_column('enterprise', 'last_contact_on', DateField(index=True, null=True)))
    migrator.migrate(migrator.add_column('founding_event', 'record_kind', CharField(max_length=20, default='')))
    migrator.migrate(migrator.add_column('founding_event', 'record_id', IntegerField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('enterprise', 'enterprise_last_contact_on'))
    migrator.migrate(migrator.drop_column('founding_event', 'record_id'))
    migrator.migrate(migrator.drop_column('founding_event', 'record_kind'))
    migrator.migrate(migrator.drop_column('enterprise', 'last_contact_on'))
    migrator.migrate(migrator.drop_table('visit_visitor'))
    migrator.migrate(migrator.drop_table('visit_comment'))
    migrator.migrate(migrator.drop_table('training_enterprise'))
    migrator.migrate(migrator.drop_table('training'))
    migrator.migrate(migrator.drop_table('record_change'))
    migrator.migrate(migrator.drop_table('photo'))
    migrator.migrate(migrator.drop_table('need'))
    migrator.migrate(migrator.drop_table('visit'))
    migrator.migrate(migrator.drop_table('meeting_new_members'))
    migrator.migrate(migrator.drop_table('meeting_enterprise'))
    migrator.migrate(migrator.drop_table('meeting'))
    migrator.migrate(migrator.drop_table('activity_enterprise'))
    migrator.migrate(migrator.drop_table('service_activity'))
    migrator.migrate(migrator.drop_table('outreach_point'))

