"""/api/v1 field work: 走访 (visits), 沟通会 (meetings) and their 固定点位 (outreach points), 培训
(trainings), 服务活动 (activities) and 需求意见 (needs).

Each kind: its ledger (台账) with the ledger page's filters, by id cursor; one record through the
kind's get_…_or_404 (its scoping); and, where the pages record one, a create through the kind's
service with an Idempotency-Key. Needs are raised by visits and meetings (need_categories), not
recorded on their own, so they are read only here. Photos are not part of the API."""
from datetime import date

from flask import url_for
from flask.views import MethodView
from flask_smorest import abort
import marshmallow as ma
from marshmallow import validate
from werkzeug.exceptions import NotFound

from crm.activities import queries as activity_queries
from crm.activities import services as activity_services
from crm.activities.kind import get_activity_or_404
from crm.api import core
from crm.api.enterprises import get_enterprise_or_404
from crm.api.schemas import (PageArgs, Person, Strict, Unit, UtcDateTime, an_id, flag, long_text, one_of,
                             query_id, text)
from crm.api.schemas import page_of as page_schema
from crm.auth.models import User
from crm.common.timeutil import local_today
from crm.fieldwork import registry
from crm.fieldwork.choices import (MEETING_FORMATS, MEETING_KINDS, MEETING_LEVELS, NEED_CATEGORIES,
                                   NEED_STATUSES, PARTNERS, POINT_KINDS, SERVICES, TARGET_GROUPS,
                                   TRAINING_CATEGORIES, VISIT_KINDS, VISIT_PURPOSES, split_keys)
from crm.fieldwork.forms import EARLIEST
from crm.fieldwork.inputs import MAX_COUNT, MAX_SERVED, pickable
from crm.fieldwork.ledger import LedgerArgs
from crm.fieldwork.links import linked_enterprises
from crm.meetings import queries as meeting_queries
from crm.meetings import services as meeting_services
from crm.meetings.kind import get_meeting_or_404, get_point_or_404
from crm.meetings.models import MeetingEnterprise
from crm.needs import queries as need_queries
from crm.needs.kind import get_need_or_404
from crm.needs.models import NOTE_MAX
from crm.needs.services import raised_by
from crm.org.models import OrgUnit
from crm.permissions import can
from crm.sync import services as submissions
from crm.trainings import queries as training_queries
from crm.trainings import services as training_services
from crm.trainings.kind import get_training_or_404
from crm.visits import queries as visit_queries
from crm.visits import services as visit_services
from crm.visits.kind import get_visit_or_404

visits_bp = core.blueprint("visits", "/visits", "走访记录")
meetings_bp = core.blueprint("meetings", "/meetings", "沟通会（职工沟通会、企业沟通会）")
points_bp = core.blueprint("points", "/outreach-points", "固定点位（沟通会、服务活动的常用地点）")
trainings_bp = core.blueprint("trainings", "/trainings", "培训")
activities_bp = core.blueprint("activities", "/activities", "服务活动")
needs_bp = core.blueprint("needs", "/needs", "企业需求意见（由走访和沟通会提出）")
BLUEPRINTS = [visits_bp, meetings_bp, points_bp, trainings_bp, activities_bp, needs_bp]

IDEMPOTENCY = core.idempotency_header("一条记录")
REPLAY = "同一 Idempotency-Key 的重复提交：返回第一次保存的记录"
COUNT = {"strict": True, "validate": validate.Range(min=0, max=MAX_COUNT)}


# ---- shared schemas ------------------------------------------------------------------------

def keys_of(choices, max_items=None, **kw):
    """A list of choice keys (several services, groups, purposes …)."""
    return ma.fields.List(one_of(choices), validate=validate.Length(max=max_items or len(choices.keys())), **kw)


def ids(max_items, **kw):
    return ma.fields.List(an_id(), validate=validate.Length(max=max_items), **kw)


def day(**kw):
    return ma.fields.Date(validate=validate.Range(min=EARLIEST, max=date(9999, 12, 31)), **kw)


def _ahead(value):
    """A next step's day: ahead is fine, but not absurdly far (as the form's sensible_date)."""
    if not EARLIEST <= value <= date(local_today().year + 5, 12, 31):
        raise ma.ValidationError("日期超出合理范围，请检查年份")


NeedNotes = type("NeedNotes", (Strict,), {
    "__doc__": "每个需求类别自己的说明：键为类别，值为说明",
    **{key: long_text(NOTE_MAX, metadata={"description": f"需求意见说明·{label}"}) for key, label in NEED_CATEGORIES}})

NewMembers = type("NewMembers", (Strict,), {
    "__doc__": "纸质登记的新入会人数，按群体",
    **{key: ma.fields.Integer(**COUNT, metadata={"description": f"纸质登记新入会人数·{label}"})
       for key, label in TARGET_GROUPS}})

GroupCounts = type("GroupCounts", (ma.Schema,), {
    "__doc__": "新入会人数（扫码登记与纸质登记合计），按群体；没有的群体不列出",
    **{key: ma.fields.Integer(metadata={"description": label}) for key, label in TARGET_GROUPS}})


class LinkedFirm(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class RecordOut(ma.Schema):
    """What every field-work record shows."""
    id = ma.fields.Integer(required=True)
    unit = ma.fields.Nested(Unit, required=True, metadata={"description": "所属（组织）单位"})
    enterprises = ma.fields.List(ma.fields.Nested(LinkedFirm), required=True,
                                 metadata={"description": "涉及的企业（只列出您管辖范围内的）"})
    created_by = ma.fields.Nested(Person, allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    version = ma.fields.Integer(required=True)
    archived = ma.fields.Boolean(required=True)


class NeedBrief(ma.Schema):
    id = ma.fields.Integer(required=True)
    category = ma.fields.String(required=True)
    detail = ma.fields.String(required=True)
    status = ma.fields.String(required=True)


class CursorArgs(PageArgs):
    # A cursor is base64url: said so in the description, a client (or a fuzzer) sends no text a
    # server's request line cannot carry once percent-encoded.
    cursor = ma.fields.String(validate=[validate.Length(max=200), validate.Regexp(r"^[A-Za-z0-9_-]*$")],
                              metadata={"description": "上一页返回的 next_cursor；第一页不填"})


class LedgerQuery(CursorArgs):
    """The filters every ledger takes."""
    org = query_id(metadata={"description": "单位 id（含其下级单位）"})
    date_from = day(metadata={"description": "开始日期（含）"})
    date_to = day(metadata={"description": "结束日期（含）"})
    staff = query_id(metadata={"description": "记录人（走访：走访人）的用户 id"})
    archived = ma.fields.String(validate=validate.OneOf(["0", "1"]),
                                metadata={"description": "不填或 0：有效记录；1：仅已归档"})


def ledger_query(name: str, kind=None, kind_label="", group=False, status=False):
    fields = {}
    if kind is not None:
        fields["kind"] = one_of(kind, metadata={"description": kind_label})
    if group:
        fields["group"] = one_of(TARGET_GROUPS, metadata={"description": "面向群体"})
    if status:
        fields["status"] = one_of(NEED_STATUSES, metadata={"description": "处理状态（不填：全部）"})
    return type(name, (LedgerQuery,), fields)


# ---- shared pieces -------------------------------------------------------------------------

def _user():
    return core.current_user()


def _edits():
    if not can("edit_records"):
        abort(403, message="领导账号只能查看，不能记录或修改")


def _ledger_args(args, **choices) -> LedgerArgs:
    """The API's filters as the ledger page reads them from its query string."""
    strings = {k: (v.isoformat() if hasattr(v, "isoformat") else str(v))
               for k, v in args.items() if k not in ("cursor", "limit")}
    a = LedgerArgs.from_request(strings, **choices)
    if a.errors:
        abort(422, message="筛选条件有误", errors=[{"field": k, "message": v} for k, v in a.errors.items()])
    return a


def _create(kind_key: str, data: dict, create):
    """Save through the kind's service once per Idempotency-Key: a re-send of saved content gets
    its record before any check (as the pages' forms do), whatever changed since.
    Returns (record, created)."""
    _edits()
    sent = core.sent(data)
    earlier = submissions.prior(sent, _user())
    if earlier is not None:
        return registry.get(kind_key).get_or_404(earlier.record_id, _user()), False
    return create(sent)


def _people(records) -> dict:
    ids = {r.created_by_id for r in records if r.created_by_id}
    return dict(User.select(User.id, User.name).where(User.id.in_(list(ids))).tuples()) if ids else {}


def _units(unit_ids) -> dict:
    unit_ids = {i for i in unit_ids if i}
    return dict(OrgUnit.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(list(unit_ids))).tuples()) \
        if unit_ids else {}


def _firms(firms) -> list:
    return [{"id": e.id, "name": e.name} for e in firms]


def _common(r, unit: dict, firms: list, people: dict) -> dict:
    return {"id": r.id, "unit": unit, "enterprises": _firms(firms),
            "created_by": {"id": r.created_by_id, "name": people.get(r.created_by_id, "")}
            if r.created_by_id else None,
            "created_at": r.created_at, "updated_at": r.updated_at, "version": r.version, "archived": r.archived}


def _needs(**of) -> list:
    return [{"id": n.id, "category": n.category, "detail": n.detail, "status": n.status} for n in raised_by(**of)]


def _check_ent(ent_id):
    try:
        return get_enterprise_or_404(ent_id)
    except NotFound:
        abort(422, message="所选企业不存在或不在您的管辖范围内",
              errors=[{"field": "enterprise", "message": "不存在或不在管辖范围内"}])


# ---- 走访 ----------------------------------------------------------------------------------

class VisitIn(Strict):
    """A visit as its form records it (见 visits/form)."""
    enterprise = an_id(required=True, metadata={"description": "走访的企业档案 id"})
    visited_on = day(required=True, metadata={"description": "走访日期（不晚于今天）"})
    visit_time = ma.fields.Time(allow_none=True, metadata={"description": "时间"})
    kind = one_of(VISIT_KINDS, load_default="door", metadata={"description": "走访方式（默认上门走访）"})
    purposes = keys_of(VISIT_PURPOSES, metadata={"description": "走访目的"})
    summary = long_text(5000, 1, required=True, metadata={"description": "内容摘要"})
    visitor_ids = ma.fields.List(an_id(), validate=validate.Length(min=1, max=50),
                                 metadata={"description": "走访人（用户 id）；不填为您自己"})
    contact_ids = ids(50, metadata={"description": "见到的联系人（该企业联系人的 id）"})
    contacts_met = text(300, metadata={"description": "其他见到的人"})
    add_contact = flag(metadata={"description": "把“其他见到的人”添加为联系人（只填一个人的姓名）"})
    new_contact_title = text(64, metadata={"description": "联系人职务"})
    new_contact_phone = text(32, metadata={"description": "联系人电话"})
    need_categories = keys_of(NEED_CATEGORIES, metadata={"description": "企业需求意见的类别"})
    need_notes = ma.fields.Nested(NeedNotes)
    outcome = long_text(2000, metadata={"description": "走访结果"})
    next_step = text(300, metadata={"description": "下一步"})
    next_step_on = ma.fields.Date(allow_none=True, validate=_ahead, metadata={"description": "下一步日期"})
    move_to = ma.fields.String(validate=validate.OneOf([""] + [s.key for s in visit_services.MOVE_TARGETS]),
                               metadata={"description": "同时变更建会进度到该阶段（空：不变更）"})
    move_note = text(500, metadata={"description": "进度说明：跨阶段、回退或转入特殊状态时必填"})
    latitude = ma.fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = ma.fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = ma.fields.Float(allow_none=True, validate=validate.Range(min=0, max=1_000_000))


class VisitOut(RecordOut):
    enterprise = ma.fields.Nested(LinkedFirm, required=True)
    visited_on = ma.fields.Date(required=True)
    visit_time = ma.fields.Time(allow_none=True, required=True)
    kind = ma.fields.String(required=True)
    kind_label = ma.fields.String(required=True)
    purposes = ma.fields.List(ma.fields.String(), required=True)
    visitors = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "走访人的姓名"})
    contacts_met = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)
    outcome = ma.fields.String(required=True)
    next_step = ma.fields.String(required=True)
    next_step_on = ma.fields.Date(allow_none=True, required=True)


class VisitDetail(VisitOut):
    needs = ma.fields.List(ma.fields.Nested(NeedBrief), required=True, metadata={"description": "提出的需求意见"})


VisitQuery = ledger_query("VisitQuery", VISIT_KINDS, "走访方式")


def visits_json(visits, detail=False) -> list:
    people, visitors = _people(visits), visit_queries.visitors_of([v.id for v in visits])
    units = _units(v.org_unit_id for v in visits)
    out = []
    for v in visits:
        firm = {"id": v.enterprise.id, "name": v.enterprise.name}
        item = _common(v, {"id": v.org_unit_id, "name": units.get(v.org_unit_id, "")}, [v.enterprise], people)
        item.update(enterprise=firm, visited_on=v.visited_on, visit_time=v.visit_time, kind=v.kind,
                    kind_label=VISIT_KINDS.label(v.kind), purposes=split_keys(v.purposes),
                    visitors=visitors.get(v.id, []), contacts_met=v.contacts_met, summary=v.summary,
                    outcome=v.outcome, next_step=v.next_step, next_step_on=v.next_step_on)
        if detail:
            item["needs"] = _needs(visit=v.id)
        out.append(item)
    return out


def visit_json(visit) -> dict:
    return visits_json([visit], detail=True)[0]


@visits_bp.route("")
class Visits(MethodView):
    @visits_bp.arguments(VisitQuery, location="query")
    @visits_bp.response(200, page_schema(VisitOut, "VisitPage"))
    def get(self, args):
        """走访台账（与台账页面相同的筛选，按 id 游标分页）"""
        a = _ledger_args(args, kinds=VISIT_KINDS)
        query = visit_queries.with_firms(visit_queries.ledger(_user(), a))
        return core.page_by_id(query, query.model, args, visits_json)

    @visits_bp.arguments(VisitIn)
    @visits_bp.response(201, VisitDetail)
    @visits_bp.alt_response(200, schema=VisitDetail, description=REPLAY)
    @visits_bp.doc(**IDEMPOTENCY)
    def post(self, data):
        """记录走访"""
        def create(sent):
            ent = _check_ent(data["enterprise"])
            allowed = {c[0] for c in visit_queries.visitor_choices(ent, _user())}
            values = {k: v for k, v in data.items() if k != "enterprise"}
            values.setdefault("visitor_ids", [_user().id])
            values["need_notes"] = data.get("need_notes") or {}
            return visit_services.create_visit(ent, values, _user(), sent, allowed)

        visit, created = _create("visit", data, create)
        visit = get_visit_or_404(visit.id, _user())
        return core.created(visit_json(visit), created, url_for(".Visit", record_id=visit.id))


@visits_bp.route("/<int:record_id>", endpoint="Visit")
class VisitItem(MethodView):
    @visits_bp.response(200, VisitDetail)
    def get(self, record_id):
        """一条走访记录（含提出的需求意见）"""
        return visit_json(get_visit_or_404(record_id, _user()))


# ---- 沟通会 -------------------------------------------------------------------------------

class MeetingIn(Strict):
    """A meeting as its form records it."""
    kind = one_of(MEETING_KINDS, load_default="staff", metadata={"description": "类型（默认职工沟通会）"})
    level = one_of(MEETING_LEVELS, load_default="routine", metadata={"description": "级别（默认常态化）"})
    format = one_of(MEETING_FORMATS, load_default="face", metadata={"description": "形式（默认面对面）"})
    org_unit = an_id(metadata={"description": "组织单位 id（不填为您的单位）"})
    held_on = day(required=True, metadata={"description": "日期（不晚于今天）"})
    start_time = ma.fields.Time(allow_none=True)
    title = text(200, metadata={"description": "主题"})
    venue = text(200, metadata={"description": "地点（选了固定点位可不填）"})
    point = an_id(allow_none=True, metadata={"description": "固定点位 id"})
    target_groups = keys_of(TARGET_GROUPS, metadata={"description": "面向群体"})
    attendees = ma.fields.Integer(**COUNT, metadata={"description": "参加人数（纸质登记）"})
    new_members = ma.fields.Nested(NewMembers)
    cards = ma.fields.Integer(**COUNT, metadata={"description": "会员互助服务卡办理数"})
    services = keys_of(SERVICES, metadata={"description": "服务内容"})
    partners = keys_of(PARTNERS, metadata={"description": "合作单位"})
    enterprise_ids = ids(MAX_SERVED, metadata={"description": "参会企业（档案 id）"})
    summary = long_text(5000, 1, required=True, metadata={"description": "内容摘要"})
    need_categories = keys_of(NEED_CATEGORIES, metadata={"description": "需求意见的类别"})
    need_notes = ma.fields.Nested(NeedNotes)


class PointBrief(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class MeetingOut(RecordOut):
    kind = ma.fields.String(required=True)
    kind_label = ma.fields.String(required=True)
    level = ma.fields.String(required=True)
    format = ma.fields.String(required=True)
    held_on = ma.fields.Date(required=True)
    start_time = ma.fields.Time(allow_none=True, required=True)
    title = ma.fields.String(required=True)
    venue = ma.fields.String(required=True)
    point = ma.fields.Nested(PointBrief, allow_none=True, required=True)
    target_groups = ma.fields.List(ma.fields.String(), required=True)
    attendees = ma.fields.Integer(required=True, metadata={"description": "参加人数（扫码登记与纸质登记合计）"})
    paper_attendees = ma.fields.Integer(required=True, metadata={"description": "参加人数（纸质登记）"})
    new_members = ma.fields.Integer(required=True, metadata={"description": "新入会人数合计"})
    new_members_by_group = ma.fields.Nested(GroupCounts, required=True)
    cards = ma.fields.Integer(required=True)
    services = ma.fields.List(ma.fields.String(), required=True)
    partners = ma.fields.List(ma.fields.String(), required=True)
    summary = ma.fields.String(required=True)


class MeetingDetail(MeetingOut):
    needs = ma.fields.List(ma.fields.Nested(NeedBrief), required=True, metadata={"description": "提出的需求意见"})


MeetingQuery = ledger_query("MeetingQuery", MEETING_KINDS, "类型", group=True)


def _point(r):
    return {"id": r.point.id, "name": r.point.name} if r.point_id else None


def meetings_json(meetings, detail=False) -> list:
    ids_ = [m.id for m in meetings]
    people, counts = _people(meetings), meeting_queries.group_counts(ids_)
    firms = linked_enterprises(MeetingEnterprise.meeting, ids_, _user())
    out = []
    for m in meetings:
        item = _common(m, {"id": m.org_unit.id, "name": m.org_unit.name}, firms.get(m.id, []), people)
        item.update(kind=m.kind, kind_label=MEETING_KINDS.label(m.kind), level=m.level, format=m.format,
                    held_on=m.held_on, start_time=m.start_time, title=m.title, venue=m.venue, point=_point(m),
                    target_groups=split_keys(m.target_groups), attendees=m.attendees,
                    paper_attendees=m.paper_attendees, new_members=m.new_members,
                    new_members_by_group={k: n for k, n in counts.get(m.id, {}).items() if n and k in TARGET_GROUPS},
                    cards=m.cards, services=split_keys(m.services), partners=split_keys(m.partners),
                    summary=m.summary)
        if detail:
            item["needs"] = _needs(meeting=m.id)
        out.append(item)
    return out


def meeting_json(meeting) -> dict:
    return meetings_json([meeting], detail=True)[0]


@meetings_bp.route("")
class Meetings(MethodView):
    @meetings_bp.arguments(MeetingQuery, location="query")
    @meetings_bp.response(200, page_schema(MeetingOut, "MeetingPage"))
    def get(self, args):
        """沟通会台账（与台账页面相同的筛选，按 id 游标分页）"""
        a = _ledger_args(args, kinds=MEETING_KINDS, groups=TARGET_GROUPS)
        query = meeting_queries.ledger(_user(), a)
        return core.page_by_id(query, query.model, args, meetings_json)

    @meetings_bp.arguments(MeetingIn)
    @meetings_bp.response(201, MeetingDetail)
    @meetings_bp.alt_response(200, schema=MeetingDetail, description=REPLAY)
    @meetings_bp.doc(**IDEMPOTENCY)
    def post(self, data):
        """记录沟通会"""
        def create(sent):
            values = {"org_unit": _user().org_unit_id, "new_members": {}, "need_notes": {}, **data}
            return meeting_services.create_meeting(values, _user(), sent)

        meeting, created = _create("meeting", data, create)
        meeting = get_meeting_or_404(meeting.id, _user())
        return core.created(meeting_json(meeting), created, url_for(".Meeting", record_id=meeting.id))


@meetings_bp.route("/<int:record_id>", endpoint="Meeting")
class MeetingItem(MethodView):
    @meetings_bp.response(200, MeetingDetail)
    def get(self, record_id):
        """一次沟通会（含参会企业、按群体的新入会人数、提出的需求意见）"""
        return meeting_json(get_meeting_or_404(record_id, _user()))


# ---- 固定点位 -----------------------------------------------------------------------------

class PointIn(Strict):
    name = text(100, 1, required=True, metadata={"description": "名称"})
    address = text(300, metadata={"description": "地址"})
    org_unit = an_id(metadata={"description": "所属工会 id（不填为您的单位）"})
    kind = one_of(POINT_KINDS, required=True, metadata={"description": "类型"})
    schedule = text(100, metadata={"description": "活动时间，如：每周四上午"})
    target_groups = keys_of(TARGET_GROUPS, metadata={"description": "常见群体"})
    notes = long_text(2000, metadata={"description": "备注"})


class PointOut(RecordOut):
    name = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    kind_label = ma.fields.String(required=True)
    schedule = ma.fields.String(required=True)
    target_groups = ma.fields.List(ma.fields.String(), required=True)
    notes = ma.fields.String(required=True)


class PointQuery(CursorArgs):
    archived = ma.fields.String(validate=validate.OneOf(["0", "1"]),
                                metadata={"description": "不填或 0：在用的点位；1：已归档的"})


def points_json(points) -> list:
    people, units = _people(points), _units(p.org_unit_id for p in points)
    out = []
    for p in points:
        item = _common(p, {"id": p.org_unit_id, "name": units.get(p.org_unit_id, "")}, [], people)
        item.update(name=p.name, address=p.address, kind=p.kind, kind_label=POINT_KINDS.label(p.kind),
                    schedule=p.schedule, target_groups=split_keys(p.target_groups), notes=p.notes)
        out.append(item)
    return out


@points_bp.route("")
class Points(MethodView):
    @points_bp.arguments(PointQuery, location="query")
    @points_bp.response(200, page_schema(PointOut, "PointPage"))
    def get(self, args):
        """固定点位（与页面相同：在用或已归档的，按 id 游标分页）"""
        after = core.cursor_id(args)
        # The page lists a unit's few points whole; they are paged here by id.
        rows = sorted((p for p in meeting_queries.points(_user(), args.get("archived") == "1") if p.id > after),
                      key=lambda p: p.id)
        return core.page_of_rows(rows, args["limit"], points_json)

    @points_bp.arguments(PointIn)
    @points_bp.response(201, PointOut)
    @points_bp.alt_response(200, schema=PointOut, description=REPLAY)
    @points_bp.doc(**IDEMPOTENCY)
    def post(self, data):
        """新建固定点位"""
        def create(sent):
            return meeting_services.create_point({"org_unit": _user().org_unit_id, **data}, _user(), sent)

        point, created = _create("point", data, create)
        return core.created(points_json([point])[0], created, url_for(".Point", record_id=point.id))


@points_bp.route("/<int:record_id>", endpoint="Point")
class PointItem(MethodView):
    @points_bp.response(200, PointOut)
    def get(self, record_id):
        """一个固定点位"""
        return points_json([get_point_or_404(record_id, _user())])[0]


# ---- 培训 ----------------------------------------------------------------------------------

class TrainingIn(Strict):
    title = text(200, 1, required=True, metadata={"description": "培训名称"})
    held_on = day(required=True, metadata={"description": "培训日期（不晚于今天）"})
    category = one_of(TRAINING_CATEGORIES, load_default="quality", metadata={"description": "类别"})
    hours = ma.fields.Float(allow_none=True, validate=validate.Range(min=0, max=24),
                            metadata={"description": "学时（0–24，保留一位小数）"})
    participants = ma.fields.Integer(**COUNT, metadata={"description": "参训人数"})
    trainer = text(100, metadata={"description": "授课人"})
    org_unit = an_id(metadata={"description": "组织单位 id（不填为您的单位）"})
    enterprise_ids = ids(MAX_SERVED, metadata={"description": "服务企业（档案 id）"})
    summary = long_text(5000, 1, required=True, metadata={"description": "内容摘要"})


class TrainingOut(RecordOut):
    title = ma.fields.String(required=True)
    held_on = ma.fields.Date(required=True)
    category = ma.fields.String(required=True)
    category_label = ma.fields.String(required=True)
    hours = ma.fields.Float(allow_none=True, required=True)
    participants = ma.fields.Integer(required=True)
    trainer = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)


TrainingQuery = ledger_query("TrainingQuery", TRAINING_CATEGORIES, "类别")


def trainings_json(trainings) -> list:
    people = _people(trainings)
    firms = training_queries.enterprises_of([t.id for t in trainings], _user())
    out = []
    for t in trainings:
        item = _common(t, {"id": t.org_unit.id, "name": t.org_unit.name}, firms.get(t.id, []), people)
        item.update(title=t.title, held_on=t.held_on, category=t.category,
                    category_label=TRAINING_CATEGORIES.label(t.category),
                    hours=float(t.hours) if t.hours is not None else None, participants=t.participants,
                    trainer=t.trainer, summary=t.summary)
        out.append(item)
    return out


@trainings_bp.route("")
class Trainings(MethodView):
    @trainings_bp.arguments(TrainingQuery, location="query")
    @trainings_bp.response(200, page_schema(TrainingOut, "TrainingPage"))
    def get(self, args):
        """培训台账（与台账页面相同的筛选，按 id 游标分页）"""
        a = _ledger_args(args, kinds=TRAINING_CATEGORIES)
        query = training_queries.ledger(_user(), a)
        return core.page_by_id(query, query.model, args, trainings_json)

    @trainings_bp.arguments(TrainingIn)
    @trainings_bp.response(201, TrainingOut)
    @trainings_bp.alt_response(200, schema=TrainingOut, description=REPLAY)
    @trainings_bp.doc(**IDEMPOTENCY)
    def post(self, data):
        """记录培训"""
        def create(sent):
            values = {"org_unit": _user().org_unit_id, "enterprise_ids": [], **data}
            return training_services.create_training(values, _user(), sent)

        training, created = _create("training", data, create)
        training = get_training_or_404(training.id, _user())
        return core.created(trainings_json([training])[0], created, url_for(".Training", record_id=training.id))


@trainings_bp.route("/<int:record_id>", endpoint="Training")
class TrainingItem(MethodView):
    @trainings_bp.response(200, TrainingOut)
    def get(self, record_id):
        """一条培训记录"""
        return trainings_json([get_training_or_404(record_id, _user())])[0]


# ---- 服务活动 -----------------------------------------------------------------------------

class ActivityIn(Strict):
    title = text(200, 1, required=True, metadata={"description": "活动名称"})
    held_on = day(required=True, metadata={"description": "活动日期：不晚于今天；开放报名的活动可提前发布"})
    services = keys_of(SERVICES, metadata={"description": "服务内容"})
    point = an_id(allow_none=True, metadata={"description": "固定点位 id"})
    place = text(200, metadata={"description": "地点（选了固定点位可不填）"})
    org_unit = an_id(metadata={"description": "组织单位 id（不填为您的单位）"})
    target_groups = keys_of(TARGET_GROUPS, metadata={"description": "面向群体"})
    partners = keys_of(PARTNERS, metadata={"description": "合作单位"})
    participants = ma.fields.Integer(**COUNT, metadata={"description": "服务人数（纸质登记）"})
    new_members = ma.fields.Integer(**COUNT, metadata={"description": "新入会人数（纸质登记），不超过服务人数"})
    signup_open = flag(metadata={"description": "开放报名"})
    capacity = ma.fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_COUNT),
                                 metadata={"description": "名额（不填：不限）"})
    enterprise_ids = ids(MAX_SERVED, metadata={"description": "服务企业（档案 id）"})
    summary = long_text(5000, metadata={"description": "内容摘要"})


class ActivityOut(RecordOut):
    title = ma.fields.String(required=True)
    held_on = ma.fields.Date(required=True)
    services = ma.fields.List(ma.fields.String(), required=True)
    place = ma.fields.String(required=True)
    point = ma.fields.Nested(PointBrief, allow_none=True, required=True)
    target_groups = ma.fields.List(ma.fields.String(), required=True)
    partners = ma.fields.List(ma.fields.String(), required=True)
    participants = ma.fields.Integer(required=True, metadata={"description": "服务人数（签到与纸质登记合计）"})
    new_members = ma.fields.Integer(required=True, metadata={"description": "新入会人数（签到与纸质登记合计）"})
    paper_participants = ma.fields.Integer(required=True)
    paper_new_members = ma.fields.Integer(required=True)
    signup_open = ma.fields.Boolean(required=True)
    capacity = ma.fields.Integer(allow_none=True, required=True)
    summary = ma.fields.String(required=True)


ActivityQuery = ledger_query("ActivityQuery", SERVICES, "服务内容", group=True)


def activities_json(activities) -> list:
    people = _people(activities)
    firms = activity_queries.enterprises_of([a.id for a in activities], _user())
    out = []
    for a in activities:
        item = _common(a, {"id": a.org_unit.id, "name": a.org_unit.name}, firms.get(a.id, []), people)
        item.update(title=a.title, held_on=a.held_on, services=split_keys(a.services), place=a.place,
                    point=_point(a), target_groups=split_keys(a.target_groups), partners=split_keys(a.partners),
                    participants=a.participants, new_members=a.new_members,
                    paper_participants=a.paper_participants, paper_new_members=a.paper_new_members,
                    signup_open=a.signup_open, capacity=a.capacity, summary=a.summary)
        out.append(item)
    return out


@activities_bp.route("")
class Activities(MethodView):
    @activities_bp.arguments(ActivityQuery, location="query")
    @activities_bp.response(200, page_schema(ActivityOut, "ActivityPage"))
    def get(self, args):
        """服务活动台账（与台账页面相同的筛选，按 id 游标分页）"""
        a = _ledger_args(args, kinds=SERVICES, groups=TARGET_GROUPS)
        query = activity_queries.ledger(_user(), a)
        return core.page_by_id(query, query.model, args, activities_json)

    @activities_bp.arguments(ActivityIn)
    @activities_bp.response(201, ActivityOut)
    @activities_bp.alt_response(200, schema=ActivityOut, description=REPLAY)
    @activities_bp.doc(**IDEMPOTENCY)
    def post(self, data):
        """记录服务活动"""
        def create(sent):
            values = {"org_unit": _user().org_unit_id, "enterprise_ids": [], **data}
            return activity_services.create_activity(values, _user(), sent)

        activity, created = _create("activity", data, create)
        activity = get_activity_or_404(activity.id, _user())
        return core.created(activities_json([activity])[0], created, url_for(".Activity", record_id=activity.id))


@activities_bp.route("/<int:record_id>", endpoint="Activity")
class ActivityItem(MethodView):
    @activities_bp.response(200, ActivityOut)
    def get(self, record_id):
        """一次服务活动"""
        return activities_json([get_activity_or_404(record_id, _user())])[0]


# ---- 需求意见 -----------------------------------------------------------------------------

class NeedOut(RecordOut):
    category = ma.fields.String(required=True)
    category_label = ma.fields.String(required=True)
    detail = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    status_label = ma.fields.String(required=True)
    raised_on = ma.fields.Date(required=True)
    resolution = ma.fields.String(required=True)
    resolved_on = ma.fields.Date(allow_none=True, required=True)
    visit = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "提出它的走访记录 id"})
    meeting = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "提出它的沟通会 id"})


NeedQuery = ledger_query("NeedQuery", NEED_CATEGORIES, "类别", status=True)


def needs_json(needs) -> list:
    people = _people(needs)
    ent_ids = [n.enterprise_id for n in needs if n.enterprise_id]
    visible = {e.id: e for e in pickable(ent_ids, _user(), keep=ent_ids)}
    out = []
    for n in needs:
        firms = [visible[n.enterprise_id]] if n.enterprise_id in visible else []
        item = _common(n, {"id": n.org_unit.id, "name": n.org_unit.name}, firms, people)
        item.update(category=n.category, category_label=n.category_label, detail=n.detail, status=n.status,
                    status_label=n.status_label, raised_on=n.raised_on, resolution=n.resolution,
                    resolved_on=n.resolved_on, visit=n.visit_id, meeting=n.meeting_id)
        out.append(item)
    return out


@needs_bp.route("")
class Needs(MethodView):
    @needs_bp.arguments(NeedQuery, location="query")
    @needs_bp.response(200, page_schema(NeedOut, "NeedPage"))
    def get(self, args):
        """需求意见台账（与台账页面相同的筛选；不填状态时列出全部，按 id 游标分页）"""
        a = _ledger_args(args, kinds=NEED_CATEGORIES, statuses=NEED_STATUSES)
        query = need_queries.ledger(_user(), a)
        return core.page_by_id(query, query.model, args, needs_json)


@needs_bp.route("/<int:record_id>", endpoint="Need")
class NeedItem(MethodView):
    @needs_bp.response(200, NeedOut)
    def get(self, record_id):
        """一条需求意见"""
        return needs_json([get_need_or_404(record_id, _user())])[0]
