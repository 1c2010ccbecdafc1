"""培训: recording a training given to enterprises (its served enterprises and photos, in one
transaction, once per form key), editing it against its version, archiving it.

A training is not a contact: it moves no founding stage and no last-contact date (only visits
and meetings count, PRODUCT.md section 11.4). It shows on each served enterprise's timeline
through TrainingEnterprise."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.common.timeutil import local_today, utcnow
from crm.enterprises.models import Enterprise
from crm.fieldwork import services as records
from crm.fieldwork.choices import TRAINING_CATEGORIES
from crm.fieldwork.forms import EARLIEST
from crm.org.models import OrgUnit
from crm.permissions import in_scope, scoped
from crm.photos import services as photos
from crm.trainings.kind import snapshot
from crm.trainings.models import Training, TrainingEnterprise

MAX_HOURS = Decimal(24)
MAX_COUNT = 1_000_000
MAX_SERVED = 300


# ---- checks every record with served enterprises shares (activities use them too) -------------

def check_date(day, label: str, field: str):
    if day is None:
        raise ServiceError(f"请填写{label}", field)
    if day > local_today():
        raise ServiceError(f"{label}不能晚于今天", field)
    if day < EARLIEST:
        raise ServiceError("日期太早，请检查年份", field)


def count(value, label: str, field: str) -> int:
    if value is None or value == "":
        return 0
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ServiceError(f"{label}应为整数", field)
    if number < 0 or number > MAX_COUNT:
        raise ServiceError(f"{label}应为不小于 0 的整数", field)
    return number


def org_unit_id(unit_id, user, keep=None) -> int:
    """The organising unit: an active unit of the user's subtree (or the record's own unit)."""
    unit = OrgUnit.get_or_none(OrgUnit.id == unit_id) if unit_id else None
    if unit is None or not (unit.id == keep or (unit.active and in_scope(user, unit))):
        raise ServiceError("请选择组织单位", "org_unit")
    return unit.id


def served_ids(ids, user, keep=()) -> list[int]:
    """Enterprises served: active files in the user's scope. Enterprises the record already had
    stay allowed (a file archived since). Anything else is refused, not silently dropped."""
    ids = list(dict.fromkeys(int(i) for i in ids or []))
    if len(ids) > MAX_SERVED:
        raise ServiceError(f"服务企业最多 {MAX_SERVED} 家", "enterprise_ids")
    keep = set(keep)
    wanted = [i for i in ids if i not in keep]
    if wanted:
        found = {i for (i,) in scoped(Enterprise, user).select(Enterprise.id)
                 .where(Enterprise.id.in_(wanted), Enterprise.archived == False).tuples()}  # noqa: E712
        if any(i not in found for i in wanted):
            raise ServiceError("所选服务企业中有不在您管辖范围内或已归档的档案，请重新选择", "enterprise_ids")
    return ids


def enterprise_names(ids) -> str:
    names = dict(Enterprise.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(list(ids))).tuples())
    return "、".join(names.get(i, "") for i in ids)


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


def _set_enterprises(training_id, ent_ids):
    TrainingEnterprise.delete().where(TrainingEnterprise.training == training_id).execute()
    for ent_id in ent_ids:
        TrainingEnterprise.create(training=training_id, enterprise=ent_id)


def create_training(data: dict, user, form_key: str):
    """Returns (training, created). `created` is False when this form key was already saved."""
    values = _values(data, user)
    ent_ids = served_ids(data.get("enterprise_ids"), user)

    def build():
        now = utcnow()
        training = Training.create(form_key=form_key, created_by=user, updated_by=user,
                                   created_at=now, updated_at=now, **values)
        _set_enterprises(training.id, ent_ids)
        photos.attach("training", training.id, form_key, user)
        return training

    return records.create_once(Training, form_key, build)


def update_training(training: Training, data: dict, user, expected_version: int) -> Training:
    """Raises records.StaleRecord when the training changed since `expected_version`."""
    current_ids = [r.enterprise_id for r in TrainingEnterprise.select(TrainingEnterprise.enterprise)
                   .where(TrainingEnterprise.training == training.id)]
    values = _values(data, user, keep_unit=training.org_unit_id)
    ent_ids = served_ids(data.get("enterprise_ids"), user, keep=current_ids)

    def apply(current):
        Training.update(**values).where(Training.id == current.id).execute()
        _set_enterprises(current.id, ent_ids)

    mine = snapshot(Training(id=None, **values))
    mine["服务企业"] = enterprise_names(ent_ids)
    return records.save_edit("training", training.id, user, expected_version, apply, mine)


def set_archived(training: Training, user, archived: bool, reason: str = "") -> Training:
    return records.set_archived("training", training, user, archived, reason)
