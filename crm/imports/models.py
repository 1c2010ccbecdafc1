from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from crm.auth.models import User
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.jobs.models import Job
from crm.org.models import OrgUnit


class ImportBatch(BaseModel):
    """One import of a ledger file: who, when, which file, the column mapping chosen, and what it did.
    The files it created or changed say so in their 变更记录 (source "import:<id>")."""
    kind = CharField(max_length=20, default="enterprises")
    file_name = CharField(max_length=200)
    stored_path = CharField(max_length=400)
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    # The uploader's unit at the time: who may see this import (and the rows of its file).
    scope_unit = ForeignKeyField(OrgUnit, null=True, backref="+", on_delete="RESTRICT")
    org_unit = ForeignKeyField(OrgUnit, null=True, backref="+", on_delete="RESTRICT")  # the default unit
    on_duplicate = CharField(max_length=10, default="update")
    header_row = IntegerField(null=True)
    headers = TextField(default="[]")
    mapping = TextField(default="{}")
    status = CharField(max_length=20, default="uploaded")  # uploaded | running | committed | failed
    valid_only = BooleanField(default=False)
    rows_total = IntegerField(default=0)
    created = IntegerField(default=0)
    updated = IntegerField(default=0)
    unchanged = IntegerField(default=0)
    duplicates = IntegerField(default=0)
    errors = IntegerField(default=0)
    message = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    # Its current job (后台任务): reading its header, the analysis behind the preview, the import.
    job = ForeignKeyField(Job, null=True, backref="+", on_delete="SET NULL")
    # The analysis the preview shows (JSON: the mapping it was made for, counts, the rows shown).
    analysis = TextField(default="")
    sample = TextField(default="[]")  # the first rows under the header, as text (the mapping page)

    @property
    def is_running(self) -> bool:
        return self.status == "running"

    @property
    def has_failed(self) -> bool:
        return self.status == "failed"
