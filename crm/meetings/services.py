"""沟通会 and 固定点位: logging a meeting (its group counts, participating enterprises, needs, photos
and the contact it makes, in one transaction, once per form key), editing it against its version,
archiving it; the same for outreach points."""
from peewee import fn

from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.common.timeutil import utcnow
from crm.enterprises.models import Enterprise
from crm.fieldwork import contact
from crm.fieldwork import services as records
from crm.fieldwork.choices import (MEETING_FORMATS, MEETING_KINDS, MEETING_LEVELS, PARTNERS, POINT_KINDS,
                                   SERVICES, TARGET_GROUPS, join_keys)
from crm.fieldwork.inputs import check_date, served_ids
from crm.meetings.kind import point_snapshot, snapshot
from crm.meetings.models import Meeting, MeetingEnterprise, MeetingNewMembers, OutreachPoint
from crm.members.models import SignUp
from crm.needs import services as needs
from crm.org.models import OrgUnit
from crm.permissions import in_scope, scoped
from crm.photos import services as photos


def _count(value, name, label):
    if value is None or value == "":
        return 0
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ServiceError(f"{label}请填写整数", name)
    if value < 0:
        raise ServiceError("请填写不小于 0 的整数", name)
    return value


def _keys(data, name, choices, message):
    keys = [k for k in dict.fromkeys(data.get(name) or []) if k]
    if any(k not in choices for k in keys):
        raise ServiceError(message, name)
    return keys


def _unit(data, user, current_id=None) -> OrgUnit:
    """The org unit chosen: in the user's scope and active (a record keeps its deactivated unit)."""
    unit = OrgUnit.get_or_none(OrgUnit.id == data.get("org_unit")) if data.get("org_unit") else None
    if unit is None:
        raise ServiceError("请选择组织单位", "org_unit")
    if not in_scope(user, unit):
        raise ServiceError("所选单位不在您的管辖范围内", "org_unit")
    if not unit.active and unit.id != current_id:
        raise ServiceError("所选单位已停用", "org_unit")
    return unit


# ---- 沟通会 -------------------------------------------------------------------------------------

def _point(data, user, current_id=None):
    point_id = data.get("point")
    if not point_id:
        return None
    if point_id == current_id:
        return OutreachPoint.get_by_id(point_id)
    point = (scoped(OutreachPoint, user)
             .where(OutreachPoint.id == point_id, OutreachPoint.archived == False).first())  # noqa: E712
    if point is None:
        raise ServiceError("所选固定点位不存在、已归档或不在您的管辖范围内", "point")
    return point


def _participants(data, user, keep=()) -> list[int]:
    """The participating enterprises: active files in the user's scope (an edit keeps the ones
    already on the meeting, even when they are outside it)."""
    return served_ids(data.get("enterprise_ids"), user, keep,
                      message="参会企业中有已归档或不在您管辖范围内的企业，不能添加")


def _check_meeting(data: dict, user, current: Meeting | None = None) -> dict:
    """Checks the input and returns the clean values (and the chosen unit, point and lists)."""
    check_date(data.get("held_on"), "日期", "held_on")
    if data.get("kind") not in MEETING_KINDS:
        raise ServiceError("请选择沟通会类型", "kind")
    if data.get("level") not in MEETING_LEVELS:
        raise ServiceError("请选择级别", "level")
    if data.get("format") not in MEETING_FORMATS:
        raise ServiceError("请选择形式", "format")
    summary = (data.get("summary") or "").strip()
    if not summary:
        raise ServiceError("请填写内容摘要", "summary")
    unit = _unit(data, user, current.org_unit_id if current else None)
    point = _point(data, user, current.point_id if current else None)
    groups = _keys(data, "target_groups", TARGET_GROUPS, "未知的面向群体")
    services = _keys(data, "services", SERVICES, "未知的服务内容")
    partners = _keys(data, "partners", PARTNERS, "未知的合作单位")
    attendees = _count(data.get("attendees"), "attendees", "纸质登记参加人数")
    cards = _count(data.get("cards"), "cards", "会员互助服务卡办理数")
    given = data.get("new_members") or {}
    if any(key not in TARGET_GROUPS for key in given):
        raise ServiceError("未知的面向群体", "target_groups")
    counts = {key: _count(given.get(key), f"new_{key}", f"新入会人数·{label}") for key, label in TARGET_GROUPS}
    total = sum(counts.values())
    if total > attendees:
        raise ServiceError("纸质登记的新入会人数合计不能超过纸质登记的参加人数", "attendees")
    keep = current_participants(current.id) if current else []
    participants = _participants(data, user, keep)
    venue = clean(data.get("venue"))[:200] or (point.name if point else "")
    values = {"kind": data["kind"], "level": data["level"], "format": data["format"], "org_unit": unit.id,
              "held_on": data["held_on"], "start_time": data.get("start_time"), "title": clean(data.get("title"))[:200],
              "venue": venue, "point": point.id if point else None, "target_groups": join_keys(groups),
              "paper_attendees": attendees, "cards": cards, "services": join_keys(services),
              "partners": join_keys(partners), "summary": summary}
    return {"values": values, "unit": unit, "point": point, "counts": counts, "participants": participants}


def current_participants(meeting_id) -> list[int]:
    return [i for (i,) in MeetingEnterprise.select(MeetingEnterprise.enterprise)
            .where(MeetingEnterprise.meeting == meeting_id).order_by(MeetingEnterprise.id).tuples()]


def _set_children(meeting_id, counts: dict, participants: list[int]):
    """The paper counts by group typed on the form, the totals with the sign-ups, the participants."""
    MeetingNewMembers.update(paper=0).where(MeetingNewMembers.meeting == meeting_id).execute()
    for key, _ in TARGET_GROUPS:
        if counts.get(key):
            updated = (MeetingNewMembers.update(paper=counts[key])
                       .where(MeetingNewMembers.meeting == meeting_id, MeetingNewMembers.group == key).execute())
            if not updated:
                MeetingNewMembers.create(meeting=meeting_id, group=key, count=0, paper=counts[key])
    recount(meeting_id)
    MeetingEnterprise.delete().where(MeetingEnterprise.meeting == meeting_id).execute()
    for ent_id in participants:
        MeetingEnterprise.create(meeting=meeting_id, enterprise=ent_id)


def recount(meeting_id):
    """参加人数 and 新入会人数 by group: the confirmed sign-ups (a member's first counts as new, any
    later one as attendance) plus the paper forms typed on the meeting's form."""
    signed = {g: n for g, n in (SignUp.select(SignUp.group, fn.COUNT(SignUp.id))
                                .where(SignUp.meeting == meeting_id, SignUp.counted == True,  # noqa: E712
                                       SignUp.is_new == True)  # noqa: E712
                                .group_by(SignUp.group).tuples())}
    present = (SignUp.select().where(SignUp.meeting == meeting_id, SignUp.counted == True)  # noqa: E712
               .count())
    rows = {r.group: r for r in MeetingNewMembers.select().where(MeetingNewMembers.meeting == meeting_id)}
    total = 0
    for group in set(rows) | set(signed):
        count = (rows[group].paper if group in rows else 0) + signed.get(group, 0)
        total += count
        if group not in rows:
            MeetingNewMembers.create(meeting=meeting_id, group=group, count=count, paper=0)
        elif count == 0:
            rows[group].delete_instance()
        elif rows[group].count != count:
            MeetingNewMembers.update(count=count).where(MeetingNewMembers.id == rows[group].id).execute()
    Meeting.update(attendees=Meeting.paper_attendees + present, new_members=total) \
        .where(Meeting.id == meeting_id).execute()


def _signups_changed(_kind, ids=(), **_):
    """A meeting's sign-ups were confirmed or rejected: its counts, and the aggregates with them."""
    for meeting_id in ids:
        meeting = Meeting.get_by_id(meeting_id)
        signals.record_changing.send("meeting", record=meeting)
        recount(meeting_id)
        signals.record_changed.send("meeting", record=Meeting.get_by_id(meeting_id))


signals.signups_changed.connect(_signups_changed, sender="meeting")


def _evidence(values) -> str:
    return f"沟通会：{values['held_on'].isoformat()} {MEETING_KINDS.label(values['kind'])}"


def _need_enterprise(participants, unit):
    """A need raised at a meeting with one enterprise is that enterprise's, when the meeting's
    unit holds its file (the need's readers must be allowed to see it)."""
    if len(participants) != 1:
        return None
    ent = Enterprise.select(Enterprise.id, OrgUnit.path).join(OrgUnit).where(Enterprise.id == participants[0]).first()
    return ent.id if ent and ent.org_unit.path.startswith(unit.path) else None


def create_meeting(data: dict, user, form_key: str):
    """Returns (meeting, created). `created` is False when this form key was already saved."""
    sent = records.sent_of(form_key, data)
    checked = _check_meeting(data, user)
    values, participants = checked["values"], checked["participants"]

    def build():
        now = utcnow()
        meeting = Meeting.create(form_key=sent.key, created_by=user, updated_by=user, created_at=now,
                                 updated_at=now, **values)
        _set_children(meeting.id, checked["counts"], participants)
        needs.raise_needs(org_unit=meeting.org_unit_id, enterprise=_need_enterprise(participants, checked["unit"]),
                          meeting=meeting.id, raised_on=values["held_on"], user=user,
                          categories=data.get("need_categories"), notes=data.get("need_notes"),
                          detail=data.get("need_detail"))
        photos.attach("meeting", meeting.id, sent.key, user)
        contact.contacted(participants, values["held_on"], user, "meeting", meeting.id, _evidence(values))
        return Meeting.get_by_id(meeting.id)  # with the counts _set_children made

    return records.create_once("meeting", sent, user, build)


def _names(ent_ids) -> str:
    names = dict(Enterprise.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(list(ent_ids))).tuples())
    return "、".join(names.get(i, "") for i in ent_ids)


def update_meeting(meeting: Meeting, data: dict, user, expected_version: int) -> Meeting:
    """The meeting's fields, group counts and participants, the notes of the needs it raised and
    any need newly ticked, against the meeting's version."""
    checked = _check_meeting(data, user, meeting)
    values, participants, counts = checked["values"], checked["participants"], checked["counts"]

    def apply(current):
        before = set(current_participants(current.id))
        Meeting.update(**values).where(Meeting.id == current.id).execute()
        _set_children(current.id, counts, participants)
        needs.edit_notes(data.get("raised_notes") or {}, user, meeting=current.id)
        present = {n.category for n in needs.raised_by(meeting=current.id)}
        needs.raise_needs(org_unit=values["org_unit"], enterprise=_need_enterprise(participants, checked["unit"]),
                          meeting=current.id, raised_on=values["held_on"], user=user,
                          categories=data.get("need_categories"), notes=data.get("need_notes"),
                          detail=data.get("need_detail"), present=present)
        contact.recompute(before | set(participants))
        added = [i for i in participants if i not in before]
        contact.contacted(added, values["held_on"], user, "meeting", current.id, _evidence(values))

    preview = Meeting(**{**values, "org_unit": checked["unit"], "point": checked["point"]})
    mine = snapshot(preview)
    mine["新入会人数（纸质登记）"] = "、".join(f"{TARGET_GROUPS.label(k)} {counts[k]}" for k, _ in TARGET_GROUPS if counts.get(k))
    mine["参会企业"] = _names(participants)
    return records.save_edit("meeting", meeting.id, user, expected_version, apply, mine)


def set_archived(meeting: Meeting, user, archived: bool, reason: str = "") -> Meeting:
    def after(m):
        contact.recompute(current_participants(m.id))
        needs.follow_record(m.archived, meeting=m.id)

    return records.set_archived("meeting", meeting, user, archived, reason, after=after)


# ---- 固定点位 -----------------------------------------------------------------------------------

def _check_point(data: dict, user, current: OutreachPoint | None = None) -> dict:
    name = clean(data.get("name"))
    if not name:
        raise ServiceError("请填写点位名称", "name")
    if data.get("kind") not in POINT_KINDS:
        raise ServiceError("请选择点位类型", "kind")
    unit = _unit(data, user, current.org_unit_id if current else None)
    groups = _keys(data, "target_groups", TARGET_GROUPS, "未知的群体")
    return {"name": name[:100], "address": clean(data.get("address"))[:300], "org_unit": unit.id,
            "kind": data["kind"], "schedule": clean(data.get("schedule"))[:100],
            "target_groups": join_keys(groups), "notes": (data.get("notes") or "").strip()[:2000]}


def create_point(data: dict, user, form_key: str):
    """Returns (point, created)."""
    sent = records.sent_of(form_key, data)
    values = _check_point(data, user)

    def build():
        now = utcnow()
        return OutreachPoint.create(form_key=sent.key, created_by=user, updated_by=user, created_at=now,
                                    updated_at=now, **values)

    return records.create_once("point", sent, user, build)


def update_point(point: OutreachPoint, data: dict, user, expected_version: int) -> OutreachPoint:
    values = _check_point(data, user, point)

    def apply(current):
        OutreachPoint.update(**values).where(OutreachPoint.id == current.id).execute()

    preview = OutreachPoint(**{**values, "org_unit": OrgUnit.get_by_id(values["org_unit"])})
    return records.save_edit("point", point.id, user, expected_version, apply, point_snapshot(preview))


def set_point_archived(point: OutreachPoint, user, archived: bool, reason: str = "") -> OutreachPoint:
    return records.set_archived("point", point, user, archived, reason)
