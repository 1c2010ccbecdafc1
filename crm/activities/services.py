"""服务活动 (义务理发, 免费体检, 送清凉, 暖心驿站 …): recording one (its served enterprises and
photos, in one transaction, once per form key), editing it against its version, archiving it.

Like a training, an activity is not a contact: it moves no founding stage and no last-contact
date. It shows on each served enterprise's timeline through ActivityEnterprise; its new members
count in the recruitment figures."""
from crm.activities.models import ActivityEnterprise, ServiceActivity
from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.fieldwork import services as records
from crm.fieldwork.choices import PARTNERS, SERVICES, TARGET_GROUPS, join_keys
from crm.fieldwork.inputs import check_date, count, org_unit_id, served_ids
from crm.fieldwork.links import linked_ids
from crm.meetings.models import OutreachPoint
from crm.permissions import scoped


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
    check_date(data.get("held_on"), "活动日期", "held_on")
    participants = count(data.get("participants"), "服务人数", "participants")
    new_members = count(data.get("new_members"), "新入会人数", "new_members")
    if new_members > participants:
        raise ServiceError("新入会人数不能超过服务人数", "new_members")
    point = _point(data.get("point"), user, keep_point)
    place = clean(data.get("place"))[:200] or (point.name if point else "")
    return {"title": title[:200], "held_on": data["held_on"],
            "services": _keys(data.get("services"), SERVICES, "未知的服务内容", "services"),
            "place": place, "point": point.id if point else None,
            "org_unit": org_unit_id(data.get("org_unit"), user, keep_unit),
            "target_groups": _keys(data.get("target_groups"), TARGET_GROUPS, "未知的面向群体", "target_groups"),
            "partners": _keys(data.get("partners"), PARTNERS, "未知的合作单位", "partners"),
            "participants": participants, "new_members": new_members,
            "summary": (data.get("summary") or "").strip()[:5000]}


def create_activity(data: dict, user, form_key: str):
    """Returns (activity, created). `created` is False when this form key was already saved."""
    return records.create_linked("activity", ActivityEnterprise.activity, records.sent_of(form_key, data), user,
                                 _values(data, user), served_ids(data.get("enterprise_ids"), user))


def update_activity(activity: ServiceActivity, data: dict, user, expected_version: int) -> ServiceActivity:
    """Raises records.StaleRecord when the activity changed since `expected_version`."""
    current_ids = linked_ids(ActivityEnterprise.activity, activity.id)
    return records.update_linked("activity", ActivityEnterprise.activity, activity, user, expected_version,
                                 _values(data, user, keep_unit=activity.org_unit_id, keep_point=activity.point_id),
                                 served_ids(data.get("enterprise_ids"), user, keep=current_ids))
