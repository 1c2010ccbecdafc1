"""培训: recording a training given to enterprises (its served enterprises and photos, in one
transaction, once per form key), editing it against its version, archiving it.

A training is not a contact: it moves no founding stage and no last-contact date (only visits
and meetings count, docs/rules.md). It shows on each served enterprise's timeline
through TrainingEnterprise."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.fieldwork import services as records
from crm.fieldwork.choices import TRAINING_CATEGORIES
from crm.fieldwork.inputs import check_date, count, org_unit_id, served_ids
from crm.fieldwork.links import linked_ids
from crm.trainings.models import Training, TrainingEnterprise

MAX_HOURS = Decimal(24)


# ---- trainings ------------------------------------------------------------------------------

def _hours(value):
    if value is None or value == "":
        return None
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise ServiceError("学时应为数字", "hours")
    if hours < 0 or hours > MAX_HOURS:
        raise ServiceError("学时应在 0 到 24 之间", "hours")
    return hours


def _values(data: dict, user, keep_unit=None) -> dict:
    title = clean(data.get("title"))
    if not title:
        raise ServiceError("请填写培训名称", "title")
    if data.get("category") not in TRAINING_CATEGORIES:
        raise ServiceError("请选择培训类别", "category")
    check_date(data.get("held_on"), "培训日期", "held_on")
    summary = (data.get("summary") or "").strip()
    if not summary:
        raise ServiceError("请填写内容摘要", "summary")
    return {"title": title[:200], "category": data["category"], "held_on": data["held_on"],
            "hours": _hours(data.get("hours")), "trainer": clean(data.get("trainer"))[:100],
            "org_unit": org_unit_id(data.get("org_unit"), user, keep_unit),
            "participants": count(data.get("participants"), "参训人数", "participants"),
            "summary": summary[:5000]}


def create_training(data: dict, user, form_key: str):
    """Returns (training, created). `created` is False when this form key was already saved."""
    return records.create_linked("training", TrainingEnterprise.training, records.sent_of(form_key, data), user,
                                 _values(data, user), served_ids(data.get("enterprise_ids"), user))


def update_training(training: Training, data: dict, user, expected_version: int) -> Training:
    """Raises records.StaleRecord when the training changed since `expected_version`."""
    current_ids = linked_ids(TrainingEnterprise.training, training.id)
    return records.update_linked("training", TrainingEnterprise.training, training, user, expected_version,
                                 _values(data, user, keep_unit=training.org_unit_id),
                                 served_ids(data.get("enterprise_ids"), user, keep=current_ids))
