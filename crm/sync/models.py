from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField

from crm.auth.models import User
from crm.common.timeutil import utcnow
from crm.db import BaseModel


class FormSubmission(BaseModel):
    """One saved submission of a creating form: its key, the fingerprint of what it sent, and the
    record it made. The unique key decides a race between two sends of one form."""
    key = CharField(max_length=64, unique=True)
    kind = CharField(max_length=20)  # visit, meeting, point, training, activity, followup, enterprise, contact, stage
    fingerprint = CharField(max_length=64)  # SHA-256 of the normalised content; "" when unknown
    user = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    record_id = IntegerField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "form_submission"
        indexes = ((("user", "created_at"), False),)
