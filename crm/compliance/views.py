"""双沟通 pages: the grid (units × months), one unit's calendar, and the rules (admins)."""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.common.errors import ServiceError
from crm.common.timeutil import local_today
from crm.compliance import calendar as cal
from crm.compliance.evaluate import Evaluator, district_unit, town_units
from crm.compliance.forms import RuleSettingForm
from crm.compliance.models import RuleSetting
from crm.compliance.rules import BY_KEY, RULES
from crm.compliance.services import Settings, add_setting
from crm.org.models import OrgUnit
from crm.org.queries import unit_choices
from crm.permissions import in_scope, require
from crm.common.numbers import to_int

bp = Blueprint("compliance", __name__, url_prefix="/compliance")
STATE_LABELS = {"met": "达标", "running": "进行中", "missed": "未达标", "future": "未开始", "off": "不适用"}


def _year(today):
    year = to_int(request.args.get("year", today.year), 2000, today.year + 1)
    return year if year is not None else today.year


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
    return render_template("compliance/grid.html", rows=rows, year=year, today=today, STATE_LABELS=STATE_LABELS)


@bp.route("/units/<int:unit_id>")
@login_required
def unit(unit_id):
    """One unit's year: every rule × month, and the chosen month in detail."""
    target = OrgUnit.get_or_none(OrgUnit.id == unit_id)
    if target is None or not in_scope(current_user, target):
        abort(404)
    today = local_today()
    year = _year(today)
    month = to_int(request.args.get("month", today.month if year == today.year else 12), 1, 12) or today.month
    ev = Evaluator([target], year, today)
    last = 12 if year < today.year else today.month if year == today.year else 0
    table = {m: {c.rule.key: c for c in ev.month(target, m)} for m in range(1, last + 1)}
    detail = ev.month(target, month) if month <= last else []
    rules = [r for r in RULES if (r.level == "district") == (target.parent_id is None)]
    return render_template("compliance/unit.html", unit=target, year=year, month=month, today=today,
                           table=table, detail=detail, rules=rules, last=last, STATE_LABELS=STATE_LABELS,
                           month_period=cal.month_period(year, month))


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
