import json

from peewee import (BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField,
                    TextField)

from crm.auth.models import User
from crm.common.choices import Choices
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.enterprises.models import Enterprise
from crm.founding import stages


class FoundingEvent(BaseModel):
    """One move on the founding track: from → to, when, who, why, with what evidence."""
    enterprise = ForeignKeyField(Enterprise, backref="founding_events", on_delete="RESTRICT")
    from_stage = CharField(max_length=20, null=True)
    to_stage = CharField(max_length=20)
    kind = CharField(max_length=10)
    occurred_on = DateField()
    recorded_at = DateTimeField(default=utcnow)
    user = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    note = TextField(default="")
    evidence = TextField(default="{}")  # JSON: the stage's evidence fields
    # The field-work record that made this move (a visit, a meeting), when there is one.
    record_kind = CharField(max_length=20, default="")
    record_id = IntegerField(null=True)

    class Meta:
        indexes = ((("enterprise", "occurred_on"), False), (("occurred_on", "id"), False))

    @property
    def evidence_items(self):
        """[(label, value)] in the order the stage asks for them."""
        data = json.loads(self.evidence or "{}")
        stage = stages.BY_KEY.get(self.to_stage)
        items = [(e.label, data[e.name]) for e in (stage.evidence if stage else ()) if data.get(e.name)]
        if data.get("text"):
            items.append(("佐证材料", data["text"]))
        return items


DOCUMENT_KINDS = Choices(("request", "建会请示"), ("approval", "批复"), ("assembly", "会员大会决议"),
                         ("election", "选举结果"), ("other", "其他"))
# What each stored content type is saved as, and the extension its download carries.
DOCUMENT_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class FoundingDocument(BaseModel):
    """A scanned document of a founding step (建会请示, 批复 …): PDF, JPEG or PNG.

    Uploaded with its form, it is pending (event NULL, tied to the form's key and its uploader)
    until the form is saved. Removing one archives it: the row and the file stay. sha256 and
    size_bytes describe the stored file (what a download and a backup give back)."""
    event = ForeignKeyField(FoundingEvent, null=True, backref="documents", on_delete="RESTRICT")
    enterprise = ForeignKeyField(Enterprise, backref="+", on_delete="RESTRICT")
    form_key = CharField(max_length=64, index=True)
    kind = CharField(max_length=20, default="other")  # a DOCUMENT_KINDS key
    title = CharField(max_length=100, default="")
    original_name = CharField(max_length=200, default="")
    stored_name = CharField(max_length=64, unique=True)  # random; its key in the storage is founding/<2>/<name><ext>
    content_type = CharField(max_length=50)
    sha256 = CharField(max_length=64, index=True)
    size_bytes = IntegerField()
    uploaded_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    uploaded_at = DateTimeField(default=utcnow)
    archived = BooleanField(default=False)
    archived_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    archived_at = DateTimeField(null=True)

    class Meta:
        table_name = "founding_document"

    @property
    def kind_label(self):
        return DOCUMENT_KINDS.label(self.kind)

    @property
    def extension(self):
        return DOCUMENT_TYPES.get(self.content_type, "")

    @property
    def type_label(self):
        return {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}.get(self.content_type, "")

    @property
    def download_name(self):
        """The original name, with the extension of what the file really is (a PNG sent as
        "批复.pdf" downloads as "批复.png")."""
        name = self.original_name or self.kind_label
        stem, dot, ext = name.rpartition(".")
        known = {".pdf": ".pdf", ".jpg": ".jpg", ".jpeg": ".jpg", ".png": ".png"}
        if dot and known.get(f".{ext.lower()}") == self.extension:
            return name
        if dot and f".{ext.lower()}" in known:
            name = stem
        return name + self.extension

    @property
    def size_label(self):
        if self.size_bytes >= 1024 * 1024:
            return f"{self.size_bytes / 1024 / 1024:.1f} MB"
        return f"{max(1, round(self.size_bytes / 1024))} KB"
