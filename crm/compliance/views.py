"""双沟通 pages: the grid (units × months), one unit's calendar, and the rules (admins)."""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.common.errors import ServiceError
from crm.common.timeutil import last_complete_month, local_today
from crm.compliance import calendar as cal
from crm.compliance.evaluate import Evaluator, district_unit, town_units
from crm.compliance.forms import RuleSettingForm
from crm.compliance.models import RuleSetting
from crm.compliance.rules import BY_KEY, RULES
from crm.compliance.services import Settings, add_setting
from crm.fieldwork.ledger import MONTH, Sheet, workbook_response
from crm.org.models import OrgUnit
from crm.org.queries import unit_choices
from crm.permissions import in_scope, require
from crm.common.numbers import to_int

bp = Blueprint("compliance", __name__, url_prefix="/compliance")
STATE_LABELS = {"met": "达标", "running": "进行中", "missed": "未达标", "future": "未开始", "off": "不适用"}


def _year(today):
    """The year asked for; by default the year of the last complete month (in January, last year)."""
    default = last_complete_month(today)[0]
    year = to_int(request.args.get("year", default), 2000, today.year + 1)
    return year if year is not None else default


def focus_month(year, today):
    """The month a year's page opens on: the last complete one (December of a past year)."""
    done = last_complete_month(today)
    return done[1] if year == done[0] else 12 if year < today.year else 1


def grid_rows(user, year, today):
    """[(unit, [(month, state, checks)])] for the district (when in scope) and each town-level unit."""
    units = town_units(user)
    root = district_unit()
    if root is not None and in_scope(user, root):
        units = [root] + units
    ev = Evaluator(units, year, today)
    last = 12 if year < today.year else today.month if year == today.year else 0
    rows = []
    for unit in units:
        cells = []
        for month in range(1, 13):
            if month > last:
                cells.append((month, "future", []))
                continue
            state, checks = ev.grid_cell(unit, month)
            cells.append((month, state, checks))
        rows.append((unit, cells))
    return rows


@bp.route("/")
@login_required
def grid():
    today = local_today()
    year = _year(today)
    rows = grid_rows(current_user, year, today)
    return render_template("compliance/grid.html", rows=rows, year=year, today=today, STATE_LABELS=STATE_LABELS,
                           focus=focus_month(year, today))


def _unit_in_scope(unit_id) -> OrgUnit:
    target = OrgUnit.get_or_none(OrgUnit.id == unit_id)
    if target is None or not in_scope(current_user, target):
        abort(404)
    return target


def unit_calendar(target, year, today):
    """(evaluator, last month begun, {month: {rule key: Check}}, the unit's rules): a unit's year,
    for its page and its export."""
    ev = Evaluator([target], year, today)
    last = 12 if year < today.year else today.month if year == today.year else 0
    table = {m: {c.rule.key: c for c in ev.month(target, m)} for m in range(1, last + 1)}
    rules = [r for r in RULES if (r.level == "district") == (target.parent_id is None)]
    return ev, last, table, rules


@bp.route("/units/<int:unit_id>")
@login_required
def unit(unit_id):
    """One unit's year: every rule × month, and the chosen month in detail."""
    target = _unit_in_scope(unit_id)
    today = local_today()
    year = _year(today)
    focus = focus_month(year, today)
    month = to_int(request.args.get("month", focus), 1, 12) or focus
    ev, last, table, rules = unit_calendar(target, year, today)
    detail = ev.month(target, month) if month <= last else []
    return render_template("compliance/unit.html", unit=target, year=year, month=month, today=today,
                           table=table, detail=detail, rules=rules, last=last, STATE_LABELS=STATE_LABELS,
                           month_period=cal.month_period(year, month))


# ---- 导出 Excel ------------------------------------------------------------------------------

MONTHS = [(f"{m}月", 9) for m in range(1, 13)]


def _month(year, month):
    return date(year, month, 1)


@bp.route("/export.xlsx")
@login_required
def grid_export():
    """The grid as shown (units × months, each cell's state) and, one row per unit and month
    begun, its meetings as numbers."""
    today = local_today()
    year = _year(today)
    rows = grid_rows(current_user, year, today)
    shown = [[unit.name] + [STATE_LABELS[state] for _, state, _ in cells] for unit, cells in rows]

    def counts():
        for unit, cells in rows:
            for month, state, checks in cells:
                if not checks:
                    continue
                by_key = {c.rule.key: c for c in checks}
                staff, ent = by_key.get("staff_weekly"), by_key.get("enterprise_half_month")
                district = by_key.get("district_third_thursday")
                yield [unit.name, _month(year, month), STATE_LABELS[state],
                       staff.count if staff and staff.state != "off" else None,
                       ent.count if ent and ent.state != "off" else None,
                       ("已召开" if district.count else "未召开") if district and district.state != "off" else "",
                       "；".join(f"{c.rule.short}：{c.note}" for c in checks)]

    sheets = [Sheet(f"双沟通达标{year}年", [("单位", 24)] + MONTHS, shown),
              Sheet("每月场次", [("单位", 24), ("月份", 10, MONTH), ("状态", 8), ("职工沟通会（场）", 15),
                                 ("企业沟通会（场）", 15), ("区级职工沟通会（第三个星期四）", 18), ("说明", 50)],
                    counts())]
    return workbook_response(f"双沟通达标-{year}年", "双沟通达标", sheets)


@bp.route("/units/<int:unit_id>/export.xlsx")
@login_required
def unit_export(unit_id):
    """A unit's calendar as shown (rules × months) and, one row per rule and month begun, its
    figures as numbers."""
    target = _unit_in_scope(unit_id)
    today = local_today()
    year = _year(today)
    _, last, table, rules = unit_calendar(target, year, today)
    shown = [[r.short] + [STATE_LABELS[table[m][r.key].state] if m <= last else STATE_LABELS["future"]
                          for m in range(1, 13)] for r in rules]

    def figures():
        for r in rules:
            for m in range(1, last + 1):
                c = table[m][r.key]
                off = c.state == "off"
                meetings = r.unit == "场" and not off
                yield [r.short, _month(year, m), STATE_LABELS[c.state],
                       c.count if meetings else None,
                       c.count if not meetings and not off else None,
                       c.total if not meetings and not off else None,
                       c.percent if not meetings and not off else None,
                       "" if off else r.target_text(c.target), c.note]

    sheets = [Sheet("考核日历", [("规则", 18)] + MONTHS, shown),
              Sheet("每月明细", [("规则", 18), ("月份", 10, MONTH), ("状态", 8), ("场次", 8),
                                 ("已走访或联系企业（家）", 14), ("应走访或联系企业（家）", 14), ("比例（%）", 10),
                                 ("目标", 26), ("说明", 40)], figures())]
    return workbook_response(f"考核日历-{target.name}-{year}年", f"考核日历 {target.name}", sheets)


@bp.route("/rules", methods=["GET", "POST"])
@login_required
def rules():
    """The rules and their targets; a change starts on its date and leaves earlier months alone."""
    require("manage_system")
    form = RuleSettingForm()
    form.rule.choices = [(r.key, r.label) for r in RULES]
    units = list(OrgUnit.select().where(OrgUnit.active == True).order_by(OrgUnit.path))  # noqa: E712
    form.org_unit.choices = [(0, "全区默认（所有单位）")] + unit_choices(units)
    if request.method == "GET":
        today = local_today()
        form.effective_from.data = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    if form.validate_on_submit():
        unit = OrgUnit.get_or_none(OrgUnit.id == form.org_unit.data) if form.org_unit.data else None
        try:
            add_setting(form.rule.data, unit, form.enabled.data, form.target.data, form.effective_from.data,
                        current_user, form.note.data)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            flash(f"已保存：{BY_KEY[form.rule.data].short}自 {form.effective_from.data.isoformat()} 起生效", "success")
            return redirect(url_for(".rules"))
    settings = Settings()
    today = local_today()
    current = [(r, settings.of(r.key, None, today)) for r in RULES]
    names = dict(OrgUnit.select(OrgUnit.id, OrgUnit.name).tuples())
    overrides = sorted(((BY_KEY[k], names.get(u, ""), row) for k, u, row in settings.overrides(today)),
                       key=lambda x: (x[0].key, x[1]))
    history = list(RuleSetting.select().order_by(RuleSetting.effective_from.desc(), RuleSetting.id.desc()))
    return render_template("compliance/rules.html", form=form, current=current, history=history, BY_KEY=BY_KEY,
                           overrides=overrides)
