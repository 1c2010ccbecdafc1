"""推送接口: webhook endpoints per org unit and their deliveries (the outbox a delivery round sends
from). Declared in crm/webhooks/models.py."""
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class OrgUnit(Model):
        class Meta:
            database = db
            table_name = 'org_unit'

    class User(Model):
        class Meta:
            database = db
            table_name = 'app_user'

    class WebhookEndpoint(Model):
        org_unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        name = CharField(max_length=100)
        url = CharField(max_length=500)
        events = CharField(max_length=300, default='')
        format = CharField(max_length=10, default='json')
        secret = CharField(max_length=64)
        active = BooleanField(default=True)
        created_by = ForeignKeyField(User, null=True, on_delete='RESTRICT')
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'webhook_endpoint'
            indexes = ((('active', 'org_unit'), False),)

    class WebhookDelivery(Model):
        endpoint = ForeignKeyField(WebhookEndpoint, on_delete='RESTRICT')
        event = CharField(max_length=40)
        event_id = CharField(max_length=36, unique=True)
        payload = TextField()
        status = CharField(max_length=10, default='pending')
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField()
        claimed_until = DateTimeField(null=True)
        claim = CharField(max_length=32, default='')
        last_status_code = IntegerField(null=True)
        last_error = CharField(max_length=200, default='')
        created_at = DateTimeField()
        delivered_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = 'webhook_delivery'
            indexes = ((('status', 'next_attempt_at'), False), (('endpoint', 'id'), False))
    db.create_tables([WebhookEndpoint, WebhookDelivery])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('webhook_delivery'), migrator.drop_table('webhook_endpoint'))
