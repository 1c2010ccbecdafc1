from peewee import SQL, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, TextField

from crm.auth.models import User
from crm.common.choices import Choices
from crm.common.timeutil import utcnow
from crm.db import BaseModel
from crm.enterprises.models import Enterprise
from crm.needs.models import Need
from crm.org.models import OrgUnit
from crm.visits.models import Visit

PRIORITIES = Choices(("high", "高"), ("medium", "中"), ("low", "低"))
STATUSES = Choices(("open", "待办"), ("in_progress", "进行中"), ("done", "已完成"), ("cancelled", "已取消"),
                   badges={"in_progress": "text-bg-info", "done": "text-bg-success"})
OPEN = ("open", "in_progress")
# The same, written out as SQL: the partial indexes below are kept for these rows only, and SQLite
# uses a partial index only for a query that names its condition in literal values.
OPEN_SQL = "status IN ('open', 'in_progress')"
DONE_SQL = "status = 'done'"
SOURCES = Choices(("manual", "手动创建"), ("visit", "走访下一步"), ("need", "需求意见"),
                  ("suggestion", "系统建议"))


class FollowUp(BaseModel):
    """跟进任务: who should do what, for which enterprise, by when — and how it ended.

    `org_unit` decides who sees it (the enterprise's unit, or the assignee's when there is no
    enterprise). Reassignments and status changes are kept in RecordChange (kind "followup").
    `form_key` makes a re-sent form harmless: "KEY" for one task, "KEY.n" for the n-th of a batch.
    """
    form_key = CharField(max_length=80, null=True, unique=True)
    title = CharField(max_length=200)
    detail = TextField(default="")
    org_unit = ForeignKeyField(OrgUnit, backref="+", on_delete="RESTRICT")
    enterprise = ForeignKeyField(Enterprise, null=True, backref="followups", on_delete="RESTRICT")
    source = CharField(max_length=20, default="manual")
    source_visit = ForeignKeyField(Visit, null=True, backref="next_step_followups", on_delete="RESTRICT")
    source_need = ForeignKeyField(Need, null=True, backref="followups", on_delete="RESTRICT")
    rule = CharField(max_length=20, default="")  # the suggestion rule it came from
    assignee = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    assigned_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    due_on = DateField()
    priority = CharField(max_length=10, default="medium")
    status = CharField(max_length=12, default="open")
    completion_note = TextField(default="")
    completed_visit = ForeignKeyField(Visit, null=True, backref="completed_followups", on_delete="RESTRICT")
    completed_at = DateTimeField(null=True)
    completed_on = DateField(null=True)  # Beijing date, for "done this month"
    completed_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    # The due date whose 逾期 notice went out (crm/followups/overdue.py): one per task and due date.
    overdue_noticed_on = DateField(null=True)
    version = IntegerField(default=1)
    created_at = DateTimeField(default=utcnow)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    updated_at = DateTimeField(default=utcnow)
    updated_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")

    class Meta:
        indexes = ((("assignee", "status", "due_on"), False), (("org_unit", "status", "due_on"), False),
                   (("enterprise", "status"), False), (("source_need", "status"), False),
                   (("assignee", "completed_on"), False),
                   # The closed lists, newest first, and the list of every task by due date, with
                   # the unit: a page is found by reading the index in order (migration 0008).
                   (("completed_at", "id", "org_unit"), False), (("due_on", "org_unit"), False))

    @property
    def is_open(self):
        return self.status in OPEN

    @property
    def status_label(self):
        return STATUSES.label(self.status)

    @property
    def status_class(self):
        return STATUSES.badge(self.status)

    @property
    def is_started(self):
        return self.status == "in_progress"

    @property
    def is_done(self):
        return self.status == "done"

    @property
    def can_start(self):
        return self.status == "open"

    @property
    def priority_label(self):
        return PRIORITIES.label(self.priority)

    @property
    def source_label(self):
        return SOURCES.label(self.source)


# Partial indexes over the open tasks (a fraction of the table, which keeps growing with the done
# ones) and over the done ones by completion date (migration 0008): the team board's counts per
# person, my tasks and the badge in the navigation, and the open list in due-date order read these
# and never the history. Queries name the condition as OPEN_SQL / DONE_SQL (crm/followups/queries).
# Each holds every column those queries read (status too: SQLite reads an index alone only when it
# has every column the query names), so they are answered from the index without the table.
FollowUp.add_index(FollowUp.index(FollowUp.assignee, FollowUp.due_on, FollowUp.org_unit, FollowUp.status,
                                  where=SQL(OPEN_SQL), name="followup_open_assignee"))
FollowUp.add_index(FollowUp.index(FollowUp.due_on, FollowUp.org_unit, FollowUp.assignee, FollowUp.status,
                                  where=SQL(OPEN_SQL), name="followup_open_due"))
FollowUp.add_index(FollowUp.index(FollowUp.completed_on, FollowUp.assignee, FollowUp.org_unit, FollowUp.status,
                                  where=SQL(DONE_SQL), name="followup_done_on"))
