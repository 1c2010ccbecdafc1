"""企业需求意见: its pages on the field-work kernel (crm.fieldwork.pages): the ledger (open ones
first) and its workbook, archiving; the record page holds the handling form (status,
resolution). Needs are raised by visits and meetings, not recorded on their own."""
from flask import render_template, request
from flask_login import current_user

from crm.common.timeutil import fmt_date
from crm.fieldwork import services as records
from crm.fieldwork import views as fw
from crm.fieldwork.choices import NEED_CATEGORIES, NEED_STATUSES
from crm.fieldwork.forms import ArchiveRecordForm
from crm.fieldwork.pages import RECORDER, Column, RecordPages
from crm.followups.queries import of_need
from crm.needs import queries, services
from crm.needs.forms import NeedForm
from crm.permissions import require


def _source(n):
    return n.enterprise.name if n.enterprise_id else ("沟通会" if n.meeting_id else "")


def _source_shown(n):
    return n.enterprise.name if n.enterprise_id else f"{n.org_unit.name}（沟通会）"


class NeedPages(RecordPages):
    kind, name, noun, what = "need", "needs", "需求意见", "需求意见"
    ledger_title, empty = "需求意见台账", "没有符合条件的需求意见。"
    creatable = False
    show_methods = ("GET", "POST")
    filters = {"kinds": NEED_CATEGORIES, "kind_label": "类别", "statuses": NEED_STATUSES}
    table = ["提出日期", "企业/来源", "类别", "需求意见说明", "处理状态"]
    columns = [
        Column("提出日期", 12, lambda n, row: fmt_date(n.raised_on), cell="date"),
        Column("企业/来源", 36, lambda n, row: _source(n), cell="firm", firm=lambda n: n.enterprise_id,
               shown=lambda n, row: _source_shown(n), heading="企业"),
        Column("所属工会", 22, lambda n, row: n.org_unit.name, cell=""),
        Column("类别", 12, lambda n, row: NEED_CATEGORIES.label(n.category), nowrap=True),
        Column("需求意见说明", 50, lambda n, row: n.detail, cell="record", truncate=50,
               shown=lambda n, row: n.detail or "（无说明）", heading="说明"),
        Column("处理状态", 10, lambda n, row: NEED_STATUSES.label(n.status), cell="badge", heading="状态",
               badge=lambda n: n.status_class),
        Column("解决情况", 40, lambda n, row: n.resolution, cell=""),
        Column("解决日期", 12, lambda n, row: fmt_date(n.resolved_on), cell=""),
        RECORDER]

    def _open_default(self, args):
        """The list opens on what is still open; 状态 picks any other view."""
        return not args.status and "status" not in request.args

    def ledger_query(self, user, args):
        return queries.ledger(user, args, open_only=self._open_default(args))

    def index_extra(self, args):
        return {"heading": "企业需求意见（未解决）" if self._open_default(args) else "企业需求意见"}

    def show(self, record_id):
        """The need and, for editors, its handling form (status, resolution) on the same page."""
        need = self.get(record_id)
        form = NeedForm(obj=need if request.method == "GET" else None)
        if request.method == "GET":
            form.version.data = need.version
        conflict = None
        if request.method == "POST":
            require("edit_records")
            done, conflict = fw.save_version(form, lambda: services.update_need(
                need, form.data, current_user, form.expected_version()), need, "needs.show", "处理情况")
            if done is not None:
                return done
        return render_template("needs/show.html", need=need, form=form, conflict=conflict,
                               changes=records.history("need", need.id), archive_form=ArchiveRecordForm(),
                               NEED_CATEGORIES=NEED_CATEGORIES, followups=of_need(need.id)), 409 if conflict else 200


PAGES = NeedPages()
bp = PAGES.blueprint("/needs")
