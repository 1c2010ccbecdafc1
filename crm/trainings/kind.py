from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from crm.common.timeutil import fmt_date
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import TRAINING_CATEGORIES
from crm.fieldwork.registry import Kind, register
from crm.org.models import OrgUnit
from crm.permissions import get_or_404, in_scope, scoped
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


def timeline_keys(ent_id):
    return (Training.select(Training.id, Training.held_on, Training.created_at).join(TrainingEnterprise)
            .where(TrainingEnterprise.enterprise == ent_id, Training.archived == False).tuples())  # noqa: E712


def timeline_items(ent, user, ids):
    out = {}
    for t in Training.select(Training, OrgUnit).join(OrgUnit).where(Training.id.in_(ids)):
        if not in_scope(user, t.org_unit):
            out[t.id] = {"title": TRAINING_CATEGORIES.label(t.category) + "培训", "who": t.org_unit.name,
                         "endpoint": None, "args": {}}
            continue
        out[t.id] = {"title": f"{t.title}（{TRAINING_CATEGORIES.label(t.category)}）",
                     "detail": f"参训 {t.participants} 人" + (f" · 授课：{t.trainer}" if t.trainer else ""),
                     "who": t.org_unit.name, "endpoint": "trainings.show", "args": {"record_id": t.id}}
    return out


def recent(user, limit, among_latest=None):
    """The 培训 the user recorded, newest first."""
    query = (scoped(Training, user).where(Training.created_by == user.id, Training.archived == False)  # noqa: E712
             .order_by(Training.held_on.desc(), Training.id.desc()).limit(limit))
    return [(r.held_on, "培训", r.title, "trainings.show", r.id) for r in query]


KIND = register(Kind("training", "培训", Training, get_training_or_404, "trainings.show", snapshot,
                     timeline_label="培训", timeline_keys=timeline_keys, timeline_items=timeline_items,
                     recent=recent))
