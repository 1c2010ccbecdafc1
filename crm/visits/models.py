from peewee import CharField, DateField, DateTimeField, FloatField, ForeignKeyField, TextField, TimeField

from crm.auth.models import User
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.enterprises.models import Contact, Enterprise
from crm.fieldwork.models import FieldWorkRecord
from crm.org.models import OrgUnit


class Visit(FieldWorkRecord):
    """走访记录: one enterprise, one day, one or more visitors."""
    enterprise = ForeignKeyField(Enterprise, backref="visits", on_delete="RESTRICT")
    # The enterprise's org unit, copied so that a unit's visits are read by one index in date order
    # (scoping and the ledgers). Set when the visit is saved and when its enterprise moves to
    # another unit (crm/visits/services.create_visit, crm/enterprises/services.update_enterprise).
    # Nullable only because SQLite cannot add a NOT NULL reference to an existing table (0009).
    org_unit = ForeignKeyField(OrgUnit, null=True, backref="+", on_delete="RESTRICT", index=False)
    visited_on = DateField(index=True)
    visit_time = TimeField(null=True)
    kind = CharField(max_length=20)
    purposes = CharField(max_length=200, default="")  # ",founding,policy,"
    contacts_met = CharField(max_length=300, default="")  # met, not among the contacts (VisitContact)
    summary = TextField()
    outcome = TextField(default="")
    next_step = CharField(max_length=300, default="")
    next_step_on = DateField(null=True)
    latitude = FloatField(null=True)
    longitude = FloatField(null=True)
    accuracy_m = FloatField(null=True)

    class Meta:
        # (enterprise, visited_on, archived): "a visit of this file in these days" (the enterprise
        # list's 本季度未走访) is answered from the index alone.
        indexes = ((("enterprise", "visited_on", "archived"), False),
                   (("org_unit", "archived", "visited_on", "id"), False),
                   (("visited_on", "id", "archived"), False))

    def save(self, *args, **kwargs):
        if self.org_unit_id is None and self.enterprise_id is not None:  # never saved without its unit
            self.org_unit_id = (Enterprise.select(Enterprise.org_unit)
                                .where(Enterprise.id == self.enterprise_id).tuples().get()[0])
        return super().save(*args, **kwargs)


class VisitVisitor(BaseModel):
    visit = ForeignKeyField(Visit, backref="visitor_rows", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT", index=False)

    class Meta:
        # (user, visit): a user's visit ids from the index alone (the home page's latest visits).
        indexes = ((("visit", "user"), True), (("user", "visit"), False))


class VisitContact(BaseModel):
    """见到的联系人: a contact of the visit's enterprise met at the visit (someone who is not a
    contact is named in the visit's `contacts_met`)."""
    visit = ForeignKeyField(Visit, backref="contact_rows", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="+", on_delete="RESTRICT", index=True)

    class Meta:
        indexes = ((("visit", "contact"), True),)


class VisitComment(BaseModel):
    """点评: a supervisor's comment on a visit."""
    visit = ForeignKeyField(Visit, backref="comments", on_delete="RESTRICT")
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow)
    text = TextField()
