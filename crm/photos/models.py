from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField

from crm.auth.models import User
from crm.common.timeutil import utcnow
from crm.db import BaseModel


class Photo(BaseModel):
    """A photo of a field-work record. Until its form is saved it is pending (kind is NULL) and
    belongs to the form's idempotency key and its uploader only."""
    kind = CharField(max_length=20, null=True)
    record_id = IntegerField(null=True)
    form_key = CharField(max_length=64, index=True)
    stored_name = CharField(max_length=64, unique=True)  # random; its key in the storage is <2>/<name>.jpg (and <2>/<name>_t.jpg)
    original_name = CharField(max_length=200, default="")
    sha256 = CharField(max_length=64, index=True)  # of the file as uploaded
    size_bytes = IntegerField()
    width = IntegerField()
    height = IntegerField()
    uploaded_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    uploaded_at = DateTimeField(default=utcnow)
    archived = BooleanField(default=False)

    class Meta:
        indexes = ((("kind", "record_id"), False),)
