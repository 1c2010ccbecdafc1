from flask import Blueprint, flash, render_template, request
from flask_login import current_user, login_required

from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.common.timeutil import fmt_date, local_today
from crm.db import stream_batches
from crm.enterprises.views import get_enterprise_or_404
from crm.fieldwork import ledger, services as records, views as fw
from crm.fieldwork.choices import (MEETING_FORMATS, MEETING_KINDS, MEETING_LEVELS, NEED_CATEGORIES, PARTNERS,
                                   POINT_KINDS, SERVICES, TARGET_GROUPS, labels, split_keys)
from crm.fieldwork.forms import ArchiveRecordForm
from crm.fieldwork.inputs import pickable
from crm.meetings import queries, services
from crm.meetings.forms import MeetingForm, PointForm
from crm.meetings.kind import get_meeting_or_404, get_point_or_404
from crm.needs.models import Need
from crm.org.queries import unit_choices
from crm.permissions import in_scope, require, scoped, visible_org_units
from crm.photos import services as photos

bp = Blueprint("meetings", __name__)

CHOICES = {"MEETING_KINDS": MEETING_KINDS, "MEETING_LEVELS": MEETING_LEVELS, "MEETING_FORMATS": MEETING_FORMATS,
           "TARGET_GROUPS": TARGET_GROUPS, "SERVICES": SERVICES, "PARTNERS": PARTNERS,
           "NEED_CATEGORIES": NEED_CATEGORIES, "POINT_KINDS": POINT_KINDS, "labels": labels}


def _org_choices(form, include=None):
    choices = unit_choices(visible_org_units(current_user), current_user.org_unit.depth, include)
    form.org_unit.choices = choices
    if form.org_unit.data is None and choices:
        own = current_user.org_unit_id
        form.org_unit.data = own if own in {c[0] for c in choices} else choices[0][0]


def _prepare(form, meeting=None):
    _org_choices(form, include=meeting.org_unit if meeting else None)
    form.point.choices = queries.point_choices(current_user, include=meeting.point if meeting and meeting.point_id
                                               else None)


def _prefill_from_point(form, point):
    """在此开沟通会: the point's name, unit and usual groups; a routine face-to-face staff meeting."""
    form.point.data = point.id
    form.venue.data = point.name
    if point.org_unit_id in {c[0] for c in form.org_unit.choices}:
        form.org_unit.data = point.org_unit_id
    form.target_groups.data = split_keys(point.target_groups)
    form.kind.data, form.level.data, form.format.data = "staff", "routine", "face"


def _render_form(form, meeting, key, keep=(), conflict=None, point=None):
    selected = pickable(form.enterprise_ids.data or [], current_user, keep)
    status = fw.status(form, conflict)
    return render_template("meetings/form.html", form=form, meeting=meeting, selected=selected, point=point,
                           pending=photos.pending(key, current_user),
                           existing=photos.of("meeting", meeting.id) if meeting else [],
                           conflict=conflict, **CHOICES), status


@bp.route("/meetings/new", methods=["GET", "POST"])
@login_required
def create():
    """记录沟通会; ?point=<id> starts from an outreach point, ?kind=enterprise for 企业沟通会,
    ?ent=<id> (from an enterprise file) lists that enterprise as a participant."""
    require("edit_records")
    form = MeetingForm()
    _prepare(form)
    point = None
    if request.method == "GET":
        form.held_on.data = local_today()
        if request.args.get("point"):
            point = get_point_or_404(request.args["point"], current_user)
            if point.archived:
                flash("该固定点位已归档，请选择其他点位", "error")
                point = None
            else:
                _prefill_from_point(form, point)
        if request.args.get("kind") in MEETING_KINDS:
            form.kind.data = request.args["kind"]
        if request.args.get("ent"):
            ent = get_enterprise_or_404(request.args["ent"])
            form.enterprise_ids.data = [ent.id]
            form.org_unit.data = ent.org_unit_id if ent.org_unit_id in {c[0] for c in form.org_unit.choices} \
                else form.org_unit.data
    key = form.ensure_key()
    if request.method == "POST":
        done = fw.save_new(form, lambda: services.create_meeting(form.service_data(), current_user, form.sent),
                           "meetings.show", "沟通会记录")
        if done is not None:
            return done
    return _render_form(form, None, key, point=point)


@bp.route("/meetings/<int:record_id>")
@login_required
def show(record_id):
    meeting = get_meeting_or_404(record_id, current_user)
    ents = queries.participants(meeting, current_user)
    counts = queries.group_counts([meeting.id]).get(meeting.id, {})
    groups = [(label, counts[key]) for key, label in TARGET_GROUPS if counts.get(key)]
    needs = list(Need.select().where(Need.meeting == meeting.id).order_by(Need.id))
    return render_template("meetings/show.html", meeting=meeting, participants=ents, groups=groups,
                           linkable={e.id for e in ents if in_scope(current_user, e.org_unit)},
                           needs=needs, photos=photos.of("meeting", meeting.id),
                           changes=records.history("meeting", meeting.id), archive_form=ArchiveRecordForm(),
                           **CHOICES)


@bp.route("/meetings/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit(record_id):
    require("edit_records")
    meeting = get_meeting_or_404(record_id, current_user)
    current = services.current_participants(meeting.id)
    form = MeetingForm(obj=meeting if request.method == "GET" else None)
    if request.method == "GET":
        form.org_unit.data = meeting.org_unit_id
        form.point.data = meeting.point_id
        form.target_groups.data = split_keys(meeting.target_groups)
        form.services.data = split_keys(meeting.services)
        form.partners.data = split_keys(meeting.partners)
        counts = queries.group_counts([meeting.id]).get(meeting.id, {})
        for key, _ in TARGET_GROUPS:
            getattr(form, f"new_{key}").data = counts.get(key, 0)
        form.enterprise_ids.data = current
        form.version.data = meeting.version
    _prepare(form, meeting)
    key = form.ensure_key()
    conflict = None
    if request.method == "POST":
        done, conflict = fw.post_edit(form, "meeting", meeting, lambda: services.update_meeting(
            meeting, form.service_data(), current_user, form.expected_version()))
        if done is not None:
            return done
    return _render_form(form, meeting, key, keep=current, conflict=conflict)


fw.archive_routes(bp, "/meetings/<int:record_id>", get_meeting_or_404, services.set_archived, "meetings.show")
fw.archive_routes(bp, "/meetings/points/<int:record_id>", get_point_or_404, services.set_point_archived,
                  "meetings.point_show", prefix="point_")


# ---- 台账 -------------------------------------------------------------------------------

def _args():
    return ledger.LedgerArgs.from_request(request.args, kinds=MEETING_KINDS, groups=TARGET_GROUPS)


def staff_choices():
    return [(u.id, u.name) for u in scoped(User, current_user).order_by(User.name)]


@bp.route("/meetings/")
@login_required
def index():
    args = _args()
    page = ledger.page_of(queries.ledger(current_user, args), args.page)
    return render_template("meetings/index.html", page=page, args=args,
                           units=visible_org_units(current_user, active_only=False), staff=staff_choices(),
                           **CHOICES)


def _columns():
    return ([("日期", 12), ("时间", 8), ("类型", 12), ("级别", 8), ("形式", 8), ("组织单位", 22), ("主题", 30),
             ("地点", 24), ("固定点位", 20), ("面向群体", 24), ("参加人数", 10), ("新入会人数", 11)]
            + [(f"新入会人数·{label}", 12) for _, label in TARGET_GROUPS]
            + [("会员互助服务卡办理数", 12), ("服务内容", 24), ("合作单位", 16), ("参会企业", 36),
               ("内容摘要", 50), ("记录人", 10)])


@bp.route("/meetings/export.xlsx")
@login_required
def export():
    query = queries.ledger(current_user, _args())

    def rows():
        users = dict(User.select(User.id, User.name).tuples())
        for batch in stream_batches(query):
            yield from _rows(batch, users)

    return ledger.xlsx_response("沟通会台账", "沟通会台账", _columns(), rows())


def _rows(batch, users):
    ids = [m.id for m in batch]
    counts = queries.group_counts(ids)
    names = queries.participant_names(ids, current_user)
    for m in batch:
        mine = counts.get(m.id, {})
        yield ([fmt_date(m.held_on), m.start_time.strftime("%H:%M") if m.start_time else "",
                MEETING_KINDS.label(m.kind), MEETING_LEVELS.label(m.level), MEETING_FORMATS.label(m.format),
                m.org_unit.name, m.title, m.venue, m.point.name if m.point_id else "",
                labels(TARGET_GROUPS, m.target_groups), m.attendees, m.new_members]
               + [mine.get(key, 0) for key, _ in TARGET_GROUPS]
               + [m.cards, labels(SERVICES, m.services), labels(PARTNERS, m.partners),
                  "、".join(names.get(m.id, [])), m.summary, users.get(m.created_by_id, "")])


# ---- 固定点位 -----------------------------------------------------------------------------------

@bp.route("/meetings/points")
@login_required
def points():
    archived = request.args.get("archived") == "1"
    return render_template("meetings/points.html", points=queries.points(current_user, archived),
                           archived=archived, **CHOICES)


@bp.route("/meetings/points/new", methods=["GET", "POST"])
@login_required
def point_new():
    require("edit_records")
    form = PointForm()
    _org_choices(form)
    form.ensure_key()
    done = fw.already_saved(form, "固定点位") if request.method == "POST" else None
    if done is not None:
        return done
    if form.validate_on_submit():
        try:
            point, created = services.create_point(form.service_data(), current_user, form.sent)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            return fw.saved(point, created, "meetings.point_show", "固定点位", form.form_key.data)
    return render_template("meetings/point_form.html", form=form, point=None, conflict=None), fw.status(form)


@bp.route("/meetings/points/<int:record_id>")
@login_required
def point_show(record_id):
    point = get_point_or_404(record_id, current_user)
    return render_template("meetings/point_show.html", point=point,
                           meetings=queries.meetings_at(point, current_user),
                           changes=records.history("point", point.id), archive_form=ArchiveRecordForm(),
                           **CHOICES)


@bp.route("/meetings/points/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def point_edit(record_id):
    require("edit_records")
    point = get_point_or_404(record_id, current_user)
    form = PointForm(obj=point if request.method == "GET" else None)
    if request.method == "GET":
        form.org_unit.data = point.org_unit_id
        form.target_groups.data = split_keys(point.target_groups)
        form.version.data = point.version
    _org_choices(form, include=point.org_unit)
    done, conflict = fw.save_version(form, lambda: services.update_point(
        point, form.service_data(), current_user, form.expected_version()), point, "meetings.point_show", "修改")
    if done is not None:
        return done
    return render_template("meetings/point_form.html", form=form, point=point,
                           conflict=conflict), 409 if conflict else 200
