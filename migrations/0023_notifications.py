"""In-app notifications (notification: one per user and event, its key unique per user;
notification_opt_out: the kinds a user switched off) and the due date whose 逾期 notice a
follow-up has had (follow_up.overdue_noticed_on). Declared in crm/notifications/models.py and
crm/followups/models.py."""
from peewee import *


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class Notification(Model):
        user = ForeignKeyField(User, on_delete='RESTRICT', index=False)
        kind = CharField(max_length=20)
        key = CharField(max_length=100)
        title = CharField(max_length=200)
        text = CharField(max_length=300, default='')
        link = CharField(max_length=300, default='')
        created_at = DateTimeField()
        read_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'notification'
            indexes = ((('user', 'key'), True), (('user', 'read_at'), False), (('user', 'created_at'), False))

    class NotificationOptOut(Model):
        user = ForeignKeyField(User, on_delete='RESTRICT', index=False)
        kind = CharField(max_length=20)

        class Meta:
            database = db
            table_name = 'notification_opt_out'
            indexes = ((('user', 'kind'), True),)
    db.create_tables([Notification, NotificationOptOut])
    migrator.migrate(migrator.add_column('follow_up', 'overdue_noticed_on', DateField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column('follow_up', 'overdue_noticed_on'),
                     migrator.drop_table('notification_opt_out'),
                     migrator.drop_table('notification'))
