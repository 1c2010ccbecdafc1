"""培训: recording a training given to enterprises (its served enterprises and photos, in one
transaction, once per form key), editing it against its version, archiving it.

A training is not a contact: it moves no founding stage and no last-contact date (only visits
and meetings count, docs/rules.md). It shows on each served enterprise's timeline
through TrainingEnterprise."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.common.timeutil import utcnow
from crm.fieldwork import services as records
from crm.fieldwork.choices import TRAINING_CATEGORIES
from crm.fieldwork.inputs import check_date, count, enterprise_names, org_unit_id, served_ids
from crm.fieldwork.links import set_links
from crm.photos import services as photos
from crm.trainings.kind import snapshot
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
    sent = records.sent_of(form_key, data)
    values = _values(data, user)
    ent_ids = served_ids(data.get("enterprise_ids"), user)

    def build():
        now = utcnow()
        training = Training.create(form_key=sent.key, created_by=user, updated_by=user,
                                   created_at=now, updated_at=now, **values)
        set_links(TrainingEnterprise.training, training.id, ent_ids)
        photos.attach("training", training.id, sent.key, user)
        return training

    return records.create_once("training", sent, user, build)


def update_training(training: Training, data: dict, user, expected_version: int) -> Training:
    """Raises records.StaleRecord when the training changed since `expected_version`."""
    current_ids = [r.enterprise_id for r in TrainingEnterprise.select(TrainingEnterprise.enterprise)
                   .where(TrainingEnterprise.training == training.id)]
    values = _values(data, user, keep_unit=training.org_unit_id)
    ent_ids = served_ids(data.get("enterprise_ids"), user, keep=current_ids)

    def apply(current):
        Training.update(**values).where(Training.id == current.id).execute()
        set_links(TrainingEnterprise.training, current.id, ent_ids)

    mine = snapshot(Training(id=None, **values))
    mine["服务企业"] = enterprise_names(ent_ids)
    return records.save_edit("training", training.id, user, expected_version, apply, mine)


def set_archived(training: Training, user, archived: bool, reason: str = "") -> Training:
    return records.set_archived("training", training, user, archived, reason)
