from crm.common.timeutil import fmt_date
from crm.fieldwork.choices import NEED_CATEGORIES, NEED_STATUSES
from crm.fieldwork.registry import Kind, register
from crm.needs.models import Need
from crm.permissions import get_or_404


def get_need_or_404(record_id, user) -> Need:
    return get_or_404(Need, record_id, user)


def snapshot(n: Need) -> dict:
    return {"类别": NEED_CATEGORIES.label(n.category), "说明": n.detail,
            "状态": NEED_STATUSES.label(n.status), "解决情况": n.resolution,
            "解决日期": fmt_date(n.resolved_on)}


def timeline_keys(ent_id):
    return Need.select(Need.id, Need.raised_on, Need.created_at).where(
        Need.enterprise == ent_id, Need.archived == False).tuples()  # noqa: E712


def timeline_items(ent, user, ids):
    return {n.id: {"title": f"{NEED_CATEGORIES.label(n.category)} · {n.status_label}", "detail": n.detail,
                   "endpoint": "needs.show", "args": {"record_id": n.id}}
            for n in Need.select().where(Need.id.in_(ids))}


KIND = register(Kind("need", "企业需求意见", Need, get_need_or_404, "needs.show", snapshot,
                     timeline_label="需求意见", timeline_keys=timeline_keys, timeline_items=timeline_items))
