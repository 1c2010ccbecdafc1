"""Settings an admin may change, each defined once here with its label, default and bounds.
Reads fall back to the default; every change is logged with who made it."""
from dataclasses import dataclass

from crm.common.errors import ServiceError
from crm.common.log import log
from crm.common.timeutil import utcnow
from crm.db import db
from crm.settings.models import Setting


@dataclass(frozen=True)
class IntSetting:
    key: str
    label: str
    default: int
    low: int
    high: int
    unit: str = "天"
    help: str = ""


DEFINITIONS = (
    IntSetting("suggest.contact_days", "多久未联系提示回访", 90, 7, 730,
               help="超过这么多天没有走访或沟通会的企业列入“久未联系”"),
    IntSetting("suggest.stalled_days", "建会进度停滞提示", 60, 7, 730,
               help="在同一建会阶段停留超过这么多天的企业列入“建会停滞”"),
    IntSetting("suggest.term_days", "换届提前提示", 90, 7, 365,
               help="本届任期在这么多天内届满（或已届满）的工会列入“换届提醒”"),
    IntSetting("suggest.need_days", "需求意见久未解决提示", 30, 1, 365,
               help="提出超过这么多天仍未解决的需求意见列入“需求久未解决”"),
)
BY_KEY = {d.key: d for d in DEFINITIONS}


def get_int(key: str) -> int:
    definition = BY_KEY[key]
    row = Setting.get_or_none(Setting.key == key)
    if row is None:
        return definition.default
    try:
        value = int(row.value)
    except ValueError:
        return definition.default
    return min(max(value, definition.low), definition.high)


def values() -> dict:
    """Every setting's current value, by key (one query)."""
    stored = dict(Setting.select(Setting.key, Setting.value).tuples())
    out = {}
    for d in DEFINITIONS:
        try:
            out[d.key] = min(max(int(stored[d.key]), d.low), d.high) if d.key in stored else d.default
        except ValueError:
            out[d.key] = d.default
    return out


def save(changes: dict, user) -> list[str]:
    """Store the changed values; returns the labels of those that changed."""
    current = values()
    changed = []
    for key, value in changes.items():
        d = BY_KEY.get(key)
        if d is None:
            raise ServiceError("未知的设置项", None)
        if not isinstance(value, int) or not d.low <= value <= d.high:
            raise ServiceError(f"{d.label}应在 {d.low}–{d.high} {d.unit}之间", key)
        if current[key] != value:
            changed.append((d, value))
    with db.atomic():
        for d, value in changed:
            updated = (Setting.update(value=str(value), updated_at=utcnow(), updated_by=user)
                       .where(Setting.key == d.key).execute())
            if not updated:
                Setting.create(key=d.key, value=str(value), updated_by=user)
    if changed:
        log.info("settings changed by=%s %s", user.username,
                 ", ".join(f"{d.key}={v}" for d, v in changed))
    return [d.label for d, _ in changed]
