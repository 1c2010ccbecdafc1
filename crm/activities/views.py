"""服务活动: the ledger (台账) with its Excel export, recording (optionally from an outreach
point), the record page, editing, archiving."""
from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from crm.activities import queries, services
from crm.activities.forms import ActivityForm
from crm.activities.kind import get_activity_or_404
from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.common.timeutil import fmt_date, local_today
from crm.db import stream_batches
from crm.fieldwork import ledger, services as records, views as fw
from crm.fieldwork.choices import PARTNERS, SERVICES, TARGET_GROUPS, labels, split_keys
from crm.fieldwork.forms import ArchiveRecordForm, int_list
from crm.fieldwork.inputs import pickable
from crm.meetings.kind import get_point_or_404
from crm.org.queries import unit_choices
from crm.permissions import require, scoped, visible_org_units
from crm.photos import services as photos
from crm.common.numbers import arg_id

bp = Blueprint("activities", __name__, url_prefix="/activities")
WHAT = "服务活动"


def _prepare(form, record=None):
    choices = unit_choices(visible_org_units(current_user), current_user.org_unit.depth,
                           record.org_unit if record is not None else None)
    form.org_unit.choices = choices
    if form.org_unit.data is None and choices:
        own = current_user.org_unit_id
        form.org_unit.data = own if own in {c[0] for c in choices} else choices[0][0]
    form.point.choices = queries.point_choices(current_user, record.point if record is not None and record.point_id
                                               else None)


def _posted_enterprises():
    return int_list(request.form.getlist("enterprise_ids"))


def _render_form(form, record, selected_ids, keep=(), conflict=None, point=None):
    existing = photos.of("activity", record.id) if record is not None else []
    return render_template("activities/form.html", form=form, record=record, point=point,
                           selected=pickable(selected_ids, current_user, keep),
                           pending=photos.pending(form.form_key.data, current_user), existing=existing,
                           conflict=conflict), fw.status(form, conflict)


def _from_point(form, point):
    """?point=<id>: the place, point, unit and usual groups of an outreach point."""
    form.place.data = point.name
    if str(point.id) in {c[0] for c in form.point.choices}:
        form.point.data = str(point.id)
    if point.org_unit_id in {c[0] for c in form.org_unit.choices}:
        form.org_unit.data = point.org_unit_id
    form.target_groups.data = split_keys(point.target_groups)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    """记录服务活动: today and the user's own unit are filled in; ?point=<id> starts from an
    outreach point, ?ent=<id> preselects a served enterprise."""
    require("edit_records")
    form = ActivityForm()
    _prepare(form)
    point = None
    if request.method == "GET":
        form.held_on.data = local_today()
        if request.args.get("point"):
            point = get_point_or_404(request.args["point"], current_user)
            _from_point(form, point)
        selected = [arg_id(request.args, "ent")] if arg_id(request.args, "ent") else []
    else:
        selected = _posted_enterprises()
    key = form.ensure_key()
    if request.method == "POST":
        done = fw.already_saved(form, WHAT)
        if done is not None:
            return done
        key = form.form_key.data
        photos_ok = fw.stage_photos(form)
        if form.validate_on_submit() and photos_ok:
            try:
                activity, created = services.create_activity(form.service_data(selected), current_user, form.sent)
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                return fw.saved(activity, created, "activities.show", WHAT, key)
    return _render_form(form, None, selected, point=point)


@bp.route("/<int:record_id>")
@login_required
def show(record_id):
    activity = get_activity_or_404(record_id, current_user)
    served = queries.enterprises_of([activity.id], current_user).get(activity.id, [])
    return render_template("activities/show.html", activity=activity, served=served,
                           services=labels(SERVICES, activity.services),
                           groups=labels(TARGET_GROUPS, activity.target_groups),
                           partners=labels(PARTNERS, activity.partners),
                           photos=photos.of("activity", activity.id),
                           changes=records.history("activity", activity.id), archive_form=ArchiveRecordForm())


@bp.route("/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit(record_id):
    require("edit_records")
    activity = get_activity_or_404(record_id, current_user)
    current_ids = queries.enterprise_ids(activity)
    form = ActivityForm(obj=activity if request.method == "GET" else None)
    if request.method == "GET":
        form.org_unit.data = activity.org_unit_id
        form.point.data = str(activity.point_id) if activity.point_id else ""
        form.services.data = split_keys(activity.services)
        form.target_groups.data = split_keys(activity.target_groups)
        form.partners.data = split_keys(activity.partners)
        form.version.data = activity.version
        selected = current_ids
    else:
        selected = _posted_enterprises()
    _prepare(form, activity)
    form.ensure_key()
    conflict = None
    if request.method == "POST":
        done, conflict = fw.post_edit(form, "activity", activity, lambda: services.update_activity(
            activity, form.service_data(selected), current_user, form.expected_version()))
        if done is not None:
            return done
    return _render_form(form, activity, selected, keep=current_ids, conflict=conflict)


fw.archive_routes(bp, "/<int:record_id>", get_activity_or_404, services.set_archived, "activities.show")


# ---- 台账 -------------------------------------------------------------------------------

def _args():
    return ledger.LedgerArgs.from_request(request.args, kinds=SERVICES, groups=TARGET_GROUPS)


def staff_choices():
    """People whose records the ledger can be filtered by (记录人): users of the user's scope."""
    return [(u.id, u.name) for u in scoped(User, current_user).order_by(User.name)]


@bp.route("/")
@login_required
def index():
    args = _args()
    page = ledger.page_of(queries.ledger(current_user, args), args.page)
    served = queries.enterprises_of([a.id for a in page.rows], current_user)
    return render_template("activities/index.html", page=page, args=args, served=served,
                           units=visible_org_units(current_user, active_only=False), staff=staff_choices(),
                           SERVICES=SERVICES, TARGET_GROUPS=TARGET_GROUPS, labels=labels)


COLUMNS = [("日期", 12), ("活动名称", 30), ("服务内容", 24), ("地点", 24), ("固定点位", 20), ("组织单位", 22),
           ("面向群体", 22), ("合作单位", 16), ("服务人数", 10), ("新入会人数", 10), ("服务企业", 36),
           ("内容摘要", 50), ("记录人", 10)]


@bp.route("/export.xlsx")
@login_required
def export():
    args = _args()
    query = queries.ledger(current_user, args)

    def rows():
        users = dict(User.select(User.id, User.name).tuples())
        for batch in stream_batches(query):
            yield from _rows(batch, users)

    return ledger.xlsx_response("服务活动台账", "服务活动台账", COLUMNS, rows())


def _rows(batch, users):
    served = queries.enterprises_of([a.id for a in batch], current_user)
    for a in batch:
        yield [fmt_date(a.held_on), a.title, labels(SERVICES, a.services), a.place,
               a.point.name if a.point_id else "", a.org_unit.name, labels(TARGET_GROUPS, a.target_groups),
               labels(PARTNERS, a.partners), a.participants, a.new_members,
               "、".join(e.name for e in served.get(a.id, [])), a.summary, users.get(a.created_by_id, "")]
