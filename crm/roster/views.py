"""会员台账: the members of the user's scope (filtered, paged, exported with masked phones), a
member's page with their sign-ups, and what staff do for a member: 办理互助卡, 归档, correct
their details; a unit's 主管 reads the full number (logged); an admin erases the personal
data on the member's request (the counts stay).

Each route: permission rule first (403), then the member by id in scope (404)."""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.audit import services as audit
from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.common.numbers import id_list
from crm.common.timeutil import fmt_dt
from crm.db import stream_batches
from crm.fieldwork import ledger
from crm.fieldwork.choices import TARGET_GROUPS
from crm.fieldwork.forms import ArchiveRecordForm
from crm.fieldwork.inputs import pickable
from crm.members import services
from crm.members.choices import MEMBER_STATES, PLATFORMS, SIGNUP_STATES
from crm.jobs import views as jobs
from crm.permissions import reads_member_phone, require, visible_org_units
from crm.roster import queries
from crm.roster.forms import ActionForm, EraseForm, MemberForm

bp = Blueprint("roster", __name__, url_prefix="/members")

CHOICES = {"TARGET_GROUPS": TARGET_GROUPS, "PLATFORMS": PLATFORMS, "MEMBER_STATES": MEMBER_STATES,
           "SIGNUP_STATES": SIGNUP_STATES, "CARD_FILTERS": queries.CARD_FILTERS,
           "STATE_FILTERS": queries.STATE_FILTERS, "platform_text": queries.platform_text}
TITLE = "会员台账"


def _get(member_id):
    return queries.get_member_or_404(member_id, current_user)


@bp.route("/")
@login_required
def index():
    found_by_phone = queries.phone_search(request.args)
    if found_by_phone is not None:
        return redirect(url_for(".index", **found_by_phone))
    args = queries.RosterArgs.from_request(request.args, current_user)
    page = queries.page(current_user, args)
    total, capped = queries.count(queries.filtered(current_user, args))
    return render_template("roster/index.html", page=page, args=args, total=total, capped=capped,
                           info=queries.row_info(page.rows, current_user),
                           units=visible_org_units(current_user, active_only=False),
                           points=queries.point_choices(current_user), **CHOICES)


# The workbook's columns: (header, width[, number format]) and what each row holds. Phones are
# only ever the masked ones.
COLUMNS = [("姓名", 12), ("手机号", 14), ("职业群体", 12), ("平台/单位", 16), ("站点", 18), ("关联企业档案", 24),
           ("入会单位", 18), ("入会时间", 17, "yyyy-mm-dd hh:mm"), ("入会地点", 30), ("会员互助服务卡", 12),
           ("办卡时间", 17, "yyyy-mm-dd hh:mm"), ("状态", 8), ("归档原因", 20)]


def _row(m, info):
    return [m.name, m.phone_mask, TARGET_GROUPS.label(m.group), queries.platform_text(m), m.station,
            info.enterprise.name if info.enterprise else "", m.org_unit.name, ledger.local_dt(m.joined_at),
            str(info.joined_at) if info.joined_at else "", "已办理" if m.card_issued else "未办理",
            ledger.local_dt(m.card_issued_at), MEMBER_STATES.label(m.state), m.archived_reason]


@bp.route("/export.xlsx", methods=["GET", "POST"])
@login_required
def export():
    """导出 Excel: exactly the filtered members, phones masked; in the audit log as an export."""
    found_by_phone = queries.phone_search(request.args)
    if found_by_phone is not None:
        return redirect(url_for(".export", **found_by_phone))
    args = queries.RosterArgs.from_request(request.args, current_user)
    query = queries.with_units(queries.filtered(current_user, args))
    long = jobs.offer_if_long(query, TITLE)  # more than EXPORT_INLINE_ROWS: a job
    if long is not None:
        return long

    def rows():
        for batch in stream_batches(query):
            info = queries.row_info(batch, current_user)
            for m in batch:
                yield _row(m, info[m.id])

    return ledger.xlsx_response(TITLE, TITLE, COLUMNS, rows())


def _render_show(member, status=200, revealed=None, archive_form=None, erase_form=None):
    info = queries.row_info([member], current_user)[member.id]
    response = render_template(
        "roster/show.html", member=member, info=info, signups=queries.signups_of(member, current_user),
        reads_phone=reads_member_phone(current_user, member), revealed=revealed,
        action_form=ActionForm(), archive_form=archive_form or ArchiveRecordForm(),
        erase_form=erase_form or EraseForm(), erased_by=User.get_or_none(User.id == member.erased_by_id)
        if member.erased_by_id else None, **CHOICES)
    return response, status


@bp.route("/<int:member_id>")
@login_required
def show(member_id):
    return _render_show(_get(member_id))


@bp.route("/<int:member_id>/phone", methods=["POST"])
@login_required
def phone(member_id):
    """显示完整号码: for a 主管 of the member's own unit, once, on this answer (not kept in the
    page's URL or the browser's cache); each reading is in the audit log."""
    require("supervise")
    member = _get(member_id)
    if not reads_member_phone(current_user, member):
        audit.record("denied", target=("member", member.id), detail="无权查看会员完整手机号")
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    number = services.reveal_phone(member, current_user)
    response = make_response(*_render_show(member, revealed=number or ""))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:member_id>/card", methods=["POST"])
@login_required
def card(member_id):
    """办理会员互助服务卡, or 撤销 a card recorded by mistake."""
    require("edit_records")
    member = _get(member_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    issued = request.form.get("issued") == "1"
    services.set_card(member, current_user, issued)
    flash("已记录办理会员互助服务卡" if issued else "已撤销互助服务卡记录", "success")
    return redirect(url_for(".show", member_id=member.id), 303)


@bp.route("/<int:member_id>/archive", methods=["POST"])
@login_required
def archive(member_id):
    require("edit_records")
    member = _get(member_id)
    form = ArchiveRecordForm()
    if not form.validate_on_submit():
        return _render_show(member, archive_form=form)
    try:
        services.set_archived(member, current_user, True, form.reason.data)
    except ServiceError as exc:
        form.show_service_error(exc)
        return _render_show(member, archive_form=form)
    flash("已归档。会员记录仍可查阅，可随时恢复；入会人数不受影响。", "success")
    return redirect(url_for(".show", member_id=member.id), 303)


@bp.route("/<int:member_id>/restore", methods=["POST"])
@login_required
def restore(member_id):
    require("edit_records")
    member = _get(member_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.set_archived(member, current_user, False)
    flash("已恢复", "success")
    return redirect(url_for(".show", member_id=member.id), 303)


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@login_required
def edit(member_id):
    require("edit_records")
    member = _get(member_id)
    if member.erased_at is not None or member.archived:
        flash("这位会员的个人信息已删除，不能修改" if member.erased_at is not None
              else "这位会员已归档，不能修改；如需修改请先恢复", "error")
        return redirect(url_for(".show", member_id=member.id), 303)
    form = MemberForm(obj=member if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = member.version
        selected = [member.enterprise_id] if member.enterprise_id else []
    else:
        selected = id_list(request.form.getlist("enterprise_ids"))
    conflict, enterprise_error = None, None
    if form.validate_on_submit():
        try:
            services.update_member(member, form.service_data(selected), current_user, form.expected_version())
        except services.StaleMember as exc:
            conflict = exc
            # Saving again now means: "I have seen their version and keep mine".
            form.version.data = exc.current.version
        except ServiceError as exc:
            if exc.field == "enterprise_ids":
                enterprise_error = str(exc)
            else:
                form.show_service_error(exc)
        else:
            flash("已保存", "success")
            return redirect(url_for(".show", member_id=member.id), 303)
    keep = [member.enterprise_id] if member.enterprise_id else []
    return render_template("roster/form.html", form=form, member=member, conflict=conflict,
                           selected=pickable(selected, current_user, keep),
                           enterprise_error=enterprise_error), 409 if conflict else 200


@bp.route("/<int:member_id>/erase", methods=["POST"])
@login_required
def erase(member_id):
    """删除个人信息 on the member's request (admins): name, phone, employer and station go; the
    member's row, group, unit, dates and sign-ups stay, so every count stays."""
    require("manage_system")
    member = _get(member_id)
    form = EraseForm()
    if member.erased_at is not None:
        flash(f"这位会员的个人信息已于 {fmt_dt(member.erased_at)} 删除", "error")
        return redirect(url_for(".show", member_id=member.id), 303)
    if not form.validate_on_submit():
        return _render_show(member, erase_form=form)
    try:
        services.erase(member, current_user, form.reason.data)
    except ServiceError as exc:
        form.show_service_error(exc)
        return _render_show(member, erase_form=form)
    flash("已删除这位会员的个人信息；入会记录和各项人数统计保留。", "success")
    return redirect(url_for(".show", member_id=member.id), 303)
