from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from crm.common.timeutil import fmt_date
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import TRAINING_CATEGORIES
from crm.fieldwork.registry import Kind, register
from crm.org.models import OrgUnit
from crm.permissions import get_or_404
from crm.trainings.models import Training, TrainingEnterprise


def get_training_or_404(record_id, user) -> Training:
    return get_or_404(Training, record_id, user,
                      query=Training.select(Training, OrgUnit).join(OrgUnit, on=(Training.org_unit == OrgUnit.id)))


def hours_text(hours) -> str:
    """学时 as written by people: 2, 1.5 (the same on SQLite and PostgreSQL)."""
    if hours is None or hours == "":
        return ""
    try:
        value = Decimal(str(hours)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(hours)
    return format(value.normalize(), "f")


def enterprise_names(training_id) -> str:
    if training_id is None:
        return ""
    rows = (Enterprise.select(Enterprise.name)
            .join(TrainingEnterprise, on=(TrainingEnterprise.enterprise == Enterprise.id))
            .where(TrainingEnterprise.training == training_id).order_by(TrainingEnterprise.id).tuples())
    return "、".join(n for (n,) in rows)


def snapshot(t: Training) -> dict:
    return {"培训名称": t.title, "类别": TRAINING_CATEGORIES.label(t.category), "日期": fmt_date(t.held_on),
            "学时": hours_text(t.hours), "授课人": t.trainer,
            "组织单位": t.org_unit.name, "服务企业": enterprise_names(t.id),
            "参训人数": str(t.participants), "内容摘要": t.summary}


KIND = register(Kind("training", "培训", Training, get_training_or_404, "trainings.show", snapshot))
