"""服务活动: its pages declared on the field-work kernel (crm.fieldwork.pages): the ledger and its
workbook, recording (optionally from an outreach point), the record page, editing, archiving."""
from flask import request
from flask_login import current_user

from crm.activities import queries, services
from crm.activities.forms import ActivityForm
from crm.common.timeutil import fmt_date
from crm.fieldwork.choices import PARTNERS, SERVICES, TARGET_GROUPS, labels, split_keys
from crm.fieldwork.pages import RECORDER, Column, Detail, RecordPages, firm_names
from crm.meetings.kind import get_point_or_404


def _point(a):
    return a.point.name if a.point_id else ""


class ActivityPages(RecordPages):
    kind, name, noun, what = "activity", "activities", "服务活动", "服务活动"
    ledger_title, empty, again = "服务活动台账", "没有符合条件的服务活动记录。", "再记一次活动"
    reads = queries
    create_record, update_record = staticmethod(services.create_activity), staticmethod(services.update_activity)
    templates, form_class = "activities", ActivityForm
    filters = {"kinds": SERVICES, "kind_label": "服务内容", "groups": TARGET_GROUPS}
    table = ["日期", "活动名称", "服务内容", "地点", "组织单位", "服务人数", "新入会人数"]
    columns = [
        Column("日期", 12, lambda a, row: fmt_date(a.held_on), cell="date"),
        Column("活动名称", 30, lambda a, row: a.title, cell="record",
               sub=lambda a, row: f"服务企业 {len(row.firms)} 家" if row.firms else ""),
        Column("服务内容", 24, lambda a, row: labels(SERVICES, a.services)),
        Column("地点", 24, lambda a, row: a.place,
               sub=lambda a, row: _point(a) if a.point_id and a.point.name != a.place else ""),
        Column("固定点位", 20, lambda a, row: _point(a), cell=""),
        Column("组织单位", 22, lambda a, row: a.org_unit.name),
        Column("面向群体", 22, lambda a, row: labels(TARGET_GROUPS, a.target_groups), cell=""),
        Column("合作单位", 16, lambda a, row: labels(PARTNERS, a.partners), cell=""),
        Column("服务人数", 10, lambda a, row: a.participants, cell="number"),
        Column("新入会人数", 10, lambda a, row: a.new_members, cell="number", heading="新入会"),
        Column("服务企业", 36, firm_names, cell="firms"),
        Column("内容摘要", 50, lambda a, row: a.summary, cell=""),
        RECORDER]
    details = [
        Detail("活动日期", lambda a: fmt_date(a.held_on)),
        Detail("服务内容", lambda a: labels(SERVICES, a.services)),
        Detail("地点", lambda a: a.place),
        Detail("固定点位", _point, link=lambda a: ("meetings.point_show", {"record_id": a.point_id})),
        Detail("组织单位", lambda a: a.org_unit.name),
        Detail("面向群体", lambda a: labels(TARGET_GROUPS, a.target_groups)),
        Detail("合作单位", lambda a: labels(PARTNERS, a.partners)),
        Detail("服务人数", lambda a: str(a.participants)),
        Detail("新入会人数", lambda a: str(a.new_members)),
        Detail("内容摘要", lambda a: a.summary, pre=True)]


    def prepare(self, form, record=None):
        super().prepare(form, record)
        form.point.choices = queries.point_choices(
            current_user, record.point if record is not None and record.point_id else None)

    def new_defaults(self, form):
        """?point=<id>: the place, point, unit and usual groups of an outreach point."""
        super().new_defaults(form)
        if not request.args.get("point"):
            return {"point": None}
        point = get_point_or_404(request.args["point"], current_user)
        form.place.data = point.name
        if str(point.id) in {c[0] for c in form.point.choices}:
            form.point.data = str(point.id)
        if point.org_unit_id in {c[0] for c in form.org_unit.choices}:
            form.org_unit.data = point.org_unit_id
        form.target_groups.data = split_keys(point.target_groups)
        return {"point": point}

    def edit_defaults(self, form, record):
        super().edit_defaults(form, record)
        form.point.data = str(record.point_id) if record.point_id else ""
        form.services.data = split_keys(record.services)
        form.target_groups.data = split_keys(record.target_groups)
        form.partners.data = split_keys(record.partners)

    def again_args(self, record):
        return {"point": record.point_id} if record.point_id else {}


PAGES = ActivityPages()
bp = PAGES.blueprint("/activities")
