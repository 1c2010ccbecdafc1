from peewee import CharField, DateField, ForeignKeyField, TextField

from crm.auth.models import User
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import NEED_CATEGORIES, NEED_RESOLVED, NEED_STATUSES
from crm.fieldwork.models import FieldWorkRecord
from crm.meetings.models import Meeting
from crm.org.models import OrgUnit
from crm.visits.models import Visit

NOTE_MAX = 2000  # the longest note (说明) a need takes


class Need(FieldWorkRecord):
    """企业需求意见: raised at a visit or a meeting, tracked until resolved."""
    org_unit = ForeignKeyField(OrgUnit, backref="needs", on_delete="RESTRICT")
    enterprise = ForeignKeyField(Enterprise, null=True, backref="needs", on_delete="RESTRICT")
    visit = ForeignKeyField(Visit, null=True, backref="needs", on_delete="RESTRICT")
    meeting = ForeignKeyField(Meeting, null=True, backref="needs", on_delete="RESTRICT")
    category = CharField(max_length=20)
    detail = TextField(default="")
    raised_on = DateField(index=True)
    status = CharField(max_length=20, default="open")
    resolution = TextField(default="")
    resolved_on = DateField(null=True)
    resolved_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")

    class Meta:
        indexes = ((("org_unit", "status", "raised_on"), False), (("enterprise", "status"), False))

    @property
    def status_label(self):
        return NEED_STATUSES.label(self.status)

    @property
    def status_class(self):
        return NEED_STATUSES.badge(self.status)

    @property
    def is_resolved(self):
        return self.status == NEED_RESOLVED

    @property
    def category_label(self):
        return NEED_CATEGORIES.label(self.category)
