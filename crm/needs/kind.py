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


KIND = register(Kind("need", "企业需求意见", Need, get_need_or_404, "needs.show", snapshot))
