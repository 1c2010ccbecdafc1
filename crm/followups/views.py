"""跟进任务 pages: assign (one firm, a need, the list's selection), one-tap from a visit's next
step, the list and team board with its export, one follow-up with its actions, suggestions."""
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.common.numbers import arg_page, to_int
from crm.common.redirects import safe_next
from crm.common.timeutil import fmt_date, fmt_dt, local_today
from crm.db import stream
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import NEED_CATEGORIES
from crm.fieldwork import ledger
from crm.fieldwork.forms import int_list
from crm.followups import queries, services, suggestions
from crm.followups.forms import AssignForm, EditForm, ReassignForm, StatusForm, SuggestionAssignForm
from crm.jobs import views as jobs
from crm.followups.models import PRIORITIES, STATUSES, FollowUp
from crm.founding import stages
from crm.needs.models import Need
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids
from crm.permissions import can, get_or_404, in_scope, require, scoped, visible_org_units
from crm.sync import views as sync
from crm.visits.kind import get_visit_or_404

bp = Blueprint("followups", __name__)


def get_followup_or_404(record_id, user) -> FollowUp:
    return get_or_404(FollowUp, record_id, user)


@sync.landing("followup")
def _landing(record_id):
    """One task: its page; a batch (its first task's key ends in .0): the assignee's list."""
    fu = FollowUp.get_or_none(FollowUp.id == record_id)
    if fu is not None and (fu.form_key or "").endswith(".0"):
        return url_for("followups.index", assignee=fu.assignee_id)
    return url_for("followups.show", record_id=record_id)


def due_presets(today):
    """Quick picks for the due date: today, tomorrow, this Friday (next Friday from Friday on),
    next Friday, the end of the month."""
    friday = today + timedelta(days=(4 - today.weekday()) % 7 or 7)
    month_end = (today.replace(day=28) + timedelta(days=4))
    month_end -= timedelta(days=month_end.day)
    return [("今天", today), ("明天", today + timedelta(days=1)), ("周五", friday),
            ("下周五", friday + timedelta(days=7)), ("月底", month_end)]


def _assignee_choices(form, people):
    blank = [] if can("own_tasks_only") else [(0, "请选择负责人")]
    form.assignee.choices = blank + [(u.id, f"{u.name}（{u.org_unit.name}）") for u in people]
    return {u.id: u for u in people}


def _people_for(firms):
    """Those the current user may assign to who can see every one of `firms`."""
    people = services.assignable_users(current_user)
    return [u for u in people if all(in_scope(u, f.org_unit) for f in firms)]


def _create(form, tasks, people, sent, today):
    """Create the form's follow-ups: (rows, created), or None with the refusal shown on the form."""
    assignee = people.get(form.assignee.data) or User.get_or_none(User.id == form.assignee.data)
    try:
        return services.create_many(current_user, tasks, assignee, form.due_on.data, form.priority.data, sent,
                                    today)
    except ServiceError as exc:
        form.show_service_error(exc)
        return None


# ---- assigning -----------------------------------------------------------------------------

@bp.route("/followups/new", methods=["GET", "POST"])
@login_required
def create():
    """分派跟进任务: ?ent=1&ent=2… (a file, or the list's selection), ?need=5, or neither."""
    require("edit_records")
    ids = int_list(request.args.getlist("ent"))[:500]
    need = get_or_404(Need, request.args["need"], current_user) if request.args.get("need") else None
    firms = []
    if ids:
        query = Enterprise.select(Enterprise, OrgUnit).join(OrgUnit)
        found = {e.id: e for e in scoped(Enterprise, current_user, query=query).where(Enterprise.id.in_(ids))}
        if len(found) != len(ids):
            abort(404)
        firms = [found[i] for i in ids]
    elif need is not None and need.enterprise_id:
        firms = [need.enterprise]
    form = AssignForm()
    people = _assignee_choices(form, _people_for(firms))
    today = local_today()
    if request.method == "GET":
        form.due_on.data = due_presets(today)[2][1]
        form.title.data = f"跟进需求：{need.category_label}" if need is not None else ("走访" if firms else "")
        if need is not None:
            form.detail.data = need.detail
        if can("own_tasks_only"):
            form.assignee.data = current_user.id
    form.ensure_key()
    if request.method == "POST":
        done = sync.answer_resend(form, "跟进任务")
        if done is not None:
            return done
    if request.method == "POST" and form.validate_on_submit():
        source = {"source": "need", "source_need_id": need.id, "org_unit_id": need.org_unit_id} if need else {}
        tasks = [services.Task(title=form.title.data, enterprise=f, detail=form.detail.data, **source)
                 for f in firms] or [services.Task(title=form.title.data, detail=form.detail.data, **source)]
        done = _create(form, tasks, people, form.sent, today)
        if done is not None:
            rows, created = done
            url = url_for(".show", record_id=rows[0].id) if len(rows) == 1 \
                else url_for(".index", assignee=rows[0].assignee_id)
            return sync.saved(url, created, "跟进任务", form.form_key.data,
                              f"已分派 {len(rows)} 条跟进任务给{rows[0].assignee.name}，{fmt_date(rows[0].due_on)} 到期")
    return render_template("followups/new.html", form=form, firms=firms, need=need,
                           presets=due_presets(today)), sync.refused_status(form)


@bp.route("/visits/<int:record_id>/followup", methods=["POST"])
@login_required
def from_visit(record_id):
    """下一步 → 跟进任务 in one tap."""
    require("edit_records")
    visit = get_visit_or_404(record_id, current_user)
    StatusForm().validate_on_submit() or abort(400)
    try:
        fu, created = services.from_visit(current_user, visit)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("visits.show", record_id=visit.id))
    flash(f"已将下一步转为跟进任务，负责人{fu.assignee.name}，{fmt_date(fu.due_on)} 到期" if created
          else "这一步已经有跟进任务了", "success" if created else "info")
    return redirect(url_for(".show", record_id=fu.id))


# ---- one follow-up -------------------------------------------------------------------------

@bp.route("/followups/<int:record_id>")
@login_required
def show(record_id):
    fu = get_followup_or_404(record_id, current_user)
    back = safe_next(request.args.get("next"), "")
    return render_template("followups/show.html", fu=fu, history=services.history(fu.id),
                           status_form=StatusForm(), today=local_today(), back=back,
                           may_cancel=can("edit_records") and services.can_cancel(current_user, fu),
                           may_work=can("edit_records") and services.can_work(current_user, fu),
                           may_manage=can("edit_records") and services.can_manage(current_user, fu))


@bp.route("/followups/<int:record_id>/status", methods=["POST"])
@login_required
def status(record_id):
    require("edit_records")
    fu = get_followup_or_404(record_id, current_user)
    form = StatusForm()
    back = safe_next(request.form.get("next"), url_for(".show", record_id=fu.id))
    if not form.validate_on_submit():
        flash("说明太长或表单已过期，请重试", "error")
        return redirect(back)
    version = to_int(request.form.get("version") or fu.version, 0) or fu.version
    action = request.form.get("action", "")
    try:
        services.set_status(current_user, fu, action, form.note.data, version)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".show", record_id=fu.id) + ("#close" if exc.field == "note" else ""))
    done = {"start": "已开始处理", "complete": "任务已完成", "cancel": "任务已取消", "reopen": "任务已重新打开"}
    flash(f"{done.get(action, '已保存')}：{fu.title}", "success")
    return redirect(back)


@bp.route("/followups/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit(record_id):
    require("edit_records")
    fu = get_followup_or_404(record_id, current_user)
    if not services.can_manage(current_user, fu):
        abort(403)
    form = EditForm(obj=fu if request.method == "GET" else None)
    firms = [fu.enterprise] if fu.enterprise_id else []
    people = _people_for(firms)
    if fu.assignee not in people:
        people.insert(0, fu.assignee)
    people = _assignee_choices(form, people)
    if request.method == "GET":
        form.assignee.data = fu.assignee_id
        form.version.data = fu.version
    if request.method == "POST" and form.validate_on_submit():
        data = {"title": form.title.data, "detail": form.detail.data, "due_on": form.due_on.data,
                "priority": form.priority.data, "note": form.note.data,
                "assignee": people.get(form.assignee.data) or User.get_or_none(User.id == form.assignee.data)}
        try:
            services.update(current_user, fu, data, form.expected_version())
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            flash("已保存任务", "success")
            return redirect(url_for(".show", record_id=fu.id))
    return render_template("followups/edit.html", fu=fu, form=form, presets=due_presets(local_today()))


# ---- the list and the team board ------------------------------------------------------------

def _list_args():
    mine = current_user.id if can("own_tasks_only") else None
    return queries.ListArgs.from_request(request.args, default_assignee=mine)


def _unit_ids(args):
    if not args.org:
        return None
    unit = OrgUnit.get_or_none(OrgUnit.id == args.org)
    return None if unit is None else subtree_ids(unit)


# The board's people table shows the busiest first (most overdue, then most open); a district has
# hundreds of people, so the rest are rendered only when asked for (?people=all).
BOARD_SHOWN = 20


def _board_links(total):
    """(URL showing every person, URL back to the first BOARD_SHOWN), both keeping the filters."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "people"}
    return (url_for(".index", **args, people="all", _anchor="board"), url_for(".index", **args, _anchor="board"))


@bp.route("/followups/")
@login_required
def index():
    """跟进任务: staff open on their own; supervisors, admins and viewers get the team board."""
    args = _list_args()
    today = local_today()
    page = ledger.page_of(queries.listing(current_user, args, today), args.page)
    team = not can("own_tasks_only")
    board_all = request.args.get("people") == "all"
    board, board_total = queries.board_page(current_user, today, _unit_ids(args),
                                            limit=None if board_all else BOARD_SHOWN) if team else ([], 0)
    reassign = None
    if can("supervise"):
        reassign = ReassignForm()
        _assignee_choices(reassign, services.assignable_users(current_user))
    # The assignee filter's options: names only (a district has some 300 people).
    people = list(scoped(User, current_user, query=User.select(User.id, User.name)).order_by(User.name).tuples())
    return render_template("followups/index.html", page=page, args=args, board=board, today=today,
                           board_total=board_total, board_all=board_all, board_shown=BOARD_SHOWN,
                           board_links=_board_links(board_total),
                           reassign=reassign, people=people, bucket=queries.bucket,
                           units=visible_org_units(current_user, active_only=False),
                           DUE_FILTERS=queries.DUE_FILTERS, STATUS_FILTERS=queries.STATUS_FILTERS,
                           PRIORITIES=PRIORITIES, stages=stages.ALL_STAGES)


@bp.route("/followups/reassign", methods=["POST"])
@login_required
def reassign():
    require("supervise")
    form = ReassignForm()
    _assignee_choices(form, services.assignable_users(current_user))
    back = safe_next(request.form.get("next"), url_for(".index"))
    ids = int_list(request.form.getlist("ids"))
    if not form.validate_on_submit():
        flash("请选择转派给谁", "error")
        return redirect(back)
    ids = [fu.id for fu in scoped(FollowUp, current_user).where(FollowUp.id.in_(ids or [0]))]
    assignee = User.get_or_none(User.id == form.assignee.data)
    try:
        n = services.reassign_many(current_user, ids, assignee, form.note.data)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(f"已将 {n} 条任务转派给{assignee.name}" if n else "所选任务本来就由该负责人处理", "success")
    return redirect(back)


COLUMNS = [("到期日", 12), ("状态", 8), ("优先级", 7), ("任务内容", 30), ("企业名称", 36), ("建会进度", 14),
           ("负责人", 10), ("分派人", 10), ("来源", 12), ("说明", 40), ("完成情况", 40), ("完成日期", 12),
           ("创建时间", 17)]


@bp.route("/followups/export.xlsx", methods=["GET", "POST"])
@login_required
def export():
    args = _list_args()
    query = queries.listing(current_user, args)
    long = jobs.offer_if_long(query, "跟进任务")  # more than EXPORT_INLINE_ROWS: a job
    if long is not None:
        return long
    names = dict(User.select(User.id, User.name).tuples())

    def rows():
        for fu in stream(query):
            ent = fu.enterprise if fu.enterprise_id else None
            yield [fmt_date(fu.due_on), STATUSES.label(fu.status), PRIORITIES.label(fu.priority), fu.title,
                   ent.name if ent else "", stages.label(ent.stage) if ent else "",
                   names.get(fu.assignee_id, ""), names.get(fu.assigned_by_id, ""), fu.source_label, fu.detail,
                   fu.completion_note, fmt_date(fu.completed_on), fmt_dt(fu.created_at)]

    return ledger.xlsx_response("跟进任务", "跟进任务", COLUMNS, rows())


# ---- suggestions ---------------------------------------------------------------------------

def _suggestion_tab():
    """(rule, list args, unit ids, today, counts): the tab shown (?rule=, else the first with
    suggestions) and the unit filter, for the page and its export alike."""
    rule = request.args.get("rule") if request.args.get("rule") in suggestions.RULES else None
    args = _list_args()
    unit_ids = _unit_ids(args)
    today = local_today()
    counts = suggestions.counts(current_user, today, unit_ids)
    if rule is None:
        rule = next((r for r in suggestions.RULES.keys() if counts[r]), "never")
    return rule, args, unit_ids, today, counts


@bp.route("/followups/suggestions", methods=["GET", "POST"])
@login_required
def suggested():
    """待跟进建议 for the user's scope, one rule per tab; ticked ones become follow-ups."""
    require("edit_records")
    rule, args, unit_ids, today, counts = _suggestion_tab()
    form = SuggestionAssignForm()
    people = _assignee_choices(form, services.assignable_users(current_user))
    if request.method == "GET":
        form.due_on.data = due_presets(today)[2][1]
        if can("own_tasks_only"):
            form.assignee.data = current_user.id
    form.ensure_key()
    if request.method == "POST":
        done = sync.answer_resend(form, "跟进任务")
        if done is not None:
            return done
    if request.method == "POST" and form.validate_on_submit():
        picked = suggestions.resolve(current_user, request.form.getlist("items"), today)
        tasks = []
        for s in picked:
            task = s.task()
            if form.title.data:
                task.title = form.title.data
            tasks.append(task)
        done = _create(form, tasks, people, form.sent, today)
        if done is not None:
            rows, created = done
            return sync.saved(url_for(".suggested", rule=rule, org=args.org), created, "跟进任务",
                              form.form_key.data,
                              f"已将 {len(rows)} 条建议转为跟进任务，负责人{rows[0].assignee.name}")
    page_no = min(arg_page(request.args), 10_000)
    items, has_next = suggestions.page(current_user, rule, page_no, today=today, unit_ids=unit_ids,
                                        count=counts[rule])
    return render_template("followups/suggestions.html", rule=rule, counts=counts, items=items,
                           has_next=has_next, page_no=page_no, form=form, args=args,
                           RULES=suggestions.RULES, count_label=suggestions.count_label,
                           presets=due_presets(today),
                           units=visible_org_units(current_user, active_only=False),
                           picked=set(request.form.getlist("items"))), sync.refused_status(form)


@bp.route("/followups/suggestions/export.xlsx")
@login_required
def suggestions_export():
    """导出 Excel: every suggestion of the tab shown (all its pages), for the same unit filter."""
    require("edit_records")
    rule, args, unit_ids, today, _ = _suggestion_tab()
    units = dict(OrgUnit.select(OrgUnit.id, OrgUnit.name).tuples())
    day = (suggestions.DAY_LABELS[rule], 14)
    if rule == "need":
        columns = [("需求", 24), ("企业名称", 36), ("所属工会", 22), day, ("原因", 60), ("建议任务", 20)]
    else:
        columns = [("企业名称", 36), ("所属工会", 22), ("建会进度", 14), ("区级重点企业", 12), day, ("原因", 60),
                   ("建议任务", 20)]

    def rows():
        for s in suggestions.every(current_user, rule, today, unit_ids):
            ent = s.enterprise
            if s.need is not None:
                yield [NEED_CATEGORIES.label(s.need.category), ent.name if ent else "",
                       units.get(s.need.org_unit_id, ""), s.day, s.reason, s.title]
            else:
                yield [ent.name, units.get(ent.org_unit_id, ""), stages.label(ent.stage), "是" if ent.is_key else "否",
                       s.day, s.reason, s.title]

    title = f"待跟进建议-{suggestions.RULES.label(rule)}"
    return ledger.xlsx_response(title, title, columns, rows())
