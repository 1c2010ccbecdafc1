"""Checks every field-work record shares, whatever the form that sends it: dates, counts, the
organising unit, and the enterprises picked (served or taking part)."""
from crm.common.errors import ServiceError
from crm.common.timeutil import local_today
from crm.enterprises.models import Enterprise
from crm.fieldwork.forms import EARLIEST
from crm.org.models import OrgUnit
from crm.permissions import in_scope, scoped

MAX_COUNT = 1_000_000
MAX_SERVED = 300
REFUSED = "所选企业中有不在您管辖范围内或已归档的档案，请重新选择"


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


def served_ids(ids, user, keep=(), message=REFUSED) -> list[int]:
    """Enterprises served: active files in the user's scope. Enterprises the record already had
    stay allowed (a file archived since). Anything else is refused, not silently dropped."""
    try:
        ids = list(dict.fromkeys(int(i) for i in ids or []))
    except (TypeError, ValueError):
        raise ServiceError("所选企业有误，请重新选择", "enterprise_ids")
    if len(ids) > MAX_SERVED:
        raise ServiceError(f"服务企业最多 {MAX_SERVED} 家", "enterprise_ids")
    keep = set(keep)
    wanted = [i for i in ids if i not in keep]
    if wanted:
        found = {i for (i,) in scoped(Enterprise, user).select(Enterprise.id)
                 .where(Enterprise.id.in_(wanted), Enterprise.archived == False).tuples()}  # noqa: E712
        if any(i not in found for i in wanted):
            raise ServiceError(message, "enterprise_ids")
    if keep:
        # Enterprises of the record the editor cannot see were never offered: they stay.
        seen = {i for (i,) in scoped(Enterprise, user).select(Enterprise.id)
                .where(Enterprise.id.in_(list(keep))).tuples()}
        ids += [i for i in keep if i not in seen and i not in ids]
    return ids


def enterprise_names(ids) -> str:
    names = dict(Enterprise.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(list(ids))).tuples())
    return "、".join(names.get(i, "") for i in ids)


def pickable(ids, user, keep=()):
    """The enterprises to show as picked: those of `ids` in the user's scope that are active, or
    that the record already had (`keep`, even archived since), in the given order. Files
    outside the scope are never shown (an id must not reveal a name)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    keep = set(keep)
    found = {e.id: e for e in scoped(Enterprise, user).select(Enterprise.id, Enterprise.name, Enterprise.archived)
             .where(Enterprise.id.in_(ids))}
    return [found[i] for i in ids if i in found and (i in keep or not found[i].archived)]
