from crm.auth.models import User
from crm.common.timeutil import fmt_date
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import VISIT_KINDS, VISIT_PURPOSES, labels
from crm.fieldwork.registry import Kind, register
from crm.permissions import get_or_404
from crm.visits.models import Visit, VisitVisitor


def get_visit_or_404(record_id, user) -> Visit:
    """A visit is in scope when its enterprise is (crm/visits/queries.scoped_visits)."""
    return get_or_404(Visit, record_id, user, query=Visit.select(Visit, Enterprise).join(Enterprise))


def visitor_names(visit_id) -> str:
    names = (User.select(User.name).join(VisitVisitor, on=(VisitVisitor.user == User.id))
             .where(VisitVisitor.visit == visit_id).order_by(VisitVisitor.id).tuples())
    return "、".join(n for (n,) in names)


def snapshot(v: Visit) -> dict:
    return {"走访日期": fmt_date(v.visited_on), "时间": v.visit_time.strftime("%H:%M") if v.visit_time else "",
            "走访人": visitor_names(v.id), "走访方式": VISIT_KINDS.label(v.kind),
            "走访目的": labels(VISIT_PURPOSES, v.purposes), "见到的联系人": v.contacts_met,
            "内容摘要": v.summary, "走访结果": v.outcome, "下一步": v.next_step,
            "下一步日期": fmt_date(v.next_step_on)}


KIND = register(Kind("visit", "走访记录", Visit, get_visit_or_404, "visits.show", snapshot))
