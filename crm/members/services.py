"""Sign-ups and members: a worker signs up by a meeting's, point's or activity's link; the same
phone is one member across the district (a later sign-up is attendance); staff confirm or reject
a meeting's sign-ups and check people in at an activity; the meeting or activity recounts what
they count (signals.signups_changed). Every write is one transaction.

Concurrency: the phone's keyed hash is unique, so two sign-ups of one new phone at once make one
member (the second insert fails and reads the first). On PostgreSQL the record signed up for is
locked for the sign-up's transaction, so its cap, capacity and waiting list are counted exactly;
SQLite serialises writers anyway."""
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from peewee import Case, IntegrityError

from crm.activities.models import ServiceActivity
from crm.audit import services as audit
from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.common.timeutil import to_local, utcnow
from crm.db import db, is_postgres
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import TARGET_GROUPS
from crm.meetings.models import Meeting
from crm.members import links, phones
from crm.members.choices import CONSENT_VERSION, PLATFORMS
from crm.members.models import Member, SignUp, SignUpThrottle
from crm.permissions import scoped

HONEYPOT = "website"  # a field people never see; a bot that fills every field fills it
HONEYPOT_REFUSED = "提交未成功，请刷新页面后重新填写"
TOO_MANY = "登记太频繁，请稍后再试"
FULL = "本场登记人数已满，请联系现场工作人员"
ERASED_NAME = "（已删除）"


@dataclass
class Result:
    outcome: str  # joined · attended · again · registered · waitlisted
    target: links.Target
    signup: SignUp
    position: int = 0  # on the waiting list

    @property
    def cancel_token(self) -> str:
        return cancel_token(self.signup)


# ---- the worker's form ------------------------------------------------------------------------

def check(data: dict) -> dict:
    """The worker's answers, cleaned; a ServiceError names the first field that is wrong."""
    details = _details(data, "请选择您的职业群体", worker=True)
    if not data.get("consent"):
        raise ServiceError("请阅读并勾选同意后再提交", "consent")
    return details


def _details(data: dict, group_message: str, worker: bool) -> dict:
    """A member's name, group, platform or employer and station, cleaned and checked in the
    order the forms show them. The worker's own form also takes the phone (after the name) and
    requires the platform; a cadre's correction leaves the phone alone."""
    name = clean(data.get("name"))
    if not name:
        raise ServiceError("请填写姓名", "name")
    if len(name) > 50:
        raise ServiceError("姓名不能超过 50 个字", "name")
    out = {"name": name}
    if worker:
        out["number"] = phones.normalise(data.get("phone"))
        if out["number"] is None:
            raise ServiceError("请填写正确的 11 位手机号", "phone")
    group = data.get("group") or ""
    if group not in TARGET_GROUPS:
        raise ServiceError(group_message, "group")
    platform = data.get("platform") or ""
    if (platform or worker) and platform not in PLATFORMS:
        raise ServiceError("请选择所在平台或单位", "platform")
    employer = clean(data.get("employer"))
    if platform == "other" and not employer:
        raise ServiceError("请填写所在单位名称", "employer")
    if len(employer) > 100:
        raise ServiceError("单位名称不能超过 100 个字", "employer")
    station = clean(data.get("station"))
    if len(station) > 100:
        raise ServiceError("站点名称不能超过 100 个字", "station")
    return {**out, "group": group, "platform": platform, "employer": employer if platform == "other" else "",
            "station": station}


def _address_key(address: str) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), f"signup:{address}".encode(),
                    hashlib.sha256).hexdigest()


def throttle(address: str):
    """At most SIGNUP_PER_ADDRESS sign-ups per client address in a SIGNUP_WINDOW; counted in a
    transaction of its own, so a refused burst still counts."""
    cfg = current_app.config
    now = utcnow()
    start = now - cfg["SIGNUP_WINDOW"]
    key = _address_key(address or "")
    with db.atomic():
        SignUpThrottle.insert(key=key, window_start=now, count=0).on_conflict_ignore().execute()
        fresh = SignUpThrottle.window_start < start
        (SignUpThrottle.update(count=Case(None, [(fresh, 1)], SignUpThrottle.count + 1),
                               window_start=Case(None, [(fresh, now)], SignUpThrottle.window_start))
         .where(SignUpThrottle.key == key).execute())
        count = SignUpThrottle.get(SignUpThrottle.key == key).count
    if count > cfg["SIGNUP_PER_ADDRESS"]:
        raise ServiceError(TOO_MANY)
    if now.minute == 0 and now.second < 5:  # now and then, forget old windows
        SignUpThrottle.delete().where(SignUpThrottle.window_start < start - timedelta(days=1)).execute()


def _lock(model, record_id):
    if is_postgres():
        db.execute_sql(f"SELECT id FROM {model._meta.table_name} WHERE id = %s FOR UPDATE", (record_id,))


def _member_for(answers: dict, unit_id: int, now) -> tuple[Member, bool]:
    key = phones.match_key(answers["number"])
    member = Member.get_or_none(Member.phone_key == key)
    if member is not None:
        return member, False
    try:
        with db.atomic():
            member = Member.create(name=answers["name"], group=answers["group"], platform=answers["platform"],
                                   employer=answers["employer"], station=answers["station"], org_unit=unit_id,
                                   joined_at=now, consent_version=CONSENT_VERSION, consent_at=now,
                                   created_at=now, updated_at=now, **phones.protect(answers["number"]))
        return member, True
    except IntegrityError:  # the same phone signed up elsewhere at this moment
        return Member.get(Member.phone_key == key), False


def _meeting_at(point, day):
    """The day's meeting at the point, when one is logged: a point's sign-ups go to it."""
    return (Meeting.select().where(Meeting.point == point.id, Meeting.held_on == day,
                                   Meeting.archived == False)  # noqa: E712
            .order_by(Meeting.id.desc()).first())


def sign_up(token: str, data: dict, address: str, staff=None) -> Result:
    """A sign-up by a link. `staff`: the signed-in cadre entering it for a worker (no address
    limit). Raises ServiceError for a bad link, bad answers, a limit reached."""
    target = links.target_of(token)
    if data.get(HONEYPOT):
        if staff is None:
            throttle(address)  # a bot's try counts towards its address's limit
        raise ServiceError(HONEYPOT_REFUSED)
    answers = check(data)
    if staff is None:
        throttle(address)
    return enter(target, answers, staff)


def enter(target: links.Target, answers: dict, staff=None, at=None) -> Result:
    """A sign-up of checked answers for a target (a meeting's, point's or activity's), within its
    cap: what the worker's page does after the link and the address limit, and what the demo data
    uses with `at`, the moment it happened."""
    at = at or utcnow()
    today = to_local(at).date()
    if target.kind == "point":
        meeting = _meeting_at(target.record, today)
        if meeting is not None:
            target = links.Target("meeting", meeting, target.expires)
    record = target.record
    cap = current_app.config["SIGNUP_CAP"]
    with db.atomic(), signals.batch():
        _lock(type(record), record.id)
        day = today if target.kind == "point" else record.held_on
        where = {"meeting": SignUp.meeting == record.id, "activity": SignUp.activity == record.id,
                 "point": (SignUp.point == record.id) & (SignUp.day == day)}[target.kind]
        live = SignUp.select().where(where, SignUp.state.not_in(("rejected", "cancelled")))
        if target.kind == "meeting" and record.signup_cap is not None:
            cap = record.signup_cap
        if live.count() >= cap:
            raise ServiceError(FULL)
        member, created = _member_for(answers, record.org_unit_id, at)
        state, position = "pending", 0
        if target.kind == "activity":
            registered = live.where(SignUp.state == "registered").count()
            if record.capacity is not None and registered >= record.capacity:
                state = "waitlisted"
                position = live.where(SignUp.state == "waitlisted").count() + 1
            else:
                state = "registered"
        existing = SignUp.select().where(where, SignUp.member == member.id).first()
        if existing is not None and existing.state not in ("cancelled", "rejected"):
            return Result("again", target, existing)
        values = {"member": member.id, "org_unit": record.org_unit_id, "day": day, "signed_at": at,
                  "group": member.group, "is_new": created, "state": state, "counted": False,
                  "via": "staff" if staff is not None else "qr",
                  target.kind: record.id}
        if existing is not None:  # signing up again after a cancellation
            SignUp.update(**values).where(SignUp.id == existing.id).execute()
            signup = SignUp.get_by_id(existing.id)
        else:
            try:
                with db.atomic():
                    signup = SignUp.create(**values)
            except IntegrityError:  # the same phone twice at once
                return Result("again", target, SignUp.select().where(where, SignUp.member == member.id).get())
        if created:
            signals.member_joined.send(target.kind, member=member, signup=signup)
    if target.kind == "activity":
        outcome = state
    else:
        outcome = "joined" if created else "attended"
    return Result(outcome, target, signup, position)


def set_cap(meeting, value, user):
    """A meeting's own cap on its sign-ups (empty: SIGNUP_CAP); not below those already in."""
    text = str(value or "").strip()
    cap = None
    if text:
        try:
            cap = int(text)
        except ValueError:
            raise ServiceError("登记人数上限应为整数", "cap")
        if not 1 <= cap <= 100_000:
            raise ServiceError("登记人数上限应在 1 到 100000 之间", "cap")
        taken = SignUp.select().where(SignUp.meeting == meeting.id, SignUp.state != "rejected").count()
        if cap < taken:
            raise ServiceError(f"本场已有 {taken} 人登记，上限不能小于这个数", "cap")
    with db.atomic():
        Meeting.update(signup_cap=cap).where(Meeting.id == meeting.id).execute()
    audit.record("member", user=user, target=("meeting", meeting.id),
                 detail=f"登记人数上限：{cap if cap is not None else '默认'}")


# ---- cancelling an activity sign-up by its own link ------------------------------------------------

def _cancel_serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="crm-signup-cancel")


def cancel_token(signup: SignUp) -> str:
    return _cancel_serializer().dumps(["c", signup.id])


def signup_of_cancel_token(token: str) -> SignUp:
    try:
        payload = _cancel_serializer().loads(token or "")
    except (BadSignature, UnicodeError, ValueError):
        raise ServiceError(links.FORGED)
    if not isinstance(payload, list) or len(payload) != 2 or not isinstance(payload[1], int):
        raise ServiceError(links.FORGED)
    signup = SignUp.get_or_none(SignUp.id == payload[1])
    if signup is None or signup.activity_id is None:
        raise ServiceError(links.FORGED)
    return signup


# ---- staff: confirm, reject, check in, cancel ---------------------------------------------------

def _changed(signups):
    """Tell each record its sign-ups changed (a point's own sign-ups count in the aggregates)."""
    meetings = sorted({s.meeting_id for s in signups if s.meeting_id})
    activities = sorted({s.activity_id for s in signups if s.activity_id})
    if meetings:
        signals.signups_changed.send("meeting", ids=meetings)
    if activities:
        signals.signups_changed.send("activity", ids=activities)


def _refresh(member_id):
    member = Member.get_by_id(member_id)
    if member.state == "void":
        return
    counted = SignUp.select().where(SignUp.member == member_id, SignUp.counted == True).exists()  # noqa: E712
    state = "active" if counted else "pending"
    if state != member.state:
        Member.update(state=state, updated_at=utcnow()).where(Member.id == member_id).execute()


def _void(member_id):
    """A member whose only sign-up was rejected or cancelled: their data goes, their row stays."""
    Member.update(state="void", name=ERASED_NAME, phone_secret="", phone_key=None, phone_mask="", employer="",
                  station="", enterprise=None, updated_at=utcnow()).where(Member.id == member_id).execute()


def _pass_on_new(signup: SignUp) -> list[SignUp]:
    """The sign-up that made its member no longer stands: the member's next sign-up makes them,
    or, with none, the member is void. Returns the sign-ups whose counts change."""
    if not signup.is_new:
        return []
    following = (SignUp.select().where(SignUp.member == signup.member_id, SignUp.id != signup.id,
                                       SignUp.state.not_in(("rejected", "cancelled")))
                 .order_by(SignUp.signed_at, SignUp.id).first())
    SignUp.update(is_new=False).where(SignUp.id == signup.id).execute()
    if following is None:
        _void(signup.member_id)
        return []
    on_its_own = following.meeting_id is None and following.activity_id is None
    if on_its_own:
        signals.record_changing.send("signup", record=following)
    SignUp.update(is_new=True).where(SignUp.id == following.id).execute()
    if on_its_own:
        signals.record_changed.send("signup", record=SignUp.get_by_id(following.id))
    return [following]


def _get_locked(signup_id) -> SignUp:
    _lock(SignUp, signup_id)
    return SignUp.get_by_id(signup_id)


def decide(signup_ids, user, confirm: bool) -> int:
    """Confirm or reject a meeting's or point's sign-ups (pending or decided the other way);
    returns how many changed."""
    changed, masks = [], []
    with db.atomic(), signals.batch():
        for signup_id in signup_ids:
            signup = _get_locked(signup_id)
            if signup.activity_id is not None:
                continue
            member = Member.get_by_id(signup.member_id)
            wanted = "confirmed" if confirm else "rejected"
            if signup.state == wanted or member.state == "void":
                continue
            on_its_own = signup.meeting_id is None  # a point's sign-up outside a meeting counts by itself
            if on_its_own:
                signals.record_changing.send("signup", record=signup)
            SignUp.update(state=wanted, counted=confirm, decided_at=utcnow(), decided_by=user.id) \
                .where(SignUp.id == signup.id).execute()
            changed.append(signup)
            if not confirm:
                changed += _pass_on_new(signup)
            if on_its_own:
                signals.record_changed.send("signup", record=SignUp.get_by_id(signup.id))
            _refresh(signup.member_id)
            masks.append(member.phone_mask or member.name)
        _changed(changed)
    if masks:
        first = changed[0]
        target = ("meeting", first.meeting_id) if first.meeting_id else ("point", first.point_id)
        audit.record("member", user=user, target=target,
                     detail=f"{'确认' if confirm else '驳回'}登记 {len(masks)} 条：" + "、".join(masks[:50]))
    return len(masks)


def check_in(signup_id, user, present: bool = True) -> SignUp:
    """签到 at an activity (one tap), or undone. A member on the waiting list who comes is in."""
    with db.atomic(), signals.batch():
        activity_id = SignUp.select(SignUp.activity).where(SignUp.id == signup_id).scalar()
        if activity_id is not None:  # the activity first, then its sign-up: the order cancel takes
            _lock(ServiceActivity, activity_id)
        signup = _get_locked(signup_id)
        if signup.activity_id is None or signup.state == "cancelled":
            raise ServiceError("这条报名已取消，不能签到")
        values = {"counted": present, "checked_in_at": utcnow() if present else None,
                  "checked_in_by": user.id if present else None}
        if present and signup.state == "waitlisted":
            values["state"] = "registered"
        SignUp.update(**values).where(SignUp.id == signup.id).execute()
        _refresh(signup.member_id)
        _changed([signup])
    return SignUp.get_by_id(signup_id)


def cancel(signup_id, user=None) -> SignUp | None:
    """An activity sign-up cancelled (by the worker's own link, or by staff): the first on the
    waiting list takes the place. Returns the sign-up promoted, if any."""
    promoted = None
    with db.atomic(), signals.batch():
        signup = SignUp.get_by_id(signup_id)
        if signup.activity_id is None:
            raise ServiceError("只能取消活动报名")
        _lock(ServiceActivity, signup.activity_id)
        signup = SignUp.get_by_id(signup_id)
        if signup.state == "cancelled":
            return None
        if signup.counted:
            raise ServiceError("已签到的报名不能取消")
        was_registered = signup.state == "registered"
        SignUp.update(state="cancelled", cancelled_at=utcnow()).where(SignUp.id == signup.id).execute()
        changed = [signup] + _pass_on_new(signup)
        if was_registered:
            promoted = (SignUp.select().where(SignUp.activity == signup.activity_id, SignUp.state == "waitlisted")
                        .order_by(SignUp.signed_at, SignUp.id).first())
            if promoted is not None:
                SignUp.update(state="registered").where(SignUp.id == promoted.id).execute()
        _refresh(signup.member_id)
        _changed(changed)
        if user is not None:
            audit.record("member", user=user, target=("signup", signup.id), detail="取消活动报名")
    return promoted


def waitlist_position(signup: SignUp) -> int:
    if signup.state != "waitlisted":
        return 0
    return SignUp.select().where(SignUp.activity == signup.activity_id, SignUp.state == "waitlisted",
                                 (SignUp.signed_at < signup.signed_at)
                                 | ((SignUp.signed_at == signup.signed_at) & (SignUp.id < signup.id))).count() + 1


def renew_point_link(point, user):
    """A new round of the point's link, valid from now: the old links stop working."""
    with db.atomic():
        type(point).update(link_round=type(point).link_round + 1, link_issued_at=utcnow()) \
            .where(type(point).id == point.id).execute()
    audit.record("member", user=user, target=("point", point.id), detail="更换固定点位的登记二维码")


# ---- the member ------------------------------------------------------------------------------

def reveal_phone(member: Member, user) -> str | None:
    """The full number, for a supervisor of the member's unit; each reading is logged."""
    number = phones.decrypt(member.phone_secret)
    audit.record("phone_read", user=user, target=("member", member.id),
                 detail=f"查看会员完整手机号：{member.phone_mask}")
    return number


def set_card(member: Member, user, issued: bool) -> Member:
    with db.atomic():
        Member.update(card_issued=issued, card_issued_at=utcnow() if issued else None, updated_at=utcnow(),
                      version=Member.version + 1).where(Member.id == member.id).execute()
    audit.record("member", user=user, target=("member", member.id),
                 detail="办理会员互助服务卡" if issued else "撤销会员互助服务卡记录")
    return Member.get_by_id(member.id)


def set_archived(member: Member, user, archived: bool, reason: str = "") -> Member:
    reason = clean(reason)[:200]
    if archived and not reason:
        raise ServiceError("请填写归档原因", "reason")
    with db.atomic():
        Member.update(archived=archived, archived_at=utcnow() if archived else None,
                      archived_reason=reason if archived else "", updated_at=utcnow(),
                      version=Member.version + 1).where(Member.id == member.id).execute()
    audit.record("member", user=user, target=("member", member.id),
                 detail=("归档会员：" + reason) if archived else "恢复会员")
    return Member.get_by_id(member.id)


def erase(member: Member, user, reason: str) -> Member:
    """Erasure on the member's request: name, phone, employer and station go; the row, its group,
    platform, unit, dates and sign-ups stay, so every count they took part in stays."""
    reason = clean(reason)[:200]
    if not reason:
        raise ServiceError("请填写删除依据（如本人申请的日期和方式）", "reason")
    with db.atomic():
        Member.update(name=ERASED_NAME, phone_secret="", phone_key=None, phone_mask="", employer="", station="",
                      enterprise=None, erased_at=utcnow(), erased_by=user.id, updated_at=utcnow(),
                      version=Member.version + 1).where(Member.id == member.id).execute()
    audit.record("member", user=user, target=("member", member.id), detail="删除会员个人信息：" + reason)
    return Member.get_by_id(member.id)


class StaleMember(Exception):
    """The member changed since the edit form was opened: what they are now and what was typed,
    side by side (the rows the conflict table shows)."""

    def __init__(self, current: Member, mine: dict):
        super().__init__("stale version")
        self.current = current
        theirs = member_snapshot(current)
        self.rows = [(label, mine.get(label, ""), value, mine.get(label, "") != value)
                     for label, value in theirs.items()]


def _platform_text(platform: str, employer: str) -> str:
    return employer if platform == "other" else PLATFORMS.label(platform)


def member_snapshot(member: Member, enterprise_name: str | None = None) -> dict:
    """The editable fields as shown ({label: text}): what an edit compares and a conflict shows."""
    if enterprise_name is None:
        enterprise_name = member.enterprise.name if member.enterprise_id else ""
    return {"姓名": member.name, "职业群体": TARGET_GROUPS.label(member.group),
            "所在平台或单位": _platform_text(member.platform, member.employer), "站点": member.station,
            "关联企业档案": enterprise_name}


def check_member(data: dict, user) -> dict:
    """The staff's edit of a member, cleaned; a ServiceError names the first field that is wrong.
    The enterprise file linked must be one the user may see."""
    details = _details(data, "请选择职业群体", worker=False)
    ids = list(data.get("enterprise_ids") or [])
    if len(ids) > 1:
        raise ServiceError("只能关联一家企业档案", "enterprise_ids")
    enterprise = None
    if ids:
        enterprise = scoped(Enterprise, user).where(Enterprise.id == ids[0]).first()
        if enterprise is None:
            raise ServiceError("企业档案不存在或不在管辖范围内", "enterprise_ids")
    return {**details, "enterprise": enterprise.id if enterprise else None,
            "_enterprise_name": enterprise.name if enterprise else ""}


def update_member(member: Member, data: dict, user, expected_version: int) -> Member:
    """Staff correct a member's name, group, platform or employer, station and linked enterprise
    file, against the version they opened (a stale one raises StaleMember and writes nothing).
    The audit log names the fields changed, not their values: an erasure cannot reach the log."""
    values = check_member(data, user)
    enterprise_name = values.pop("_enterprise_name")
    mine = member_snapshot(Member(**values), enterprise_name)
    with db.atomic():
        _lock(Member, member.id)
        current = Member.get_by_id(member.id)
        if current.state == "void" or current.erased_at is not None:
            raise ServiceError("这位会员的个人信息已删除，不能修改")
        if current.archived:
            raise ServiceError("这位会员已归档，不能修改；如需修改请先恢复")
        if current.version != expected_version:
            raise StaleMember(current, mine)
        before = member_snapshot(current)
        changed = [label for label, value in mine.items() if before.get(label, "") != value]
        if not changed:
            return current
        updated = (Member.update(**values, updated_at=utcnow(), version=Member.version + 1)
                   .where(Member.id == member.id, Member.version == expected_version).execute())
        if updated != 1:  # a writer slipped in between (PostgreSQL read committed)
            raise StaleMember(Member.get_by_id(member.id), mine)
        audit.record("member", user=user, target=("member", member.id), detail="修改会员信息：" + "、".join(changed))
    return Member.get_by_id(member.id)
