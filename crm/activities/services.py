"""服务活动 (义务理发, 免费体检, 送清凉, 暖心驿站 …): recording one (its served enterprises and
photos, in one transaction, once per form key), editing it against its version, archiving it;
its counts from check-ins plus paper forms.

Like a training, an activity is not a contact: it moves no founding stage and no last-contact
date. It shows on each served enterprise's timeline through ActivityEnterprise; its new members
count in the recruitment figures.

Counts: 服务人数 (`participants`) = the sign-ups checked in + `paper_participants`, 新入会人数
(`new_members`) = the checked-in sign-ups that made their member + `paper_new_members`. The form
edits only the paper counts (sent as `participants` / `new_members`, like a meeting's
`attendees`); `recount` keeps the totals, also when a check-in or a cancellation changes them
(signals.signups_changed, sender "activity").

Sign-ups: with `signup_open` workers sign up by the activity's link (crm.members), up to
`capacity` (None: no limit), then onto the waiting list. Such an activity may be published ahead
of its day (up to SIGNUP_AHEAD_DAYS). Capacity is never cut below the people registered: that is
refused (cancel some sign-ups first); raised or removed, the waiting list moves up in order."""
from datetime import date, timedelta

from flask import current_app

from crm.activities.kind import snapshot
from crm.activities.models import ActivityEnterprise, ServiceActivity
from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.common.timeutil import local_today
from crm.db import db, is_postgres
from crm.fieldwork import services as records
from crm.fieldwork.choices import PARTNERS, SERVICES, TARGET_GROUPS, join_keys
from crm.fieldwork.forms import EARLIEST
from crm.fieldwork.inputs import check_date, count, enterprise_names, org_unit_id, served_ids
from crm.fieldwork.links import linked_ids, set_links
from crm.meetings.models import OutreachPoint
from crm.members.models import SignUp
from crm.permissions import scoped

SIGNUP_AHEAD_DAYS = 180
NOT_AHEAD = "活动日期不能晚于今天；要提前发布活动、接受报名，请勾选「开放报名」"
TOO_FAR = f"开放报名的活动日期最多可以定在 {SIGNUP_AHEAD_DAYS} 天以后"
PAPER_NEW_TOO_MANY = "纸质登记的新入会人数不能超过纸质登记的服务人数"


def latest_day(signup_open: bool) -> date:
    """The latest day an activity may be dated: today, or ahead when it takes sign-ups."""
    return local_today() + timedelta(days=SIGNUP_AHEAD_DAYS if signup_open else 0)


def _check_day(day, signup_open: bool):
    if not signup_open or day is None or day <= local_today():
        check_date(day, "活动日期", "held_on")
        return
    if day > latest_day(True):
        raise ServiceError(TOO_FAR, "held_on")
    if day < EARLIEST:
        raise ServiceError("日期太早，请检查年份", "held_on")


def max_capacity() -> int:
    """A record takes at most SIGNUP_CAP live sign-ups (crm.members): no capacity above it."""
    return current_app.config["SIGNUP_CAP"]


def _capacity(value):
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ServiceError("名额应为正整数；不限名额请留空", "capacity")
    if number < 1:
        raise ServiceError("名额应为正整数；不限名额请留空", "capacity")
    if number > max_capacity():
        raise ServiceError(f"名额最多 {max_capacity()} 人", "capacity")
    return number


def _keys(values, choices, message, field):
    values = list(values or [])
    if any(v not in choices for v in values):
        raise ServiceError(message, field)
    return join_keys(values)


def _point(point_id, user, keep=None):
    """An active outreach point of the user's scope (or the one the record already has)."""
    if not point_id:
        return None
    if point_id == keep:
        return OutreachPoint.get_by_id(point_id)
    point = (scoped(OutreachPoint, user).where(OutreachPoint.id == point_id,
                                               OutreachPoint.archived == False).first())  # noqa: E712
    if point is None:
        raise ServiceError("请从列表中选择固定点位", "point")
    return point


def _values(data: dict, user, keep_unit=None, keep_point=None) -> dict:
    title = clean(data.get("title"))
    if not title:
        raise ServiceError("请填写活动名称", "title")
    signup_open = bool(data.get("signup_open"))
    _check_day(data.get("held_on"), signup_open)
    paper = count(data.get("participants"), "服务人数（纸质登记）", "participants")
    paper_new = count(data.get("new_members"), "新入会人数（纸质登记）", "new_members")
    if paper_new > paper:
        raise ServiceError(PAPER_NEW_TOO_MANY, "new_members")
    point = _point(data.get("point"), user, keep_point)
    place = clean(data.get("place"))[:200] or (point.name if point else "")
    return {"title": title[:200], "held_on": data["held_on"],
            "services": _keys(data.get("services"), SERVICES, "未知的服务内容", "services"),
            "place": place, "point": point.id if point else None,
            "org_unit": org_unit_id(data.get("org_unit"), user, keep_unit),
            "target_groups": _keys(data.get("target_groups"), TARGET_GROUPS, "未知的面向群体", "target_groups"),
            "partners": _keys(data.get("partners"), PARTNERS, "未知的合作单位", "partners"),
            "paper_participants": paper, "paper_new_members": paper_new,
            "signup_open": signup_open, "capacity": _capacity(data.get("capacity")),
            "summary": (data.get("summary") or "").strip()[:5000]}


def create_activity(data: dict, user, form_key: str):
    """Returns (activity, created). `created` is False when this form key was already saved."""
    values = _values(data, user)
    values.update(participants=values["paper_participants"], new_members=values["paper_new_members"])
    return records.create_linked("activity", ActivityEnterprise.activity, records.sent_of(form_key, data), user,
                                 values, served_ids(data.get("enterprise_ids"), user))


def _lock(activity_id):
    """The activity's row for this transaction (PostgreSQL): sign-ups count against it locked."""
    if is_postgres():
        db.execute_sql("SELECT id FROM service_activity WHERE id = %s FOR UPDATE", (activity_id,))


def registered_count(activity_id) -> int:
    return SignUp.select().where(SignUp.activity == activity_id, SignUp.state == "registered").count()


def _fit_capacity(activity_id, capacity):
    """A new capacity: refused below the people registered; the waiting list moves up into the
    places it frees, first come first served."""
    registered = registered_count(activity_id)
    if capacity is not None and capacity < registered:
        raise ServiceError(f"已有 {registered} 人报名，名额不能少于已报名人数；"
                           "如需减少名额，请先在报名名单中取消部分报名", "capacity")
    waiting = (SignUp.select(SignUp.id).where(SignUp.activity == activity_id, SignUp.state == "waitlisted")
               .order_by(SignUp.signed_at, SignUp.id))
    if capacity is not None:
        waiting = waiting.limit(capacity - registered)
    ids = [s.id for s in waiting]
    if ids:
        SignUp.update(state="registered").where(SignUp.id.in_(ids)).execute()


def update_activity(activity: ServiceActivity, data: dict, user, expected_version: int) -> ServiceActivity:
    """Raises records.StaleRecord when the activity changed since `expected_version`."""
    current_ids = linked_ids(ActivityEnterprise.activity, activity.id)
    values = _values(data, user, keep_unit=activity.org_unit_id, keep_point=activity.point_id)
    ent_ids = served_ids(data.get("enterprise_ids"), user, keep=current_ids)

    def apply(current):
        _lock(current.id)
        _fit_capacity(current.id, values["capacity"])
        ServiceActivity.update(**values).where(ServiceActivity.id == current.id).execute()
        set_links(ActivityEnterprise.activity, current.id, ent_ids)
        recount(current.id)

    mine = snapshot(ServiceActivity(id=None, **values))
    mine["服务企业"] = enterprise_names(ent_ids)
    return records.save_edit("activity", activity.id, user, expected_version, apply, mine)


def recount(activity_id):
    """服务人数 and 新入会人数: the sign-ups checked in (a member's first sign-up counts as new,
    any later one as attendance) plus the paper counts typed on the form."""
    present = SignUp.select().where(SignUp.activity == activity_id, SignUp.counted == True)  # noqa: E712
    checked_in = present.count()
    new = present.where(SignUp.is_new == True).count()  # noqa: E712
    (ServiceActivity.update(participants=ServiceActivity.paper_participants + checked_in,
                            new_members=ServiceActivity.paper_new_members + new)
     .where(ServiceActivity.id == activity_id).execute())


def _signups_changed(_kind, ids=(), **_):
    """An activity's sign-ups were checked in, undone or cancelled: its counts, and the
    aggregates with them (the sender's transaction and batch)."""
    for activity_id in ids:
        signals.record_changing.send("activity", record=ServiceActivity.get_by_id(activity_id))
        recount(activity_id)
        signals.record_changed.send("activity", record=ServiceActivity.get_by_id(activity_id))


signals.signups_changed.connect(_signups_changed, sender="activity")
