from crm.activities.models import ActivityEnterprise, ServiceActivity
from crm.common.timeutil import fmt_date
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import PARTNERS, SERVICES, TARGET_GROUPS, labels
from crm.fieldwork.registry import Kind, register
from crm.org.models import OrgUnit
from crm.permissions import get_or_404, in_scope, scoped


def get_activity_or_404(record_id, user) -> ServiceActivity:
    return get_or_404(ServiceActivity, record_id, user,
                      query=ServiceActivity.select(ServiceActivity, OrgUnit)
                      .join(OrgUnit, on=(ServiceActivity.org_unit == OrgUnit.id)))


def enterprise_names(activity_id) -> str:
    if activity_id is None:
        return ""
    rows = (Enterprise.select(Enterprise.name)
            .join(ActivityEnterprise, on=(ActivityEnterprise.enterprise == Enterprise.id))
            .where(ActivityEnterprise.activity == activity_id).order_by(ActivityEnterprise.id).tuples())
    return "、".join(n for (n,) in rows)


def snapshot(a: ServiceActivity) -> dict:
    """What the history compares: the form's fields (the counts typed from paper, not the totals
    the check-ins add to, which change without an edit)."""
    return {"活动名称": a.title, "服务内容": labels(SERVICES, a.services), "日期": fmt_date(a.held_on),
            "地点": a.place, "固定点位": a.point.name if a.point_id else "", "组织单位": a.org_unit.name,
            "面向群体": labels(TARGET_GROUPS, a.target_groups), "合作单位": labels(PARTNERS, a.partners),
            "服务人数（纸质登记）": str(a.paper_participants), "新入会人数（纸质登记）": str(a.paper_new_members),
            "开放报名": "是" if a.signup_open else "否", "名额": str(a.capacity) if a.capacity else "不限",
            "服务企业": enterprise_names(a.id), "内容摘要": a.summary}


def timeline_keys(ent_id):
    return (ServiceActivity.select(ServiceActivity.id, ServiceActivity.held_on, ServiceActivity.created_at)
            .join(ActivityEnterprise).where(ActivityEnterprise.enterprise == ent_id,
                                            ServiceActivity.archived == False).tuples())  # noqa: E712


def timeline_items(ent, user, ids):
    out = {}
    for a in (ServiceActivity.select(ServiceActivity, OrgUnit).join(OrgUnit)
              .where(ServiceActivity.id.in_(ids))):
        if not in_scope(user, a.org_unit):
            out[a.id] = {"title": "服务活动", "who": a.org_unit.name, "endpoint": None, "args": {}}
            continue
        out[a.id] = {"title": a.title, "detail": labels(SERVICES, a.services), "who": a.org_unit.name,
                     "endpoint": "activities.show", "args": {"record_id": a.id}}
    return out


def recent(user, limit, among_latest=None):
    """The 服务活动 the user recorded, newest first."""
    query = (scoped(ServiceActivity, user).where(ServiceActivity.created_by == user.id, ServiceActivity.archived == False)  # noqa: E712
             .order_by(ServiceActivity.held_on.desc(), ServiceActivity.id.desc()).limit(limit))
    return [(r.held_on, "服务活动", r.title, "activities.show", r.id) for r in query]


KIND = register(Kind("activity", "服务活动", ServiceActivity, get_activity_or_404, "activities.show",
                     snapshot, timeline_label="服务活动", timeline_keys=timeline_keys,
                     timeline_items=timeline_items, recent=recent))
