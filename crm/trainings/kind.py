from crm.common.timeutil import fmt_date
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import TRAINING_CATEGORIES
from crm.fieldwork.registry import Kind, register
from crm.permissions import get_or_404
from crm.trainings.models import Training, TrainingEnterprise


def get_training_or_404(record_id, user) -> Training:
    return get_or_404(Training, record_id, user)


def enterprise_names(training_id) -> str:
    rows = (Enterprise.select(Enterprise.name)
            .join(TrainingEnterprise, on=(TrainingEnterprise.enterprise == Enterprise.id))
            .where(TrainingEnterprise.training == training_id).order_by(TrainingEnterprise.id).tuples())
    return "、".join(n for (n,) in rows)


def snapshot(t: Training) -> dict:
    return {"培训名称": t.title, "类别": TRAINING_CATEGORIES.label(t.category), "日期": fmt_date(t.held_on),
            "学时": "" if t.hours is None else f"{t.hours:g}", "授课人": t.trainer,
            "组织单位": t.org_unit.name, "服务企业": enterprise_names(t.id),
            "参训人数": str(t.participants), "内容摘要": t.summary}


KIND = register(Kind("training", "培训", Training, get_training_or_404, "trainings.show", snapshot))
