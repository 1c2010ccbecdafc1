import json

from peewee import CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from crm.auth.models import User
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
