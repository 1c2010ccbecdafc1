"""月度通报: the page (printable on A4) and the .xlsx of the same figures."""
from urllib.parse import quote

from flask import Blueprint, Response, render_template
from flask_login import current_user, login_required

from crm.common.timeutil import last_complete_month, local_today
from crm.dashboard.views import chosen_month, chosen_unit
from crm.permissions import visible_org_units
from crm.founding import stages
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


@bp.route("/monthly.xlsx")
@login_required
def monthly_xlsx():
    report = _report()
    name = f"{report.year}年{report.month}月月度通报-{report.scope.name}.xlsx"
    return Response(workbook(report), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
