"""工作概况: a scope's figures for a period, each linking to the list behind it, with 12-month trends."""
from datetime import date

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from crm.charts.svg import bar_chart, line_chart
from crm.common.numbers import to_id, to_int
from crm.common.timeutil import local_today
from crm.compliance.calendar import month_period, quarter_of
from crm.dashboard import queries
from crm.fieldwork.ledger import MONTH, Sheet, workbook_response
from crm.followups.queries import board, board_page
from crm.founding import stages
from crm.permissions import visible_org_units

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def chosen_unit(user):
    """?org=ID within the user's scope (404 outside it); else the user's own unit (the district
    for admins)."""
    raw = request.args.get("org")
    if raw:
        unit = queries.unit_in_scope(user, to_id(raw))
        if unit is None:
            abort(404)
        return unit
    return queries.home_unit(user)


def chosen_month(today, default=None):
    """The month asked for in ``ym`` (not in the future), else ``default`` (else this month)."""
    raw = request.args.get("ym", "")
    try:
        year, month = (to_int(x, 0, 9999) for x in raw.split("-"))
        if queries.month_asked(year, month, today):
            return year, month
    except ValueError:
        pass
    return default or (today.year, today.month)


# The people with the most overdue and open tasks first (the board's order); 团队任务 lists them all
# (a district has hundreds, and a table of every one made the district's overview slow to render).
PEOPLE_SHOWN = 10


def _chosen(today):
    """(unit, period kind, year, month, period): what the page and its export show."""
    unit = chosen_unit(current_user)
    kind = request.args.get("period") if request.args.get("period") in dict(queries.PERIODS) else "year"
    year, month = chosen_month(today)
    return unit, kind, year, month, queries.period_of(kind, today, year, month)


@bp.route("/")
@login_required
def index():
    today = local_today()
    unit, kind, year, month, period = _chosen(today)
    f = queries.figures(unit, period, today)
    t = queries.trends(unit, today)
    org = unit.id

    def month_link(endpoint, **extra):
        def href(label):
            y, m = (int(x) for x in label.split("-"))
            p = month_period(y, m)
            return url_for(endpoint, org=org, date_from=p.start.isoformat(), date_to=p.end.isoformat(), **extra)
        return href

    running = f"{today.year}-{today.month:02d}"  # the month still under way is drawn as partial
    charts = {
        "meetings": line_chart([("职工沟通会", t["staff"]), ("企业沟通会", t["enterprise"])],
                               title="沟通会场次（近12个月）", unit="场", partial=running),
        "members": bar_chart(t["members"], title="沟通会新入会人数（近12个月）", unit="人",
                             href=month_link("meetings.index"), partial=running),
        "visits": bar_chart(t["visits"], title="走访次数（近12个月）", unit="次", href=month_link("visits.index"),
                            partial=running),
        "unions": bar_chart(t["unions"], title="新建工会（近12个月）", unit="家", partial=running),
    }
    people, people_total = board_page(current_user, today, queries.subtree(unit), limit=PEOPLE_SHOWN)
    return render_template("dashboard/index.html", f=f, unit=unit, kind=kind, ym=f"{year}-{month:02d}",
                           today=today, charts=charts, people=people, people_total=people_total,
                           PERIODS=queries.PERIODS,
                           units=visible_org_units(current_user), stages=stages, group_label=queries.group_label)


@bp.route("/export.xlsx")
@login_required
def export():
    """导出 Excel: the page's figures and tables for the same unit and period, one sheet each (the
    people: every one of the board, not only the first shown)."""
    today = local_today()
    unit, kind, year, month, p = _chosen(today)
    f = queries.figures(unit, p, today)
    t = queries.trends(unit, today)
    year_start, quarter = date(today.year, 1, 1), quarter_of(today.year, today.month)
    now, span = (None, today), (p.start, p.end)
    kpis = [("在档企业", f.files, "家", now), ("有效企业", f.active, "家", now), ("已建会", f.unionized, "家", now),
            ("建会率", f.union_rate, "%", now), ("25人以上企业", f.large, "家", now),
            ("25人以上企业已建会", f.large_unionized, "家", now), ("25人以上企业建会率", f.large_rate, "%", now),
            ("期间新建工会", f.new_unions, "家", span),
            ("今年已联系企业", f.contacted_year, "家", (year_start, today)),
            ("今年覆盖率", f.coverage, "%", (year_start, today)), ("区级重点企业", f.key_total, "家", now),
            ("本季度已走访的重点企业", f.key_visited, "家", (quarter.start, today)),
            ("重点企业本季度走访率", f.key_rate, "%", (quarter.start, today)), ("从未联系", f.never, "家", now),
            ("职工沟通会", f.staff_meetings, "场", span), ("企业沟通会", f.enterprise_meetings, "场", span),
            ("走访", f.visits, "次", span), ("沟通会新入会", f.members_total, "人", span),
            ("会员互助服务卡", f.cards, "张", span), ("培训", f.trainings, "场", span),
            ("培训人次", f.trainees, "人次", span), ("服务活动中入会", f.activity_members, "人", span)]
    members = sorted(f.new_members.items(), key=lambda kv: kv[1], reverse=True)
    months = [date(*(int(x) for x in label.split("-")), 1) for label, _ in t["staff"]]
    series = [t[k] for k in ("staff", "enterprise", "members", "visits", "unions")]
    sheets = [
        Sheet("主要指标", [("指标", 24), ("数值", 10), ("计量单位", 9), ("统计起始日期", 13), ("统计截止日期", 13)],
              [[label, value, measure, start, end] for label, value, measure, (start, end) in kpis]),
        Sheet("建会进度", [("阶段", 20), ("企业数", 10), ("期间进入", 10), ("停留天数中位数", 15)],
              [[s.label, f.by_stage.get(s.key, 0), f.moves.get(s.key, 0),
                round(f.median_days[s.key]) if s.key in f.median_days else None]
               for s in stages.STAGES + stages.SIDE_STATES]),
        Sheet("新入会人数（按群体）", [("群体", 20), ("新入会人数", 12)],
              [[queries.group_label(g), n] for g, n in members]
              + ([["服务活动中入会", f.activity_members]] if f.activity_members else [])),
        Sheet("近12个月趋势", [("月份", 10, MONTH), ("职工沟通会（场）", 15), ("企业沟通会（场）", 15),
                               ("沟通会新入会人数", 15), ("走访次数", 10), ("新建工会（家）", 14)],
              [[m] + [s[i][1] for s in series] for i, m in enumerate(months)]),
        Sheet("跟进任务（按人员）", [("人员", 12), ("单位", 24), ("未完成", 8), ("已逾期", 8), ("本周到期", 9),
                                   ("本月完成", 9)],
              [[r.user.name, r.user.org_unit.name, r.open, r.overdue, r.week, r.done_month]
               for r in board(current_user, today, queries.subtree(unit))]),
    ]
    return workbook_response(f"工作概况-{unit.name}", f"工作概况 {unit.name}", sheets)
