"""工作概况: a scope's figures for a period, each linking to the list behind it, with 12-month trends."""
from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from crm.charts.svg import bar_chart, line_chart
from crm.common.numbers import to_id, to_int
from crm.common.timeutil import local_today
from crm.compliance.calendar import month_period
from crm.dashboard import queries
from crm.followups.queries import board
from crm.founding import stages
from crm.org.models import OrgUnit
from crm.permissions import in_scope, sees_district, visible_org_units

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def chosen_unit(user):
    """?org=ID within the user's scope (404 outside it); else the user's own unit (the district
    for admins)."""
    raw = request.args.get("org")
    if raw:
        unit_id = to_id(raw)
        unit = OrgUnit.get_or_none(OrgUnit.id == unit_id) if unit_id else None
        if unit is None or not in_scope(user, unit):
            abort(404)
        return unit
    if sees_district(user):
        return OrgUnit.get_or_none(OrgUnit.parent.is_null()) or user.org_unit
    return user.org_unit


def chosen_month(today):
    raw = request.args.get("ym", "")
    try:
        year, month = (to_int(x, 0, 9999) for x in raw.split("-"))
        if year is None or month is None:
            raise ValueError(raw)
        if 2000 <= year <= today.year and 1 <= month <= 12 and (year, month) <= (today.year, today.month):
            return year, month
    except ValueError:
        pass
    return today.year, today.month


# The people with the most overdue and open tasks first (the board's order); 团队任务 lists them all
# (a district has hundreds, and a table of every one made the district's overview slow to render).
PEOPLE_SHOWN = 10


@bp.route("/")
@login_required
def index():
    today = local_today()
    unit = chosen_unit(current_user)
    kind = request.args.get("period") if request.args.get("period") in dict(queries.PERIODS) else "year"
    year, month = chosen_month(today)
    period = queries.period_of(kind, today, year, month)
    f = queries.figures(unit, period, today)
    t = queries.trends(unit, today)
    org = unit.id

    def month_link(endpoint, **extra):
        def href(label):
            y, m = (int(x) for x in label.split("-"))
            p = month_period(y, m)
            return url_for(endpoint, org=org, date_from=p.start.isoformat(), date_to=p.end.isoformat(), **extra)
        return href

    charts = {
        "meetings": line_chart([("职工沟通会", t["staff"]), ("企业沟通会", t["enterprise"])],
                               title="沟通会场次（近12个月）", unit="场"),
        "members": bar_chart(t["members"], title="沟通会新入会人数（近12个月）", unit="人",
                             href=month_link("meetings.index")),
        "visits": bar_chart(t["visits"], title="走访次数（近12个月）", unit="次", href=month_link("visits.index")),
        "unions": bar_chart(t["unions"], title="新建工会（近12个月）", unit="家"),
    }
    people = board(current_user, today, queries.subtree(unit))
    return render_template("dashboard/index.html", f=f, unit=unit, kind=kind, ym=f"{year}-{month:02d}",
                           today=today, charts=charts, people=people[:PEOPLE_SHOWN], people_total=len(people),
                           PERIODS=queries.PERIODS,
                           units=visible_org_units(current_user), stages=stages, group_label=queries.group_label)
