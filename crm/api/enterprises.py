"""/api/v1/enterprises: the files (list with the list's filters, read, create, update against the
version), their contacts and their founding track."""
from flask import url_for
from flask.views import MethodView
from flask_smorest import abort
import marshmallow as ma
from marshmallow import validate

from crm.api import core
from crm.api.problems import problem
from crm.api.schemas import (PageArgs, Person, Strict, Unit, UtcDateTime, an_id, flag, one_of, page_of,
                             long_text, query_id, text)
from crm.enterprises import fields, queries, services
from crm.enterprises.choices import CATEGORIES, INDUSTRIES, KINDS, PARTY_ORG, STATUSES, UNION_FORMS
from crm.enterprises.models import Contact, Enterprise
from crm.founding import services as founding
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.org.models import OrgUnit
from crm.permissions import can, get_or_404, in_scope
from crm.sync import services as submissions

bp = core.blueprint("enterprises", "/enterprises", "企业档案：一企一档、联系人、建会进度")


# ---- schemas -------------------------------------------------------------------------------

class EnterpriseFields(Strict):
    """The fields of a file that a person edits (names as in the file's form)."""
    name = text(200, metadata={"description": fields.LABELS["name"]})
    credit_code = text(18, allow_none=True, metadata={"description": fields.LABELS["credit_code"]})
    org_unit = an_id(metadata={"description": fields.LABELS["org_unit"] + "（单位 id）"})
    address = text(300)
    area = text(100)
    industry = ma.fields.String(validate=validate.OneOf([""] + INDUSTRIES.keys()))
    kind = ma.fields.String(validate=validate.OneOf([""] + KINDS.keys()))
    category = one_of(CATEGORIES)
    employees = ma.fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=10_000_000))
    new_form_workers = ma.fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=10_000_000))
    legal_rep = text(64)
    is_key = flag()
    party_org = ma.fields.String(validate=validate.OneOf([""] + PARTY_ORG.keys()))
    union_name = text(200)
    union_founded_on = ma.fields.Date(allow_none=True)
    union_chair = text(64)
    member_count = ma.fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=10_000_000))
    union_credit_code = text(18)
    union_term_end = ma.fields.Date(allow_none=True)
    union_form = ma.fields.String(validate=validate.OneOf([""] + UNION_FORMS.keys()))
    status = one_of(STATUSES)
    tags = ma.fields.List(text(50), validate=validate.Length(max=30))
    notes = long_text(5000)


class ContactIn(Strict):
    name = text(64, 1, required=True)
    title = text(64)
    phone = text(32)
    wechat = text(64)
    is_primary = flag()


class EnterpriseCreate(EnterpriseFields):
    name = text(200, 1, required=True)
    org_unit = an_id(required=True)
    initial_stage = one_of(stages.ALL_STAGES, metadata={"description": "建档时的建会进度"})
    contact = ma.fields.Nested(ContactIn, metadata={"description": "第一位联系人"})


class EnterpriseUpdate(EnterpriseFields):
    version = ma.fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=2 ** 31 - 1),
                                metadata={"description": "读取时的版本号：别人已改过则 409"})


class ContactOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    phone = ma.fields.String(required=True)
    wechat = ma.fields.String(required=True)
    is_primary = ma.fields.Boolean(required=True)


class EnterpriseOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    credit_code = ma.fields.String(allow_none=True, required=True)
    org_unit = ma.fields.Nested(Unit, required=True)
    address = ma.fields.String(required=True)
    area = ma.fields.String(required=True)
    industry = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    employees = ma.fields.Integer(allow_none=True, required=True)
    new_form_workers = ma.fields.Integer(allow_none=True, required=True)
    legal_rep = ma.fields.String(required=True)
    is_key = ma.fields.Boolean(required=True)
    party_org = ma.fields.String(required=True)
    stage = ma.fields.String(required=True)
    stage_label = ma.fields.String(required=True)
    union_status = ma.fields.String(required=True)
    union_name = ma.fields.String(required=True)
    union_founded_on = ma.fields.Date(allow_none=True, required=True)
    union_chair = ma.fields.String(required=True)
    member_count = ma.fields.Integer(allow_none=True, required=True)
    union_credit_code = ma.fields.String(required=True)
    union_term_end = ma.fields.Date(allow_none=True, required=True)
    union_form = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    notes = ma.fields.String(required=True)
    last_contact_on = ma.fields.Date(allow_none=True, required=True)
    last_visit_on = ma.fields.Date(allow_none=True, required=True)
    archived = ma.fields.Boolean(required=True)
    version = ma.fields.Integer(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class EnterpriseDetail(EnterpriseOut):
    contacts = ma.fields.List(ma.fields.Nested(ContactOut), required=True)


class ListArgsSchema(PageArgs):
    q = text(100, metadata={"description": "搜索：名称、信用代码、地址、联系人、拼音或首字母"})
    org = query_id(metadata={"description": "单位 id（含其下级单位）"})
    union_status = one_of(stages.UNION_STATUS)
    stage = one_of(stages.ALL_STAGES)
    is_key = ma.fields.String(validate=validate.OneOf(["1", "0"]))
    industry = one_of(INDUSTRIES)
    category = one_of(CATEGORIES)
    status = one_of(STATUSES)
    archived = ma.fields.String(validate=validate.OneOf(["1", "all"]),
                                metadata={"description": "不填：在档；1：仅归档；all：全部"})
    contact = one_of(queries.CONTACT_FILTERS)


class TrackEvent(ma.Schema):
    id = ma.fields.Integer(required=True)
    from_stage = ma.fields.String(allow_none=True, required=True)
    to_stage = ma.fields.String(required=True)
    to_stage_label = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    occurred_on = ma.fields.Date(required=True)
    note = ma.fields.String(required=True)
    user = ma.fields.Nested(Person, allow_none=True, required=True)


class Track(ma.Schema):
    stage = ma.fields.String(required=True)
    stage_label = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    events = ma.fields.List(ma.fields.Nested(TrackEvent), required=True)


class MoveIn(Strict):
    from_stage = one_of(stages.ALL_STAGES, required=True, metadata={"description": "当前阶段（别人已推进则 422）"})
    to_stage = one_of(stages.ALL_STAGES, required=True)
    occurred_on = ma.fields.Date(metadata={"description": "不填为今天"})
    note = text(2000)


# ---- shapes --------------------------------------------------------------------------------

def unit_of(unit_id):
    unit = OrgUnit.get_by_id(unit_id)
    return {"id": unit.id, "name": unit.name}


def enterprise_json(ent: Enterprise, contacts=None) -> dict:
    out = {name: getattr(ent, name) for name in
           ("id", "name", "credit_code", "address", "area", "industry", "kind", "category", "employees",
            "new_form_workers", "legal_rep", "is_key", "party_org", "stage", "stage_label", "union_status",
            "union_name", "union_founded_on", "union_chair", "member_count", "union_credit_code",
            "union_term_end", "union_form", "status", "notes", "last_contact_on", "last_visit_on", "archived",
            "version", "created_at", "updated_at")}
    out["org_unit"] = unit_of(ent.org_unit_id)
    out["tags"] = [t for t in ent.tags.split(",") if t]
    if contacts is not None:
        out["contacts"] = [contact_json(c) for c in contacts]
    return out


def contact_json(c: Contact) -> dict:
    return {"id": c.id, "name": c.name, "title": c.title, "phone": c.phone, "wechat": c.wechat,
            "is_primary": c.is_primary}


def _service_data(data: dict) -> dict:
    out = {k: v for k, v in data.items() if k in fields.EDITABLE}
    if "tags" in out:
        out["tags"] = ",".join(out["tags"])
    for key in ("credit_code",):
        if key in out and out[key] is None:
            out[key] = ""
    if "org_unit" in out:
        unit = OrgUnit.get_or_none(OrgUnit.id == out["org_unit"])
        if unit is None or not unit.active or not in_scope(core.current_user(), unit):
            abort(422, message="所属工会不存在或不在您的管辖范围内",
                  errors=[{"field": "org_unit", "message": "不存在或不在管辖范围内"}])
    return out


def get_enterprise_or_404(ent_id) -> Enterprise:
    return get_or_404(Enterprise, ent_id, core.current_user())


def _edits():
    if not can("edit_records"):
        abort(403, message="领导账号只能查看，不能修改档案")


# ---- endpoints -----------------------------------------------------------------------------

@bp.route("")
class Enterprises(MethodView):
    @bp.arguments(ListArgsSchema, location="query")
    @bp.response(200, page_of(EnterpriseOut, "EnterprisePage"))
    def get(self, args):
        """企业档案列表（与页面相同的筛选与搜索，按 id 游标分页）"""
        a = queries.ListArgs.from_request({k: str(v) for k, v in args.items() if k not in ("cursor", "limit")})
        return core.page_by_id(queries.filtered(core.current_user(), a), Enterprise, args,
                               lambda rows: [enterprise_json(e) for e in rows])

    @bp.arguments(EnterpriseCreate)
    @bp.response(201, EnterpriseDetail)
    @bp.alt_response(200, schema=EnterpriseDetail, description="同一 Idempotency-Key 的重复提交：返回第一次建的档案")
    @bp.doc(**core.idempotency_header("一份档案"))
    def post(self, data):
        """新建企业档案"""
        _edits()
        sent = core.sent(data)
        contact = data.pop("contact", None)
        initial = data.pop("initial_stage", stages.FIRST)
        earlier = submissions.prior(sent, core.current_user())
        ent = services.create_enterprise(_service_data(data), core.current_user(), contact=contact,
                                         initial_stage=initial, sent=sent)
        return core.created(enterprise_json(ent, queries.contacts_of(ent)), earlier is None,
                            url_for(".Enterprise", ent_id=ent.id))


@bp.route("/<int:ent_id>", endpoint="Enterprise")
class EnterpriseItem(MethodView):
    @bp.response(200, EnterpriseDetail)
    def get(self, ent_id):
        """一份企业档案（含联系人）"""
        ent = get_enterprise_or_404(ent_id)
        return enterprise_json(ent, queries.contacts_of(ent))

    @bp.arguments(EnterpriseUpdate)
    @bp.response(200, EnterpriseDetail)
    @bp.alt_response(409, schema=core.ProblemSchema, content_type="application/problem+json",
                     description="版本冲突：current 是服务器上的版本，yours 是您提交的内容")
    def patch(self, data, ent_id):
        """修改企业档案（只改提交的字段；version 必须是读取时的版本）"""
        _edits()
        ent = get_enterprise_or_404(ent_id)
        expected = data.pop("version")
        values = _service_data(data)
        try:
            ent = services.update_enterprise(ent.id, values, core.current_user(), expected)
        except services.ConflictError as exc:
            return problem(409, f"这份档案已被他人修改（当前版本 {exc.current.version}，您提交时基于版本 {expected}）。"
                                "请读取当前版本，合并后带上新的 version 再提交。",
                           current=_plain(enterprise_json(exc.current)), yours={**_plain(data), "version": expected})
        return enterprise_json(ent, queries.contacts_of(ent))


def _plain(d: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in d.items()}


@bp.route("/<int:ent_id>/contacts")
class Contacts(MethodView):
    @bp.response(200, ContactOut(many=True))
    def get(self, ent_id):
        """档案的联系人"""
        return [contact_json(c) for c in queries.contacts_of(get_enterprise_or_404(ent_id))]

    @bp.arguments(ContactIn)
    @bp.response(201, ContactOut)
    @bp.alt_response(200, schema=ContactOut, description="同一 Idempotency-Key 的重复提交")
    def post(self, data, ent_id):
        """添加联系人"""
        _edits()
        ent = get_enterprise_or_404(ent_id)
        if ent.archived:
            abort(422, message="归档的档案不能添加联系人")
        sent = core.sent(data)
        earlier = submissions.prior(sent, core.current_user())
        contact = services.add_contact(ent, data, core.current_user(), sent=sent)
        return core.created(contact_json(contact), earlier is None,
                            url_for(".Contacts", ent_id=ent.id))


def track_json(ent: Enterprise) -> dict:
    events = (FoundingEvent.select().where(FoundingEvent.enterprise == ent.id)
              .order_by(FoundingEvent.occurred_on, FoundingEvent.id))
    return {"stage": ent.stage, "stage_label": ent.stage_label, "version": ent.version,
            "events": [{"id": e.id, "from_stage": e.from_stage, "to_stage": e.to_stage,
                        "to_stage_label": stages.label(e.to_stage), "kind": e.kind,
                        "occurred_on": e.occurred_on, "note": e.note,
                        "user": {"id": e.user.id, "name": e.user.name} if e.user_id else None}
                       for e in events]}


@bp.route("/<int:ent_id>/founding")
class Founding(MethodView):
    @bp.response(200, Track)
    def get(self, ent_id):
        """建会进度：当前阶段与全部进度记录"""
        return track_json(get_enterprise_or_404(ent_id))

    @bp.arguments(MoveIn)
    @bp.response(200, Track)
    def post(self, data, ent_id):
        """推进（或回退）建会进度；from_stage 须为当前阶段"""
        _edits()
        ent = get_enterprise_or_404(ent_id)
        if ent.archived:
            abort(422, message="归档的档案不能变更建会进度")
        founding.move(ent, data["to_stage"], core.current_user(), expected_from=data["from_stage"],
                      occurred_on=data.get("occurred_on"), note=data.get("note", ""), sent=core.sent(data))
        return track_json(Enterprise.get_by_id(ent.id))

