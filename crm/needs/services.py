"""企业需求意见: raised at a visit or a meeting, then worked until resolved."""
from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.timeutil import local_today
from crm.fieldwork import services as records
from crm.fieldwork.choices import NEED_CATEGORIES, NEED_RESOLVED, NEED_STATUSES
from crm.needs.models import Need


def raise_needs(*, org_unit, raised_on, user, categories, detail="", enterprise=None, visit=None,
                meeting=None) -> list[Need]:
    """One need per category ticked; free text alone is one need of 其他. Call inside the
    transaction that saves the visit or meeting."""
    categories = [c for c in dict.fromkeys(categories or []) if c]
    for c in categories:
        if c not in NEED_CATEGORIES:
            raise ServiceError("未知的需求类别", "need_categories")
    detail = (detail or "").strip()
    if detail and not categories:
        categories = ["other"]
    return [Need.create(org_unit=org_unit, enterprise=enterprise, visit=visit, meeting=meeting,
                        category=c, detail=detail, raised_on=raised_on, created_by=user,
                        updated_by=user) for c in categories]


def update_need(need: Need, data: dict, user, expected_version: int) -> Need:
    """Change status, category, detail or resolution. Resolving asks for a resolution note."""
    status = data.get("status") or need.status
    if status not in NEED_STATUSES:
        raise ServiceError("未知的处理状态", "status")
    category = data.get("category") or need.category
    if category not in NEED_CATEGORIES:
        raise ServiceError("未知的需求类别", "category")
    resolution = (data.get("resolution") or "").strip()
    if status == NEED_RESOLVED and not resolution:
        raise ServiceError("标记为已解决时请填写解决情况", "resolution")
    detail = (data.get("detail") if data.get("detail") is not None else need.detail).strip()

    def apply(current):
        resolved_on = current.resolved_on
        resolved_by = current.resolved_by_id
        if status == NEED_RESOLVED and current.status != NEED_RESOLVED:
            resolved_on, resolved_by = data.get("resolved_on") or local_today(), user.id
        elif status != NEED_RESOLVED:
            resolved_on, resolved_by = None, None
        Need.update(status=status, category=category, detail=detail, resolution=resolution,
                    resolved_on=resolved_on, resolved_by=resolved_by).where(Need.id == current.id).execute()
        if status == NEED_RESOLVED and current.status != NEED_RESOLVED:
            signals.need_resolved.send("need", need_id=current.id, user=user, resolution=resolution)

    mine = {"类别": NEED_CATEGORIES.label(category), "说明": detail,
            "状态": NEED_STATUSES.label(status), "解决情况": resolution}
    return records.save_edit("need", need.id, user, expected_version, apply, mine)


def follow_record(archived: bool, visit=None, meeting=None):
    """The needs raised at a visit or meeting are archived and restored with it (a record
    archived as a duplicate does not leave its needs open)."""
    cond = (Need.visit == visit) if visit is not None else (Need.meeting == meeting)
    Need.update(archived=archived).where(cond).execute()
