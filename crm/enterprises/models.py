from peewee import (SQL, BooleanField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField,
                    TextField, fn)

from crm.auth.models import User
from crm.common import channel
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.founding import stages
from crm.org.models import OrgUnit


class Enterprise(BaseModel):
    name = CharField(max_length=200)
    name_norm = CharField(max_length=200, index=True)  # near-duplicate key
    # The name without its legal form, branch words and region (crm/enterprises/similar.py): the
    # key of the similar-name check. Its index is a B-tree on SQLite (equal cores; the trigrams are in
    # enterprise_core_fts) and a pg_trgm GIN index on PostgreSQL (equal and similar cores).
    name_core = CharField(max_length=200, default="", index=True)
    credit_code = CharField(max_length=18, null=True, unique=True)
    org_unit = ForeignKeyField(OrgUnit, backref="enterprises", on_delete="RESTRICT")
    address = CharField(max_length=300, default="")
    area = CharField(max_length=100, default="", index=True)
    industry = CharField(max_length=2, default="")
    kind = CharField(max_length=20, default="")
    category = CharField(max_length=20, default="enterprise")
    employees = IntegerField(null=True)
    new_form_workers = IntegerField(null=True)
    legal_rep = CharField(max_length=64, default="")
    is_key = BooleanField(default=False)
    party_org = CharField(max_length=20, default="")
    stage = CharField(max_length=20, default=stages.FIRST)
    stage_changed_at = DateTimeField(default=utcnow)
    # The date the current stage was reached (the move's date, which may be earlier than when it
    # was recorded): how long a firm has stalled in a stage is counted from here.
    stage_since = DateField(null=True, index=True)
    # The last visit or meeting with this enterprise (kept by crm.fieldwork.contact).
    last_contact_on = DateField(null=True)
    # The last (unarchived) visit, also kept there: 本季度未走访 is a date compared, not a visit
    # looked up per file.
    last_visit_on = DateField(null=True)
    union_name = CharField(max_length=200, default="")
    union_founded_on = DateField(null=True)
    union_chair = CharField(max_length=64, default="")
    member_count = IntegerField(null=True)
    union_credit_code = CharField(max_length=18, default="")
    union_term_end = DateField(null=True, index=True)  # 换届提醒 (migration 0008)
    union_form = CharField(max_length=20, default="")
    status = CharField(max_length=20, default="normal")
    tags = CharField(max_length=300, default="")
    notes = TextField(default="")
    archived = BooleanField(default=False)
    archived_at = DateTimeField(null=True)
    archived_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    # Name, codes, address, area and contacts in one lower-cased column for substring search.
    search_text = TextField(default="")
    # The name's pinyin, full syllables and initials (crm.enterprises.pinyin), searched beside it.
    name_pinyin = TextField(default="")
    name_initials = TextField(default="")

    class Meta:
        indexes = (
            (("org_unit", "archived", "name"), False),
            # The list's filters, with `archived`: counting a filter's files reads the index alone.
            (("stage", "archived"), False),
            (("is_key", "archived"), False),
            (("industry", "archived"), False),
            (("category", "archived"), False),
            (("status", "archived"), False),
            (("last_contact_on", "archived"), False),
            (("last_visit_on", "archived"), False),
            (("union_founded_on", "archived"), False),
            # The list's sorts (crm/enterprises/queries.py SORTS), each ending in `archived`: a page
            # is read in sort order from the index alone, so page 1,000 only skips index entries.
            (("updated_at", "id", "archived"), False),
            # With the unit and the stage: a town's list by name, checked for both on each entry
            # read in name order, reads no row from the table (migration 0032).
            (("name", "id", "archived", "org_unit", "stage"), False),
            (("id", "archived"), False),
        )

    @property
    def union_status(self):
        return stages.union_status(self.stage)

    @property
    def stage_label(self):
        return stages.label(self.stage)


def employees_key():
    """职工人数 with blanks as -1 (no count is negative): the list's sort by head count (blanks
    last) and its "25 or more" filter, served by the index below on both backends."""
    return fn.COALESCE(Enterprise.employees, SQL("-1"))


Enterprise.add_index(Enterprise.index(employees_key(), Enterprise.id, Enterprise.archived,
                                      name="enterprise_employees_sort"))
# One unit's list (crm/enterprises/queries.py list_page, by_unit): a town's files, every filter and
# sort column with them, so that a town's filtered list is counted and its page picked from this
# index alone, whatever the filters, rather than along a filter's index through the district.
UNIT_LIST_COLUMNS = (Enterprise.org_unit, Enterprise.archived, Enterprise.stage, Enterprise.is_key,
                     Enterprise.industry, Enterprise.category, Enterprise.status, Enterprise.last_contact_on,
                     Enterprise.last_visit_on, Enterprise.union_founded_on, Enterprise.employees, Enterprise.updated_at, Enterprise.name)
Enterprise.add_index(Enterprise.index(*UNIT_LIST_COLUMNS, name="enterprise_unit_list"))


class Contact(BaseModel):
    enterprise = ForeignKeyField(Enterprise, backref="contacts", on_delete="RESTRICT")
    name = CharField(max_length=64)
    title = CharField(max_length=64, default="")
    phone = CharField(max_length=32, default="")
    wechat = CharField(max_length=64, default="")
    is_primary = BooleanField(default=False)
    archived = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)


class EnterpriseChange(BaseModel):
    """变更记录: one row per changed field (who, when, old → new)."""
    enterprise = ForeignKeyField(Enterprise, backref="changes", on_delete="RESTRICT")
    user = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow)
    version = IntegerField()
    field = CharField(max_length=40)
    old_value = TextField(default="")
    new_value = TextField(default="")
    source = CharField(max_length=40, default="edit")
    via = CharField(max_length=8, default=channel.current)  # "api": written through the API

    class Meta:
        indexes = ((("enterprise", "at"), False),)


class BulkAction(BaseModel):
    """批量操作 on the enterprise list (crm/enterprises/bulk.py): prepared (state "preview", with
    the selected files' versions), applied ("done", with each changed file's previous value and
    its version after the action) and perhaps undone ("undone")."""
    user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    action = CharField(max_length=20)  # a bulk.ACTIONS key
    params = TextField(default="{}")  # JSON: the target unit, the tag, the reason, the list it came from
    state = CharField(max_length=20, default="preview")
    selected = IntegerField(default=0)  # files selected
    changing = IntegerField(default=0)  # of which the action changes
    versions = TextField(default="[]")  # JSON [[file id, version, 1 if it changes]] as previewed
    files = TextField(default="[]")  # JSON [[file id, previous value, version after]] once applied
    created_at = DateTimeField(default=utcnow)
    applied_at = DateTimeField(null=True)
    undone_at = DateTimeField(null=True)
    undone_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")

    class Meta:
        indexes = ((("user", "state", "id"), False),)
