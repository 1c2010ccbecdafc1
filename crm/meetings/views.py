from flask import Blueprint, flash, render_template, request
from flask_login import current_user, login_required

from crm.common.errors import ServiceError
from crm.common.timeutil import fmt_date, local_today
from crm.enterprises.views import get_enterprise_or_404
from crm.fieldwork import ledger
from crm.fieldwork import services as records
from crm.fieldwork import views as fw
from crm.fieldwork.choices import (MEETING_FORMATS, MEETING_KINDS, MEETING_LEVELS, NEED_CATEGORIES, PARTNERS,
                                   POINT_KINDS, SERVICES, TARGET_GROUPS, labels, split_keys)
from crm.fieldwork.forms import ArchiveRecordForm
from crm.fieldwork.inputs import pickable
from crm.fieldwork.pages import RECORDER, Column, RecordPages
from crm.meetings import queries, services
from crm.meetings.forms import MeetingForm, PointForm
from crm.meetings.kind import get_meeting_or_404, get_point_or_404
from crm.members import links as signup_links
from crm.members import queries as signup_queries
from crm.members.choices import PLATFORMS, SIGNUP_STATES
from crm.needs.forms import with_raised
from crm.needs.models import Need
from crm.needs.services import raised_by
from crm.org.queries import unit_choices
from crm.permissions import in_scope, require, visible_org_units
from crm.photos import services as photos

MEMBER_CHOICES = {"PLATFORMS": PLATFORMS, "SIGNUP_STATES": SIGNUP_STATES}
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
    return render_template("meetings/show.html", meeting=meeting, record=meeting, participants=ents, groups=groups,
                           signups=signup_queries.signups_of("meeting", meeting),
                           signed=signup_queries.counted_of("meeting", meeting),
                           signup_live=signup_links.is_live("meeting", meeting), **MEMBER_CHOICES,
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
    raised = raised_by(meeting=meeting.id)
    form = with_raised(MeetingForm, raised)(obj=meeting if request.method == "GET" else None)
    if request.method == "GET":
        form.org_unit.data = meeting.org_unit_id
        form.point.data = meeting.point_id
        form.target_groups.data = split_keys(meeting.target_groups)
        form.services.data = split_keys(meeting.services)
        form.partners.data = split_keys(meeting.partners)
        form.attendees.data = meeting.paper_attendees  # the form edits the paper counts only
        counts = queries.group_counts([meeting.id], paper=True).get(meeting.id, {})
        for key, _ in TARGET_GROUPS:
            getattr(form, f"new_{key}").data = counts.get(key) or None  # a group without any stays empty
        for n in raised:
            getattr(form, f"raised_{n.id}").data = n.detail
            getattr(form, f"raised_{n.id}_v").data = str(n.version)
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

def _group_count(key):
    return lambda m, row: row.extra.get("counts", {}).get(key, 0)


class MeetingLedger(RecordPages):
    """沟通会台账 and its workbook on the kernel; a meeting's own pages are above (its form carries
    the participants, the new members by group and the needs raised)."""
    kind, name, noun, what = "meeting", "meetings", "沟通会", "沟通会记录"
    ledger_title, empty = "沟通会台账", "没有符合条件的沟通会记录。"
    creatable = False
    reads = queries
    filters = {"kinds": MEETING_KINDS, "kind_label": "类型", "groups": TARGET_GROUPS}
    table = ["日期", "类型", "组织单位", "地点", "参加人数", "新入会人数"]
    columns = ([
        Column("日期", 12, lambda m, row: fmt_date(m.held_on), cell="date"),
        Column("时间", 8, lambda m, row: m.start_time.strftime("%H:%M") if m.start_time else "", cell=""),
        Column("类型", 12, lambda m, row: MEETING_KINDS.label(m.kind), cell="record",
               shown=lambda m, row: f"{MEETING_KINDS.label(m.kind)} · {MEETING_LEVELS.label(m.level)}",
               sub=lambda m, row: m.title[:40] + ("…" if len(m.title) > 40 else "")),
        Column("级别", 8, lambda m, row: MEETING_LEVELS.label(m.level)),
        Column("形式", 8, lambda m, row: MEETING_FORMATS.label(m.format), cell=""),
        Column("组织单位", 22, lambda m, row: m.org_unit.name),
        Column("主题", 30, lambda m, row: m.title, truncate=40),
        Column("地点", 24, lambda m, row: m.venue,
               sub=lambda m, row: m.point.name if m.point_id and m.point.name != m.venue else ""),
        Column("固定点位", 20, lambda m, row: m.point.name if m.point_id else "", cell=""),
        Column("面向群体", 24, lambda m, row: labels(TARGET_GROUPS, m.target_groups), cell=""),
        Column("参加人数", 10, lambda m, row: m.attendees, cell="number"),
        Column("新入会人数", 11, lambda m, row: m.new_members, cell="number", heading="新入会")]
        + [Column(f"新入会人数·{label}", 12, _group_count(key), cell="") for key, label in TARGET_GROUPS]
        + [Column("会员互助服务卡办理数", 12, lambda m, row: m.cards, cell=""),
           Column("服务内容", 24, lambda m, row: labels(SERVICES, m.services), cell=""),
           Column("合作单位", 16, lambda m, row: labels(PARTNERS, m.partners), cell=""),
           Column("参会企业", 36, lambda m, row: "、".join(row.extra.get("names", [])), cell=""),
           Column("内容摘要", 50, lambda m, row: m.summary, cell=""),
           RECORDER])

    def firms_of(self, ids, user):
        return {}

    def row_extra(self, records, table=False):
        if table:  # the table shows neither
            return {}
        ids = [m.id for m in records]
        counts, names = queries.group_counts(ids), queries.participant_names(ids, current_user)
        return {i: {"counts": counts.get(i, {}), "names": names.get(i, [])} for i in ids}

    def ledger_actions(self):
        return [("记录沟通会", "meetings.create", {}, True), ("从固定点位开始", "meetings.points", {}, False)]


MeetingLedger().ledger_routes(bp, "/meetings")


# ---- 固定点位 -----------------------------------------------------------------------------------

@bp.route("/meetings/points")
@login_required
def points():
    archived = request.args.get("archived") == "1"
    return render_template("meetings/points.html", points=queries.points(current_user, archived),
                           archived=archived, **CHOICES)


POINT_COLUMNS = [("点位名称", 24), ("类型", 12), ("组织单位", 22), ("地址", 30), ("活动时间", 16), ("常见群体", 24),
                 ("已开沟通会（次）", 14), ("说明", 40)]


@bp.route("/meetings/points/export.xlsx")
@login_required
def points_export():
    """导出 Excel: the points the page lists (current or archived), in its order."""
    archived = request.args.get("archived") == "1"
    title = "固定点位（已归档）" if archived else "固定点位"
    rows = ([p.name, POINT_KINDS.label(p.kind), p.org_unit.name, p.address, p.schedule,
             labels(TARGET_GROUPS, p.target_groups), p.meeting_count, p.notes]
            for p in queries.points(current_user, archived))
    return ledger.xlsx_response(title, title, POINT_COLUMNS, rows)


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
    return render_template("meetings/point_show.html", point=point, record=point,
                           meetings=queries.meetings_at(point, current_user),
                           signups=signup_queries.signups_of("point", point),
                           signup_live=signup_links.is_live("point", point), **MEMBER_CHOICES,
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
