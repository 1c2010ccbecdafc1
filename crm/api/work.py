"""/api/v1 for the day's work: follow-ups (my tasks, one task, the team board, assigning, starting,
completing, cancelling), the dashboard's figures, the monthly report, and (read only) the members'
roster and the sign-ups of a meeting, point or activity. Each endpoint calls the
queries and services its page calls, with the same rules and the same scope."""
from datetime import date

from flask import url_for
from werkzeug.datastructures import MultiDict
from flask.views import MethodView
from flask_smorest import abort
import marshmallow as ma
from marshmallow import validate

from crm.activities.kind import get_activity_or_404
from crm.api import core
from crm.api.schemas import PageArgs, Person, Strict, Unit, UtcDateTime, an_id, one_of, page_of, query_id, text
from crm.auth.models import User
from crm.common.timeutil import last_complete_month, local_today
from crm.dashboard import queries as dashboard
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import TARGET_GROUPS
from crm.fieldwork.forms import EARLIEST
from crm.followups import queries as followups
from crm.followups import services as tasks
from crm.followups.models import PRIORITIES, FollowUp
from crm.founding import stages
from crm.meetings.kind import get_meeting_or_404, get_point_or_404
from crm.members import queries as signups
from crm.members.choices import MEMBER_STATES, PLATFORMS, SIGNUP_STATES
from crm.members.models import Member
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids
from crm.permissions import can, get_or_404
from crm.reports import monthly
from crm.reports.xlsx import STATE_TEXT
from crm.roster import queries as roster

bp = core.blueprint("followups", "/followups", "跟进任务：我的任务、团队任务、分派、开始、完成、取消")
dashboard_bp = core.blueprint("dashboard", "/dashboard", "工作概况：单位及其下级单位的各项数字")
reports_bp = core.blueprint("reports", "/reports", "月度通报：“双沟通”达标、各单位排名、建会进度变动")
members_bp = core.blueprint("members", "/members", "会员台账（只读；手机号只给出遮盖后的号码）")
signups_bp = core.blueprint("signups", "/signups", "沟通会、固定点位、服务活动的登记与报名（只读）")
BLUEPRINTS = [bp, dashboard_bp, reports_bp, members_bp, signups_bp]

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


# ---- shared --------------------------------------------------------------------------------

def _person(user) -> dict | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def _names(model, ids) -> dict:
    """{id: {id, name}} of the units or people a page of rows names, in one query."""
    ids = list({i for i in ids if i})
    rows = model.select(model.id, model.name).where(model.id.in_(ids)).tuples() if ids else []
    return {i: {"id": i, "name": name} for i, name in rows}


def _unit_arg(unit_id):
    """The unit of a query's `org` (in the user's scope), or None when none was asked for."""
    if unit_id is None:
        return None
    unit = dashboard.unit_in_scope(core.current_user(), unit_id)
    if unit is None:
        abort(404, message="找不到该单位，或者它不在您的管辖范围内")
    return unit


def _month_arg(raw: str | None, default):
    if not raw:
        return default
    year, month = (int(x) for x in raw.split("-"))
    if not dashboard.month_asked(year, month, local_today()):
        abort(422, message="月份应在 2000 年 1 月至本月之间",
              errors=[{"field": "month", "message": "月份应在 2000 年 1 月至本月之间"}])
    return year, month


def _edits():
    if not can("edit_records"):
        abort(403, message="领导账号只能查看，不能修改跟进任务")


# ---- follow-ups: schemas -------------------------------------------------------------------

class Firm(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class FollowUpOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    status_label = ma.fields.String(required=True)
    priority = ma.fields.String(required=True)
    priority_label = ma.fields.String(required=True)
    due_on = ma.fields.Date(required=True)
    due_group = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "未完成任务的到期分组：overdue 已逾期、today 今天到期、week 本周到期、later 以后；已关闭为 null"})
    enterprise = ma.fields.Nested(Firm, allow_none=True, required=True)
    org_unit = ma.fields.Nested(Unit, required=True)
    assignee = ma.fields.Nested(Person, required=True)


class HistoryItem(ma.Schema):
    at = UtcDateTime(required=True)
    version = ma.fields.Integer(required=True)
    field = ma.fields.String(required=True)
    old_value = ma.fields.String(required=True)
    new_value = ma.fields.String(required=True)
    user = ma.fields.Nested(Person, allow_none=True, required=True)
    via = ma.fields.String(required=True, metadata={"description": "api：通过 API 写入；空：页面"})


class FollowUpDetail(FollowUpOut):
    detail = ma.fields.String(required=True)
    source = ma.fields.String(required=True)
    source_label = ma.fields.String(required=True)
    assigned_by = ma.fields.Nested(Person, required=True)
    completion_note = ma.fields.String(required=True)
    completed_on = ma.fields.Date(allow_none=True, required=True)
    completed_by = ma.fields.Nested(Person, allow_none=True, required=True)
    version = ma.fields.Integer(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    may_work = ma.fields.Boolean(required=True, metadata={"description": "您可以开始、完成这条任务"})
    may_cancel = ma.fields.Boolean(required=True)
    may_manage = ma.fields.Boolean(required=True, metadata={"description": "您可以修改、转派、重新打开"})
    history = ma.fields.List(ma.fields.Nested(HistoryItem), required=True)


class MineArgs(PageArgs):
    status = ma.fields.String(validate=validate.OneOf([k for k, _ in followups.STATUS_FILTERS if k]),
                              metadata={"description": "不填：未完成；done 已完成；cancelled 已取消；all 全部"})
    due = ma.fields.String(validate=validate.OneOf([k for k, _ in followups.DUE_FILTERS]),
                           metadata={"description": "overdue 已逾期、today 今天到期、week 本周到期、later 以后"})
    priority = one_of(PRIORITIES)
    stage = one_of(stages.ALL_STAGES, metadata={"description": "企业的建会进度"})
    q = text(50, metadata={"description": "企业名称或任务内容"})
    org = query_id(metadata={"description": "单位 id（含其下级单位）"})


def _sensible_due(day: date):
    if not EARLIEST <= day <= date(local_today().year + 5, 12, 31):
        raise ma.ValidationError("日期超出合理范围，请检查年份")


class FollowUpCreate(Strict):
    title = text(200, 1, required=True, metadata={"description": "任务内容"})
    detail = text(4000, metadata={"description": "说明"})
    enterprise = an_id(allow_none=True, metadata={"description": "企业档案 id（可不填）"})
    assignee = an_id(required=True, metadata={"description": "负责人（用户 id）；走访干部只能分派给自己"})
    due_on = ma.fields.Date(required=True, validate=_sensible_due, metadata={"description": "到期日，不早于今天"})
    priority = one_of(PRIORITIES, load_default="medium")


class Version(Strict):
    version = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=2 ** 31 - 1),
                                metadata={"description": "读取时的版本号：别人已改过则 409"})


class CompleteIn(Version):
    note = text(2000, 1, required=True, metadata={"description": "完成情况"})


class CancelIn(Version):
    note = text(2000, 1, required=True, metadata={"description": "取消原因"})


class BoardArgs(Strict):
    org = query_id(metadata={"description": "单位 id（含其下级单位）"})


class BoardRow(ma.Schema):
    user = ma.fields.Nested(Person, required=True)
    org_unit = ma.fields.Nested(Unit, required=True)
    active = ma.fields.Boolean(required=True, metadata={"description": "账号在用（停用或调离的人的任务也列出，以便转派）"})
    open = ma.fields.Integer(required=True, metadata={"description": "未完成"})
    week = ma.fields.Integer(required=True, metadata={"description": "本周到期（今天至星期日）"})
    overdue = ma.fields.Integer(required=True, metadata={"description": "已逾期"})
    done_month = ma.fields.Integer(required=True, metadata={"description": "本月完成"})


# ---- follow-ups: shapes --------------------------------------------------------------------

def _line(fu: FollowUp, units: dict, people: dict, today: date) -> dict:
    ent = fu.enterprise if fu.enterprise_id else None
    return {"id": fu.id, "title": fu.title, "status": fu.status, "status_label": fu.status_label,
            "priority": fu.priority, "priority_label": fu.priority_label, "due_on": fu.due_on,
            "due_group": followups.bucket(fu, today) if fu.is_open else None,
            "enterprise": {"id": ent.id, "name": ent.name} if ent is not None else None,
            "org_unit": units[fu.org_unit_id], "assignee": people[fu.assignee_id]}


def followup_json(fu: FollowUp) -> dict:
    user = core.current_user()
    people = _names(User, [fu.assignee_id, fu.assigned_by_id, fu.completed_by_id])
    out = _line(fu, _names(OrgUnit, [fu.org_unit_id]), people, local_today())
    edits = can("edit_records")
    out.update(detail=fu.detail, source=fu.source, source_label=fu.source_label,
               assigned_by=people[fu.assigned_by_id], completion_note=fu.completion_note,
               completed_on=fu.completed_on, completed_by=people.get(fu.completed_by_id),
               version=fu.version, created_at=fu.created_at, updated_at=fu.updated_at,
               may_work=edits and tasks.can_work(user, fu), may_cancel=edits and tasks.can_cancel(user, fu),
               may_manage=edits and tasks.can_manage(user, fu),
               history=[{"at": c.at, "version": c.version, "field": c.field, "old_value": c.old_value,
                         "new_value": c.new_value, "user": _person(c.user) if c.user_id else None,
                         "via": c.via} for c in tasks.history(fu.id)])
    return out


def get_followup_or_404(fu_id) -> FollowUp:
    return get_or_404(FollowUp, fu_id, core.current_user())


def _cursor_after(raw: str):
    """(due_on, priority rank, id) of the last row of the previous page."""
    value = core.decode_cursor(raw)
    try:
        day, rank, last = value
        if isinstance(rank, int) and isinstance(last, int) and not isinstance(rank, bool) \
                and not isinstance(last, bool) and isinstance(day, str):
            return date.fromisoformat(day), rank, last
    except (TypeError, ValueError):
        pass
    abort(400, message="cursor 无效：请使用上一页返回的 next_cursor")


# ---- follow-ups: endpoints -----------------------------------------------------------------

@bp.route("/mine")
class Mine(MethodView):
    @bp.arguments(MineArgs, location="query")
    @bp.response(200, page_of(FollowUpOut, "FollowUpPage"))
    def get(self, args):
        """我的任务（分派给我的跟进任务，按到期日和优先级排列，与页面相同的筛选）"""
        user = core.current_user()
        today = local_today()
        unit = _unit_arg(args.get("org"))
        a = followups.ListArgs(assignee=user.id, org=unit.id if unit else None, status=args.get("status", ""),
                               due=args.get("due", ""), priority=args.get("priority", ""),
                               stage=args.get("stage", ""), q=(args.get("q") or "").strip())
        order = followups.PRIORITY_ORDER
        query = (followups.listing(user, a, today).select_extend(order.alias("rank"))
                 .order_by(*followups.MY_ORDER))
        if args.get("cursor"):
            day, rank, last = _cursor_after(args["cursor"])
            query = query.where((FollowUp.due_on > day) | ((FollowUp.due_on == day) & (
                (order > rank) | ((order == rank) & (FollowUp.id > last)))))
        rows = list(query.limit(args["limit"] + 1))
        more = len(rows) > args["limit"]
        rows = rows[:args["limit"]]
        units = _names(OrgUnit, [fu.org_unit_id for fu in rows])
        people = {user.id: _person(user)}
        last = rows[-1] if rows else None
        return {"items": [_line(fu, units, people, today) for fu in rows],
                "next_cursor": core.encode_cursor([last.due_on.isoformat(), last.rank, last.id]) if more else None}


@bp.route("/board")
class Board(MethodView):
    @bp.arguments(BoardArgs, location="query")
    @bp.response(200, BoardRow(many=True))
    def get(self, args):
        """团队任务：每人的未完成、本周到期、已逾期、本月完成（主管、管理员、领导）"""
        if can("own_tasks_only"):
            abort(403, message="团队任务只对主管、管理员和领导开放；您的任务见 /followups/mine")
        unit = _unit_arg(args.get("org"))
        rows = followups.board(core.current_user(), local_today(), subtree_ids(unit) if unit else None)
        return [board_row(r) for r in rows]


def board_row(r) -> dict:
    u = r.user
    return {"user": _person(u), "org_unit": {"id": u.org_unit.id, "name": u.org_unit.name}, "active": u.active,
            "open": r.open, "week": r.week, "overdue": r.overdue, "done_month": r.done_month}


@bp.route("")
class FollowUps(MethodView):
    @bp.arguments(FollowUpCreate)
    @bp.response(201, FollowUpDetail)
    @bp.alt_response(200, schema=FollowUpDetail, description="同一 Idempotency-Key 的重复提交：返回第一次建的任务")
    @bp.doc(**core.idempotency_header("一条任务"))
    def post(self, data):
        """分派跟进任务"""
        _edits()
        user = core.current_user()
        sent = core.sent(data)
        ent = get_or_404(Enterprise, data["enterprise"], user) if data.get("enterprise") else None
        assignee = User.get_or_none(User.id == data["assignee"])
        task = tasks.Task(title=data["title"], enterprise=ent, detail=data.get("detail", ""))
        fu, created = tasks.create(user, task, assignee, data["due_on"], data["priority"], sent)
        return core.created(followup_json(fu), created, url_for(".FollowUp", fu_id=fu.id))


@bp.route("/<int:fu_id>", endpoint="FollowUp")
class FollowUpItem(MethodView):
    @bp.response(200, FollowUpDetail)
    def get(self, fu_id):
        """一条跟进任务（含修改记录）"""
        return followup_json(get_followup_or_404(fu_id))


def _act(fu_id, action, data):
    _edits()
    fu = get_followup_or_404(fu_id)
    tasks.set_status(core.current_user(), fu, action, data.get("note", ""), data["version"])
    return followup_json(FollowUp.get_by_id(fu.id))


@bp.route("/<int:fu_id>/start")
class Start(MethodView):
    @bp.arguments(Version)
    @bp.response(200, FollowUpDetail)
    def post(self, data, fu_id):
        """开始处理（→ 进行中）"""
        return _act(fu_id, "start", data)


@bp.route("/<int:fu_id>/complete")
class Complete(MethodView):
    @bp.arguments(CompleteIn)
    @bp.response(200, FollowUpDetail)
    def post(self, data, fu_id):
        """完成任务（写明完成情况；version 不是当前版本则 409）"""
        return _act(fu_id, "complete", data)


@bp.route("/<int:fu_id>/cancel")
class Cancel(MethodView):
    @bp.arguments(CancelIn)
    @bp.response(200, FollowUpDetail)
    def post(self, data, fu_id):
        """取消任务（写明原因；主管分派的任务走访干部不能取消）"""
        return _act(fu_id, "cancel", data)


# ---- dashboard -----------------------------------------------------------------------------

class DashboardArgs(Strict):
    org = query_id(metadata={"description": "单位 id（含其下级单位）；不填为本人单位（管理员、领导为全区）"})
    period = ma.fields.String(load_default="year", validate=validate.OneOf([k for k, _ in dashboard.PERIODS]),
                              metadata={"description": "month 本月、quarter 本季度、year 本年（默认）"})
    month = ma.fields.String(validate=validate.Regexp(MONTH),
                             metadata={"description": "YYYY-MM：期间所在的月份，不填为本月"})


class Period(ma.Schema):
    kind = ma.fields.String(required=True)
    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)


class Point(ma.Schema):
    month = ma.fields.String(required=True, metadata={"description": "YYYY-MM"})
    value = ma.fields.Integer(required=True)


def _counts(**kw):
    return ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True, **kw)


class Figures(ma.Schema):
    files = ma.fields.Integer(required=True, metadata={"description": "在档企业"})
    active = ma.fields.Integer(required=True, metadata={"description": "有效企业"})
    unionized = ma.fields.Integer(required=True, metadata={"description": "已建会"})
    union_rate = ma.fields.Float(allow_none=True, required=True, metadata={"description": "建会率 %"})
    large = ma.fields.Integer(required=True, metadata={"description": "25人以上企业"})
    large_unionized = ma.fields.Integer(required=True)
    large_rate = ma.fields.Float(allow_none=True, required=True)
    new_unions = ma.fields.Integer(required=True, metadata={"description": "期间新建工会"})
    contacted_year = ma.fields.Integer(required=True, metadata={"description": "今年已联系企业"})
    coverage = ma.fields.Float(allow_none=True, required=True, metadata={"description": "今年覆盖率 %"})
    key_total = ma.fields.Integer(required=True, metadata={"description": "区级重点企业"})
    key_visited = ma.fields.Integer(required=True, metadata={"description": "本季度已走访的重点企业"})
    key_rate = ma.fields.Float(allow_none=True, required=True)
    never = ma.fields.Integer(required=True, metadata={"description": "从未联系"})
    staff_meetings = ma.fields.Integer(required=True)
    enterprise_meetings = ma.fields.Integer(required=True)
    visits = ma.fields.Integer(required=True)
    members_total = ma.fields.Integer(required=True, metadata={"description": "沟通会新入会"})
    new_members = _counts(metadata={"description": "新入会人数按职业群体"})
    activity_members = ma.fields.Integer(required=True, metadata={"description": "服务活动中入会"})
    cards = ma.fields.Integer(required=True, metadata={"description": "会员互助服务卡"})
    trainings = ma.fields.Integer(required=True)
    trainees = ma.fields.Integer(required=True)
    by_stage = _counts(metadata={"description": "各建会阶段的企业数"})
    moves = _counts(metadata={"description": "期间进入各阶段的次数"})
    median_days = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float(), required=True,
                                 metadata={"description": "各阶段停留天数中位数"})


class Trends(ma.Schema):
    staff = ma.fields.List(ma.fields.Nested(Point), required=True)
    enterprise = ma.fields.List(ma.fields.Nested(Point), required=True)
    members = ma.fields.List(ma.fields.Nested(Point), required=True)
    visits = ma.fields.List(ma.fields.Nested(Point), required=True)
    unions = ma.fields.List(ma.fields.Nested(Point), required=True)


class DashboardOut(ma.Schema):
    unit = ma.fields.Nested(Unit, required=True)
    period = ma.fields.Nested(Period, required=True)
    figures = ma.fields.Nested(Figures, required=True)
    trends = ma.fields.Nested(Trends, required=True, metadata={"description": "近12个月，从早到晚"})
    people = ma.fields.List(ma.fields.Nested(BoardRow), required=True,
                            metadata={"description": "跟进任务按人员（逾期多、未完成多的在前）"})


FIGURES = [name for name in Figures._declared_fields]


def figures_json(f) -> dict:
    return {name: getattr(f, name) for name in FIGURES}


@dashboard_bp.route("")
class Dashboard(MethodView):
    @dashboard_bp.arguments(DashboardArgs, location="query")
    @dashboard_bp.response(200, DashboardOut)
    def get(self, args):
        """工作概况：单位（含下级单位）的各项数字、近12个月趋势、跟进任务按人员"""
        user = core.current_user()
        today = local_today()
        unit = _unit_arg(args.get("org")) or dashboard.home_unit(user)
        year, month = _month_arg(args.get("month"), (today.year, today.month))
        period = dashboard.period_of(args["period"], today, year, month)
        f = dashboard.figures(unit, period, today)
        t = dashboard.trends(unit, today)
        return {"unit": {"id": unit.id, "name": unit.name},
                "period": {"kind": args["period"], "start": period.start, "end": period.end},
                "figures": figures_json(f),
                "trends": {k: [{"month": label, "value": v} for label, v in series] for k, series in t.items()},
                "people": [board_row(r) for r in followups.board(user, today, dashboard.subtree(unit))]}


# ---- the monthly report --------------------------------------------------------------------

class ReportArgs(Strict):
    org = query_id(metadata={"description": "单位 id；不填为本人单位（管理员、领导为全区）"})
    month = ma.fields.String(validate=validate.Regexp(MONTH),
                             metadata={"description": "YYYY-MM；不填为上个月"})


class PartOut(ma.Schema):
    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)
    count = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True)


class CheckOut(ma.Schema):
    rule = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    state = ma.fields.String(required=True, metadata={
        "description": "met 达标、running 进行中、missed 未达标、future 未开始、off 不考核"})
    state_label = ma.fields.String(required=True)
    target = ma.fields.Integer(required=True)
    count = ma.fields.Integer(required=True)
    total = ma.fields.Integer(allow_none=True, required=True)
    percent = ma.fields.Float(allow_none=True, required=True)
    note = ma.fields.String(required=True)
    missing = ma.fields.List(ma.fields.Nested(PartOut), required=True, metadata={"description": "缺少的周或半月"})


class Ranks(ma.Schema):
    meetings = ma.fields.Integer(allow_none=True, required=True)
    coverage = ma.fields.Integer(allow_none=True, required=True)
    new_unions = ma.fields.Integer(allow_none=True, required=True)
    new_members = ma.fields.Integer(allow_none=True, required=True)


class ReportRow(ma.Schema):
    unit = ma.fields.Nested(Unit, required=True)
    checks = ma.fields.List(ma.fields.Nested(CheckOut), required=True, metadata={"description": "“双沟通”等各项规则"})
    meetings = ma.fields.Integer(required=True)
    staff = ma.fields.Integer(required=True)
    enterprise = ma.fields.Integer(required=True)
    contacted = ma.fields.Integer(required=True)
    active = ma.fields.Integer(required=True)
    coverage = ma.fields.Float(allow_none=True, required=True)
    new_unions = ma.fields.Integer(required=True)
    new_members = ma.fields.Integer(required=True)
    ranks = ma.fields.Nested(Ranks, required=True)


class MoveOut(ma.Schema):
    day = ma.fields.Date(required=True)
    enterprise = ma.fields.String(required=True)
    unit = ma.fields.String(required=True)
    from_label = ma.fields.String(required=True)
    to_label = ma.fields.String(required=True)
    who = ma.fields.String(required=True)
    note = ma.fields.String(required=True)


class Totals(ma.Schema):
    staff = ma.fields.Integer(required=True)
    enterprise = ma.fields.Integer(required=True)
    meetings = ma.fields.Integer(required=True)
    new_unions = ma.fields.Integer(required=True)
    new_members = ma.fields.Integer(required=True)
    coverage = ma.fields.Float(allow_none=True, required=True)


class ReportOut(ma.Schema):
    title = ma.fields.String(required=True)
    year = ma.fields.Integer(required=True)
    month = ma.fields.Integer(required=True)
    scope = ma.fields.Nested(Unit, required=True)
    period = ma.fields.Nested(Period, required=True)
    district = ma.fields.Nested(CheckOut, allow_none=True, required=True,
                                metadata={"description": "区级职工沟通会（第三个星期四）；范围不是全区时为 null"})
    rows = ma.fields.List(ma.fields.Nested(ReportRow), required=True)
    totals = ma.fields.Nested(Totals, required=True)
    moves = ma.fields.List(ma.fields.Nested(MoveOut), required=True, metadata={"description": "本月全部建会进度变动"})
    moves_total = ma.fields.Integer(required=True)
    moves_by_stage = _counts()


def check_json(c) -> dict:
    return {"rule": c.rule.key, "label": c.rule.label, "state": c.state, "state_label": STATE_TEXT.get(c.state, c.state),
            "target": c.target, "count": c.count, "total": c.total, "percent": c.percent, "note": c.note,
            "missing": [{"start": p.period.start, "end": p.period.end, "count": p.count, "state": p.state}
                        for p in c.missing]}


def report_json(r) -> dict:
    return {"title": r.title, "year": r.year, "month": r.month, "scope": {"id": r.scope.id, "name": r.scope.name},
            "period": {"kind": "month", "start": r.period.start, "end": r.period.end},
            "district": check_json(r.district[0]) if r.district else None,
            "rows": [{"unit": {"id": row.unit.id, "name": row.unit.name},
                      "checks": [check_json(c) for c in row.checks.values()],
                      **{k: getattr(row, k) for k in ("meetings", "staff", "enterprise", "contacted", "active",
                                                       "coverage", "new_unions", "new_members")},
                      "ranks": {k: row.ranks.get(k) for k, _ in monthly.RANK_KEYS}} for row in r.rows],
            "totals": {**{k: r.total(k) for k in ("staff", "enterprise", "meetings", "new_unions", "new_members")},
                       "coverage": r.total_coverage},
            "moves": [vars(m) for m in r.moves], "moves_total": r.moves_total, "moves_by_stage": r.moves_by_stage}


@reports_bp.route("/monthly")
class Monthly(MethodView):
    @reports_bp.arguments(ReportArgs, location="query")
    @reports_bp.response(200, ReportOut)
    def get(self, args):
        """月度通报：“双沟通”达标、各单位排名、本月建会进度变动"""
        user = core.current_user()
        today = local_today()
        unit = _unit_arg(args.get("org")) or dashboard.home_unit(user)
        year, month = _month_arg(args.get("month"), last_complete_month(today))
        return report_json(monthly.build(user, unit, year, month, today))


# ---- members (read only) -------------------------------------------------------------------

class MemberArgs(PageArgs):
    q = text(50, metadata={"description": "姓名；或完整的 11 位手机号（按号码查找，不接受部分号码）"})
    group = one_of(TARGET_GROUPS)
    platform = one_of(PLATFORMS)
    org = query_id(metadata={"description": "入会单位 id（含其下级单位）"})
    date_from = ma.fields.Date(metadata={"description": "入会日期从（北京时间）"})
    date_to = ma.fields.Date(metadata={"description": "入会日期至"})
    meeting = query_id(metadata={"description": "在这场沟通会登记的会员"})
    point = query_id(metadata={"description": "在这个固定点位（或在此召开的沟通会）登记的会员"})
    card = ma.fields.String(validate=validate.OneOf([k for k, _ in roster.CARD_FILTERS]),
                            metadata={"description": "会员互助服务卡：1 已办理、0 未办理"})
    state = ma.fields.String(validate=validate.OneOf(list(roster.LISTED_STATES)),
                             metadata={"description": "pending 待确认、active 会员"})
    archived = ma.fields.String(validate=validate.OneOf(["1"]), metadata={"description": "1：仅归档的"})


class PlaceOut(ma.Schema):
    kind = ma.fields.String(required=True, metadata={"description": "meeting、point、activity"})
    label = ma.fields.String(required=True)
    text = ma.fields.String(required=True, metadata={"description": "日期和名称；不在您管辖范围内时为所属单位"})
    record_id = ma.fields.Integer(allow_none=True, required=True)


class MemberOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    phone_mask = ma.fields.String(required=True, metadata={"description": "遮盖后的手机号，如 138****5678"})
    group = ma.fields.String(required=True)
    group_label = ma.fields.String(required=True)
    platform = ma.fields.String(required=True)
    platform_text = ma.fields.String(required=True)
    station = ma.fields.String(required=True)
    org_unit = ma.fields.Nested(Unit, required=True)
    enterprise = ma.fields.Nested(Firm, allow_none=True, required=True,
                                  metadata={"description": "关联的企业档案（您能查看时）"})
    state = ma.fields.String(required=True)
    state_label = ma.fields.String(required=True)
    joined_at = UtcDateTime(required=True)
    joined_place = ma.fields.Nested(PlaceOut, allow_none=True, required=True)
    card_issued = ma.fields.Boolean(required=True)
    card_issued_at = UtcDateTime(allow_none=True, required=True)
    archived = ma.fields.Boolean(required=True)
    archived_reason = ma.fields.String(required=True)
    erased = ma.fields.Boolean(required=True, metadata={"description": "个人信息已应本人要求删除"})


class MemberSignUp(ma.Schema):
    id = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True)
    state_label = ma.fields.String(required=True)
    counted = ma.fields.Boolean(required=True)
    is_new = ma.fields.Boolean(required=True, metadata={"description": "这次登记使其入会"})
    day = ma.fields.Date(required=True)
    signed_at = UtcDateTime(required=True)
    place = ma.fields.Nested(PlaceOut, required=True)


class MemberDetail(MemberOut):
    signups = ma.fields.List(ma.fields.Nested(MemberSignUp), required=True)


def _place(p) -> dict | None:
    return {"kind": p.kind, "label": p.label, "text": p.text, "record_id": p.record_id} if p is not None else None


def member_json(m: Member, info, unit: dict) -> dict:
    ent = info.enterprise
    return {"id": m.id, "name": m.name, "phone_mask": m.phone_mask, "group": m.group,
            "group_label": TARGET_GROUPS.label(m.group), "platform": m.platform,
            "platform_text": roster.platform_text(m), "station": m.station, "org_unit": unit,
            "enterprise": {"id": ent.id, "name": ent.name} if ent is not None else None,
            "state": m.state, "state_label": MEMBER_STATES.label(m.state), "joined_at": m.joined_at,
            "joined_place": _place(info.joined_at), "card_issued": m.card_issued,
            "card_issued_at": m.card_issued_at, "archived": m.archived, "archived_reason": m.archived_reason,
            "erased": m.erased_at is not None}


def _roster_args(args) -> roster.RosterArgs:
    """The roster's filters as the page reads them from its URL (a full number becomes the
    search by its keyed hash, as the page's redirect does); a filter it refuses is a 422."""
    _unit_arg(args.get("org"))
    raw = MultiDict({k: v.isoformat() if isinstance(v, date) else str(v) for k, v in args.items()
                     if k not in ("cursor", "limit")})
    by_phone = roster.phone_search(raw)
    if by_phone is not None:
        raw = MultiDict(by_phone)
    a = roster.RosterArgs.from_request(raw, core.current_user())
    if a.errors:
        abort(422, message="；".join(a.errors.values()),
              errors=[{"field": k, "message": v} for k, v in a.errors.items()])
    return a


@members_bp.route("")
class Members(MethodView):
    @members_bp.arguments(MemberArgs, location="query")
    @members_bp.response(200, page_of(MemberOut, "MemberPage"))
    def get(self, args):
        """会员台账（与页面相同的筛选，按 id 游标分页；手机号只给遮盖后的号码）"""
        user = core.current_user()
        a = _roster_args(args)

        def shape(rows):
            info = roster.row_info(rows, user)
            units = _names(OrgUnit, [m.org_unit_id for m in rows])
            return [member_json(m, info[m.id], units[m.org_unit_id]) for m in rows]

        return core.page_by_id(roster.filtered(user, a), Member, args, shape)


@members_bp.route("/<int:member_id>")
class MemberItem(MethodView):
    @members_bp.response(200, MemberDetail)
    def get(self, member_id):
        """一位会员（含其全部登记）"""
        user = core.current_user()
        m = roster.get_member_or_404(member_id, user)
        out = member_json(m, roster.row_info([m], user)[m.id], _names(OrgUnit, [m.org_unit_id])[m.org_unit_id])
        out["signups"] = [{"id": r.signup.id, "state": r.signup.state, "state_label": SIGNUP_STATES.label(r.signup.state),
                           "counted": r.signup.counted, "is_new": r.signup.is_new, "day": r.signup.day,
                           "signed_at": r.signup.signed_at, "place": _place(r.place)}
                          for r in roster.signups_of(m, user)]
        return out


# ---- sign-ups of a record (read only) ------------------------------------------------------

class SignUpArgs(Strict):
    meeting = query_id(metadata={"description": "沟通会 id"})
    point = query_id(metadata={"description": "固定点位 id"})
    activity = query_id(metadata={"description": "服务活动 id"})


class SignUpMember(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    phone_mask = ma.fields.String(required=True)


class SignUpOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    member = ma.fields.Nested(SignUpMember, required=True)
    state = ma.fields.String(required=True, metadata={
        "description": "pending 待确认、confirmed 已确认、rejected 已驳回、registered 已报名、waitlisted 候补、cancelled 已取消"})
    state_label = ma.fields.String(required=True)
    counted = ma.fields.Boolean(required=True, metadata={"description": "已确认或已签到，计入人数"})
    is_new = ma.fields.Boolean(required=True)
    group = ma.fields.String(required=True)
    day = ma.fields.Date(required=True)
    signed_at = UtcDateTime(required=True)
    checked_in_at = UtcDateTime(allow_none=True, required=True)
    via = ma.fields.String(required=True, metadata={"description": "qr 本人扫码；staff 干部代填"})


class SignUpList(ma.Schema):
    kind = ma.fields.String(required=True)
    record_id = ma.fields.Integer(required=True)
    counted = ma.fields.Integer(required=True, metadata={"description": "计入人数的登记"})
    items = ma.fields.List(ma.fields.Nested(SignUpOut), required=True, metadata={"description": "最新的在前"})


GETTERS = {"meeting": get_meeting_or_404, "point": get_point_or_404, "activity": get_activity_or_404}


@signups_bp.route("")
class SignUps(MethodView):
    @signups_bp.arguments(SignUpArgs, location="query")
    @signups_bp.response(200, SignUpList)
    def get(self, args):
        """一场沟通会、一个固定点位或一次服务活动的全部登记（三者选一）"""
        asked = [k for k in GETTERS if args.get(k)]
        if len(asked) != 1:
            abort(422, message="请在 meeting、point、activity 中指定且只指定一个",
                  errors=[{"field": "meeting", "message": "meeting、point、activity 三选一"}])
        kind = asked[0]
        record = GETTERS[kind](args[kind], core.current_user())
        return {"kind": kind, "record_id": record.id, "counted": signups.counted_of(kind, record),
                "items": [{"id": s.id, "member": {"id": s.member.id, "name": s.member.name,
                                                  "phone_mask": s.member.phone_mask},
                           "state": s.state, "state_label": SIGNUP_STATES.label(s.state), "counted": s.counted,
                           "is_new": s.is_new, "group": s.group, "day": s.day, "signed_at": s.signed_at,
                           "checked_in_at": s.checked_in_at, "via": s.via}
                          for s in signups.signups_of(kind, record)]}
