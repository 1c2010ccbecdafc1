"""The sign-up pages: the worker's (no login, phone-sized, /join/<token>) and the cadre's side of
them — a record's QR code held up on a tablet, its A4 poster, and the meeting's sign-ups to
confirm or reject."""
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from peewee import fn

from crm.common.errors import ServiceError
from crm.common.numbers import to_id
from crm.common.timeutil import LOCAL_TZ
from crm.fieldwork.choices import TARGET_GROUPS
from crm.meetings.kind import get_meeting_or_404, get_point_or_404
from crm.members import links, qr, services
from crm.members.choices import CONSENT_TEXT, PLATFORMS, SIGNUP_STATES
from crm.members.forms import SignUpForm
from crm.members.models import SignUp
from crm.permissions import can, in_scope, require

bp = Blueprint("members", __name__)

OUTCOMES = {
    "joined": "登记成功，欢迎加入工会！",
    "attended": "您已是会员，本次签到已记录",
    "again": "本次登记已记录，不需要重复提交",
    "registered": "报名成功",
    "waitlisted": "名额已满，您已进入候补名单",
}


def _done_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="crm-signup-done")


def _title(target) -> str:
    record = target.record
    if target.kind == "meeting":
        return record.title or record.venue or f"{record.org_unit.name}职工沟通会"
    if target.kind == "activity":
        return record.title
    return record.name


def _staff_for(target):
    """The signed-in cadre entering a sign-up for a worker (on the tablet), if it is one."""
    if current_user.is_authenticated and can("edit_records") and in_scope(current_user, target.org_unit):
        return current_user
    return None


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token):
    try:
        target = links.target_of(token)
    except ServiceError as exc:
        return render_template("members/join_closed.html", message=str(exc)), 410 if exc.args[0] != links.FORGED else 404
    form = SignUpForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            result = services.sign_up(token, form.answers(), request.remote_addr or "", staff=_staff_for(target))
        except ServiceError as exc:
            if exc.field and form.apply_service_error(exc):
                pass
            else:
                form.refusal = str(exc)
        else:
            done = _done_serializer().dumps([result.outcome, result.signup.id, result.position])
            return redirect(url_for("members.joined", token=token, r=done), 303)
    status = 200 if request.method == "GET" else 422 if (form.errors or getattr(form, "refusal", None)) else 200
    return render_template("members/join.html", form=form, target=target, title=_title(target),
                           consent=CONSENT_TEXT, staff=_staff_for(target),
                           refusal=getattr(form, "refusal", None)), status


@bp.route("/join/<token>/done")
def joined(token):
    try:
        outcome, signup_id, position = _done_serializer().loads(request.args.get("r", ""), max_age=3600)
    except (BadSignature, ValueError, TypeError):
        return redirect(url_for("members.join", token=token))
    signup = SignUp.get_or_none(SignUp.id == signup_id)
    if outcome not in OUTCOMES or signup is None:
        abort(404)
    target = {"meeting": signup.meeting, "activity": signup.activity, "point": signup.point}
    kind = "meeting" if signup.meeting_id else "activity" if signup.activity_id else "point"
    record = target[kind]
    if outcome == "waitlisted":
        position = services.waitlist_position(signup) or position
    return render_template("members/joined.html", outcome=outcome, message=OUTCOMES[outcome], kind=kind,
                           record=record, position=position, token=token,
                           cancel_url=url_for("members.cancel", token=services.cancel_token(signup), _external=True)
                           if kind == "activity" else None,
                           title=_title(links.Target(kind, record, None)))


@bp.route("/join/cancel/<token>", methods=["GET", "POST"])
def cancel(token):
    """The worker's own link to cancel an activity sign-up (given once, on the confirmation)."""
    try:
        signup = services.signup_of_cancel_token(token)
    except ServiceError as exc:
        return render_template("members/join_closed.html", message=str(exc)), 404
    activity = signup.activity
    message = None
    if request.method == "POST":
        try:
            services.cancel(signup.id)
        except ServiceError as exc:
            message = str(exc)
        else:
            signup = SignUp.get_by_id(signup.id)
    return render_template("members/cancel.html", signup=signup, activity=activity, message=message)


# ---- the cadre's side ------------------------------------------------------------------------

def _target_of(kind: str, record_id):
    if kind == "meeting":
        return get_meeting_or_404(record_id, current_user)
    if kind == "point":
        return get_point_or_404(record_id, current_user)
    abort(404)


def link_of(kind: str, record) -> dict:
    """What a page shows of a record's sign-up link: the URL, its QR code, until when."""
    url = url_for("members.join", token=links.token_for(kind, record), _external=True)
    # Shown as the last minute it works (a meeting's day ends at 24:00: "23:59").
    shown = links.expiry(kind, record).astimezone(LOCAL_TZ) - timedelta(minutes=1)
    return {"url": url, "svg": qr.svg(url, "扫码登记入会"), "expires": shown,
            "kind": kind, "record": record}


PREFIX = {"meeting": "/meetings/<int:record_id>", "point": "/meetings/points/<int:record_id>"}


def _routes(rule: str, name: str, view, methods=("GET",)):
    """The same page for a meeting (members.meeting_<name>) and a point (members.point_<name>)."""
    for kind, prefix in PREFIX.items():
        def page(record_id, kind=kind):
            return view(kind, record_id)
        bp.add_url_rule(prefix + rule, f"{kind}_{name}", login_required(page), methods=list(methods))


def show_code(kind, record_id):
    """The QR code, large, for a tablet held up at the meeting."""
    record = _target_of(kind, record_id)
    field = SignUp.meeting if kind == "meeting" else SignUp.point
    return render_template("members/code.html", link=link_of(kind, record), record=record, kind=kind,
                           default_cap=current_app.config["SIGNUP_CAP"],
                           total=SignUp.select().where(field == record.id).count(),
                           live=links.is_live(kind, record))


def poster(kind, record_id):
    """An A4 poster: the unit's name, what to do, the QR code and the link."""
    record = _target_of(kind, record_id)
    return render_template("members/poster.html", link=link_of(kind, record), record=record, kind=kind)


@bp.route("/meetings/points/<int:record_id>/signup/renew", methods=["POST"], endpoint="point_renew")
@login_required
def renew(record_id):
    """A new link for the point: every link and poster given out before stops working."""
    require("edit_records")
    point = get_point_or_404(record_id, current_user)
    services.renew_point_link(point, current_user)
    flash("已更换登记二维码：之前的二维码和海报不再有效，请打印新的海报", "success")
    return redirect(url_for("members.point_code", record_id=point.id))


def decide(kind, record_id):
    """确认 or 驳回 sign-ups of a meeting or point (one, the ticked ones, or 全部确认)."""
    require("edit_records")
    record = _target_of(kind, record_id)
    field = SignUp.meeting if kind == "meeting" else SignUp.point
    query = SignUp.select(SignUp.id).where(field == record.id)
    action = request.form.get("action")
    if action == "confirm_all":
        ids = [i for (i,) in query.where(SignUp.state == "pending").tuples()]
    else:
        wanted = {to_id(v) for v in request.form.getlist("signup")} - {None}
        ids = [i for (i,) in query.where(SignUp.id.in_(list(wanted))).tuples()] if wanted else []
    if action not in ("confirm", "reject", "confirm_all") or not ids:
        flash("请先选择要处理的登记", "error")
    else:
        n = services.decide(ids, current_user, confirm=action != "reject")
        flash(f"已{'驳回' if action == 'reject' else '确认'} {n} 条登记", "success")
    endpoint = "meetings.show" if kind == "meeting" else "meetings.point_show"
    return redirect(url_for(endpoint, record_id=record.id) + "#signups", 303)


def live(kind, record_id):
    """How many have signed up (and wait to be confirmed): the QR page and the meeting page ask
    every few seconds, and show new sign-ups as they come."""
    record = _target_of(kind, record_id)
    field = SignUp.meeting if kind == "meeting" else SignUp.point
    rows = SignUp.select().where(field == record.id)
    response = jsonify(total=rows.count(), pending=rows.where(SignUp.state == "pending").count(),
                       last=rows.select(fn.MAX(SignUp.id)).scalar() or 0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/meetings/<int:record_id>/signup/cap", methods=["POST"], endpoint="meeting_cap")
@login_required
def set_cap(record_id):
    """An admin's cap on a meeting's sign-ups (empty: the configured default)."""
    require("manage_system")
    meeting = get_meeting_or_404(record_id, current_user)
    try:
        services.set_cap(meeting, request.form.get("cap", ""), current_user)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash("已更新本场登记人数上限", "success")
    return redirect(url_for("members.meeting_code", record_id=meeting.id), 303)


_routes("/signup", "code", show_code)
_routes("/signups.json", "live", live)
_routes("/signup/poster", "poster", poster)
_routes("/signups", "decide", decide, methods=("POST",))

CHOICES = {"TARGET_GROUPS": TARGET_GROUPS, "PLATFORMS": PLATFORMS, "SIGNUP_STATES": SIGNUP_STATES}
