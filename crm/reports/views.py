"""月度通报: the page (printable on A4) and the .xlsx of the same figures."""
from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_login import current_user, login_required

from crm.common.timeutil import last_complete_month, local_today
from crm.dashboard.views import chosen_month, chosen_unit
from crm.enterprises.models import Enterprise
from crm.fieldwork.ledger import XLSX_TYPE, longer_than
from crm.jobs import views as jobs
from crm.org.queries import subtree_ids
from crm.permissions import visible_org_units
from crm.founding import stages
from crm.reports import jobs as report_jobs
from crm.reports import monthly
from crm.reports.xlsx import STATE_TEXT, workbook

bp = Blueprint("reports", __name__, url_prefix="/reports")


PAGE_MOVES = 100  # the page lists this many of the month's moves; the workbook has them all


def _report(moves_limit=None):
    today = local_today()
    unit = chosen_unit(current_user)
    year, month = chosen_month(today, default=last_complete_month(today))
    return monthly.build(current_user, unit, year, month, today, moves_limit)


@bp.route("/monthly")
@login_required
def monthly_page():
    report = _report(PAGE_MOVES)
    by_meetings = sorted(report.rows, key=lambda r: (r.ranks["meetings"] or 999, r.unit.path))
    return render_template("reports/monthly.html", r=report, ranked=by_meetings, STATE_TEXT=STATE_TEXT,
                           RANK_KEYS=monthly.RANK_KEYS, units=visible_org_units(current_user),
                           ym=f"{report.year}-{report.month:02d}", today=local_today(), stages=stages)


def _files_in(unit):
    return Enterprise.select().where(Enterprise.org_unit.in_(subtree_ids(unit)), Enterprise.archived == False)  # noqa: E712


@bp.route("/monthly.xlsx", methods=["GET", "POST"])
@login_required
def monthly_xlsx():
    """The month's workbook: at once for a unit of up to EXPORT_INLINE_ROWS files, else as a
    job (后台任务; the district's takes seconds)."""
    today = local_today()
    unit = chosen_unit(current_user)
    year, month = chosen_month(today, default=last_complete_month(today))
    limit = current_app.config["EXPORT_INLINE_ROWS"]
    if longer_than(_files_in(unit), limit):
        return jobs.start_or_confirm("monthly_workbook", {"org": unit.id, "year": year, "month": month},
                                     "导出月度通报", f"{unit.name}的档案超过 {limit} 个，{year}年{month}月的月度通报",
                                     url_for("reports.monthly_page", org=unit.id, ym=f"{year}-{month:02d}"))
    report = monthly.build(current_user, unit, year, month, today)
    return Response(workbook(report), mimetype=XLSX_TYPE,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(report_jobs.file_name(report))}"})
