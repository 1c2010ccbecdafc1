"""服务活动: its pages declared on the field-work kernel (crm.fieldwork.pages): the ledger and its
workbook, recording (optionally from an outreach point), the record page, editing, archiving;
and, for an activity taking sign-ups, its QR code and poster, the sign-ups with 签到 (one tap a
person, undone the same way) and staff cancelling a sign-up."""
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.activities import queries, services
from crm.activities.forms import ActivityForm
from crm.common.errors import ServiceError
from crm.common.numbers import to_id
from crm.common import timeutil
from crm.common.timeutil import LOCAL_TZ, fmt_date, local_today
from crm.fieldwork import services as records
from crm.fieldwork.choices import PARTNERS, SERVICES, TARGET_GROUPS, labels, split_keys
from crm.fieldwork.forms import ArchiveRecordForm
from crm.fieldwork.pages import RECORDER, Column, Detail, RecordPages, firm_names
from crm.meetings.kind import get_point_or_404
from crm.members import links, phones, qr
from crm.members import services as members
from crm.members.choices import PLATFORMS, SIGNUP_STATES
from crm.members.models import Member, SignUp
from crm.permissions import can, require
from crm.photos import services as photos


def _point(a):
    return a.point.name if a.point_id else ""


def _with_parts(total, paper):
    """"12（签到 2，纸质登记 10）" when check-ins add to the paper count."""
    signed = (total or 0) - (paper or 0)
    return f"{total}（签到 {signed}，纸质登记 {paper}）" if signed else str(total)


def _title_note(a, row):
    """The ledger's second line under the name: not held yet (published ahead), firms served."""
    notes = ["未开始 · 报名中" if a.signup_open else "未开始"] if a.held_on > local_today() else []
    if row.firms:
        notes.append(f"服务企业 {len(row.firms)} 家")
    return " · ".join(notes)


def _signups_line(a):
    if not a.signup_open:
        return "未开放"
    return "开放中" + (f"，名额 {a.capacity} 人" if a.capacity else "，不限名额")


class ActivityPages(RecordPages):
    kind, name, noun, what = "activity", "activities", "服务活动", "服务活动"
    ledger_title, empty, again = "服务活动台账", "没有符合条件的服务活动记录。", "再记一次活动"
    reads = queries
    create_record, update_record = staticmethod(services.create_activity), staticmethod(services.update_activity)
    templates, form_class = "activities", ActivityForm
    filters = {"kinds": SERVICES, "kind_label": "服务内容", "groups": TARGET_GROUPS}
    table = ["日期", "活动名称", "服务内容", "地点", "组织单位", "服务人数", "新入会人数"]
    columns = [
        Column("日期", 12, lambda a, row: fmt_date(a.held_on), cell="date"),
        Column("活动名称", 30, lambda a, row: a.title, cell="record", sub=_title_note),
        Column("服务内容", 24, lambda a, row: labels(SERVICES, a.services)),
        Column("地点", 24, lambda a, row: a.place,
               sub=lambda a, row: _point(a) if a.point_id and a.point.name != a.place else ""),
        Column("固定点位", 20, lambda a, row: _point(a), cell=""),
        Column("组织单位", 22, lambda a, row: a.org_unit.name),
        Column("面向群体", 22, lambda a, row: labels(TARGET_GROUPS, a.target_groups), cell=""),
        Column("合作单位", 16, lambda a, row: labels(PARTNERS, a.partners), cell=""),
        Column("服务人数", 10, lambda a, row: a.participants, cell="number"),
        Column("新入会人数", 10, lambda a, row: a.new_members, cell="number", heading="新入会"),
        Column("服务企业", 36, firm_names, cell="firms"),
        Column("内容摘要", 50, lambda a, row: a.summary, cell=""),
        RECORDER]
    details = [
        Detail("活动日期", lambda a: fmt_date(a.held_on) + ("（未开始）" if a.held_on > local_today() else "")),
        Detail("服务内容", lambda a: labels(SERVICES, a.services)),
        Detail("地点", lambda a: a.place),
        Detail("固定点位", _point, link=lambda a: ("meetings.point_show", {"record_id": a.point_id})),
        Detail("组织单位", lambda a: a.org_unit.name),
        Detail("面向群体", lambda a: labels(TARGET_GROUPS, a.target_groups)),
        Detail("合作单位", lambda a: labels(PARTNERS, a.partners)),
        Detail("服务人数", lambda a: _with_parts(a.participants, a.paper_participants)),
        Detail("新入会人数", lambda a: _with_parts(a.new_members, a.paper_new_members)),
        Detail("报名", _signups_line),
        Detail("内容摘要", lambda a: a.summary, pre=True)]
    # The lines the sign-up page refreshes after a tap (templates/activities/show.html).
    live_details = {"服务人数": "participants-total", "新入会人数": "new-members-total"}

    def prepare(self, form, record=None):
        super().prepare(form, record)
        form.point.choices = queries.point_choices(
            current_user, record.point if record is not None and record.point_id else None)

    def new_defaults(self, form):
        """?point=<id>: the place, point, unit and usual groups of an outreach point."""
        super().new_defaults(form)
        if not request.args.get("point"):
            return {"point": None}
        point = get_point_or_404(request.args["point"], current_user)
        form.place.data = point.name
        if str(point.id) in {c[0] for c in form.point.choices}:
            form.point.data = str(point.id)
        if point.org_unit_id in {c[0] for c in form.org_unit.choices}:
            form.org_unit.data = point.org_unit_id
        form.target_groups.data = split_keys(point.target_groups)
        return {"point": point}

    def edit_defaults(self, form, record):
        super().edit_defaults(form, record)
        form.point.data = str(record.point_id) if record.point_id else ""
        form.services.data = split_keys(record.services)
        form.target_groups.data = split_keys(record.target_groups)
        form.partners.data = split_keys(record.partners)
        form.participants.data = record.paper_participants  # the form edits the paper counts only
        form.new_members.data = record.paper_new_members

    def again_args(self, record):
        return {"point": record.point_id} if record.point_id else {}

    def show(self, record_id):
        activity = self.get(record_id)
        board = signup_board(activity, request.args.get("q", ""))
        return render_template("activities/show.html", pages=self, record=activity,
                               firms=self.firms_of([activity.id], current_user).get(activity.id, []),
                               photos=photos.of(self.kind, activity.id), board=board,
                               changes=records.history(self.kind, activity.id), archive_form=ArchiveRecordForm(),
                               SIGNUP_STATES=SIGNUP_STATES, TARGET_GROUPS=TARGET_GROUPS, PLATFORMS=PLATFORMS)

    def blueprint(self, url_prefix):
        bp = super().blueprint(url_prefix)
        bp.add_url_rule("/<int:record_id>/signup", "signup_code", login_required(signup_code))
        bp.add_url_rule("/<int:record_id>/signup/poster", "signup_poster", login_required(signup_poster))
        bp.add_url_rule("/<int:record_id>/signups/check-in", "check_in", login_required(check_in), methods=["POST"])
        bp.add_url_rule("/<int:record_id>/signups/cancel", "cancel_signup", login_required(cancel_signup),
                        methods=["POST"])
        return bp


# ---- sign-ups ---------------------------------------------------------------------------------

def link_of(activity) -> dict:
    """The activity's sign-up link, its QR code, until when, and whether it takes sign-ups now."""
    url = url_for("members.join", token=links.token_for("activity", activity), _external=True)
    expires = links.expiry("activity", activity)
    # Shown as the last minute it works (the activity's day ends at 24:00: "23:59").
    return {"url": url, "svg": qr.svg(url, "扫码报名"),
            "expires": expires.astimezone(LOCAL_TZ) - timedelta(minutes=1),
            "live": activity.signup_open and not activity.archived and timeutil.now() < expires}


def _matches(signup, q: str) -> bool:
    """The search box: a name (part of it), the phone's last four digits, or the whole number."""
    member = signup.member
    if not q:
        return True
    number = phones.normalise(q)
    if number is not None:
        return bool(member.phone_key) and member.phone_key == phones.match_key(number)
    digits = "".join(ch for ch in q if ch.isdigit())
    if digits and digits == q and len(digits) <= 4:
        return member.phone_mask.endswith(digits)
    return q in member.name


def signup_board(activity, q: str = "") -> dict:
    """The activity's sign-ups for its page: registered first (in the order they signed up), then
    the waiting list with positions, then the cancelled; the figures; the link when open."""
    q = (q or "").strip()[:20]
    rows = list(SignUp.select(SignUp, Member).join(Member).where(SignUp.activity == activity.id)
                .order_by(SignUp.signed_at, SignUp.id))
    order = {"registered": 0, "waitlisted": 1, "cancelled": 2}
    rows.sort(key=lambda s: order.get(s.state, 3))
    position = 0
    for s in rows:
        if s.state == "waitlisted":
            position += 1
            s.position = position
        else:
            s.position = 0
    registered = sum(1 for s in rows if s.state == "registered")
    return {"rows": [s for s in rows if _matches(s, q)], "total": len(rows), "q": q,
            "registered": registered, "waitlisted": position,
            "checked_in": sum(1 for s in rows if s.counted),
            "link": link_of(activity) if activity.signup_open and not activity.archived else None,
            "can_check_in": activity.held_on <= local_today(),
            "editable": can("edit_records") and not activity.archived}


def _activity_and_signup(record_id):
    require("edit_records")
    activity = PAGES.get(record_id)
    signup = SignUp.get_or_none(SignUp.id == to_id(request.form.get("signup")), SignUp.activity == activity.id) \
        if to_id(request.form.get("signup")) else None
    if signup is None:
        abort(404)
    return activity, signup


def _back(activity, signup):
    q = (request.form.get("q") or "").strip()[:20]
    return redirect(url_for("activities.show", record_id=activity.id, **({"q": q} if q else {}))
                    + f"#signup-{signup.id}", 303)


def _who(signup) -> str:
    member = Member.get_by_id(signup.member_id)
    return f"{member.name}（{member.phone_mask}）" if member.phone_mask else member.name


def check_in(record_id):
    """签到 one person (one tap), or undo it (undo=1)."""
    activity, signup = _activity_and_signup(record_id)
    present = request.form.get("undo") != "1"
    if activity.archived:
        flash("这条活动记录已归档，不能签到", "error")
    elif present and activity.held_on > local_today():
        flash(f"活动在 {fmt_date(activity.held_on)} 举行，当天才能签到", "error")
    elif signup.counted == present:
        flash(f"{_who(signup)}{'已经签到' if present else '还没有签到'}", "info")
    else:
        try:
            members.check_in(signup.id, current_user, present=present)
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash(f"{_who(signup)}{'签到成功' if present else '已撤销签到'}", "success")
    return _back(activity, signup)


def cancel_signup(record_id):
    """取消报名 for a worker (by phone, at the desk): the first on the waiting list moves up."""
    activity, signup = _activity_and_signup(record_id)
    if activity.archived:
        flash("这条活动记录已归档，不能修改报名", "error")
        return _back(activity, signup)
    who = _who(signup)  # before: a member whose only sign-up this was is erased with it
    try:
        promoted = members.cancel(signup.id, current_user)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        message = f"已取消{who}的报名"
        if promoted is not None:
            message += f"；候补的{_who(promoted)}已递补为已报名"
        flash(message, "success")
    return _back(activity, signup)


def signup_code(record_id):
    """The QR code, large, for a tablet held up at the activity."""
    activity = PAGES.get(record_id)
    return render_template("activities/code.html", record=activity, link=link_of(activity))


def signup_poster(record_id):
    """An A4 poster: the unit, the activity, its day and place, the QR code and the link."""
    activity = PAGES.get(record_id)
    return render_template("activities/poster.html", record=activity, link=link_of(activity),
                           SERVICES=SERVICES, labels=labels)


PAGES = ActivityPages()
bp = PAGES.blueprint("/activities")
