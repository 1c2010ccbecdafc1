"""Scanned documents of the founding track (founding_document): PDF, JPEG or PNG files of a move
(建会请示, 批复, 会员大会决议, 选举结果 …), pending under their form's key until the move is
saved, archived rather than deleted. Declared in crm/founding/models.py."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class Enterprise(Model):
        class Meta:
            database = db
            table_name = 'enterprise'

    class FoundingEvent(Model):
        class Meta:
            database = db
            table_name = 'founding_event'

    class FoundingDocument(Model):
        event = ForeignKeyField(FoundingEvent, null=True, on_delete='RESTRICT')
        enterprise = ForeignKeyField(Enterprise, on_delete='RESTRICT')
        form_key = CharField(max_length=64, index=True)
        kind = CharField(max_length=20, default='other')
        title = CharField(max_length=100, default='')
        original_name = CharField(max_length=200, default='')
        stored_name = CharField(max_length=64, unique=True)
        content_type = CharField(max_length=50)
        sha256 = CharField(max_length=64, index=True)
        size_bytes = IntegerField()
        uploaded_by = ForeignKeyField(User, on_delete='RESTRICT')
        uploaded_at = DateTimeField()
        archived = BooleanField(default=False)
        archived_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        archived_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'founding_document'
    db.create_tables([FoundingDocument])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('founding_document'))
