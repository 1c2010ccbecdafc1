"""Rule settings: read them for a unit and a day, add a change from a date on."""
from dataclasses import dataclass
from datetime import date

from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.common.timeutil import local_today
from crm.compliance.models import RuleSetting
from crm.compliance.rules import BY_KEY
from crm.db import db


@dataclass(frozen=True)
class Effective:
    enabled: bool
    target: int
    since: date | None
    own: bool  # set for this unit (not the district-wide default)


class Settings:
    """Every rule setting, loaded once (a small table). `of(rule, unit, day)` is the one in force
    on that day: the nearest unit up the tree (the unit itself, then its parents) with a row on or
    before the day, else the district-wide row, else the rule's default."""

    def __init__(self, rows=None):
        rows = list(RuleSetting.select().order_by(RuleSetting.effective_from, RuleSetting.id)) if rows is None else rows
        self._rows = {}
        for row in rows:
            self._rows.setdefault((row.rule, row.org_unit_id), []).append(row)

    def _latest(self, key, day):
        chosen = None
        for row in self._rows.get(key, ()):
            if row.effective_from <= day:
                chosen = row
        return chosen

    def of(self, rule_key: str, unit, day: date) -> Effective:
        chain = [int(x) for x in unit.path.strip("/").split("/") if x][::-1] if unit is not None else []
        for unit_id in chain:
            row = self._latest((rule_key, unit_id), day)
            if row is not None:
                return Effective(row.enabled, row.target, row.effective_from, unit_id == unit.id)
        row = self._latest((rule_key, None), day)
        if row is not None:
            return Effective(row.enabled, row.target, row.effective_from, False)
        rule = BY_KEY[rule_key]
        return Effective(rule.default_enabled, rule.default_target, None, False)

    def overrides(self, day: date):
        """[(rule key, unit id, row)] of the unit-specific settings in force on `day`."""
        out = []
        for (rule_key, unit_id), rows in self._rows.items():
            if unit_id is None:
                continue
            row = self._latest((rule_key, unit_id), day)
            if row is not None:
                out.append((rule_key, unit_id, row))
        return out


def add_setting(rule_key: str, unit, enabled: bool, target, effective_from: date, user, note: str = "",
                today: date | None = None):
    """A change from `effective_from` on, which may not lie before this month: the months already
    reported keep the targets they were judged by."""
    rule = BY_KEY.get(rule_key)
    if rule is None:
        raise ServiceError("未知的规则", "rule")
    if effective_from is None:
        raise ServiceError("请填写生效日期", "effective_from")
    today = today or local_today()
    if effective_from < today.replace(day=1):
        raise ServiceError("生效日期不能早于本月1日：已经过去的月份按当时的规则考核", "effective_from")
    if rule.level == "district" and unit is not None and unit.parent_id is not None:
        raise ServiceError("区级沟通会规则只适用于区总工会", "org_unit")
    if not isinstance(target, int):
        raise ServiceError("请填写目标", "target")
    low, high = (1, 100) if rule.unit == "%" else (1, 31)
    if not low <= target <= high:
        raise ServiceError(f"目标应在 {low}–{high} 之间", "target")
    with db.atomic():
        return RuleSetting.create(rule=rule_key, org_unit=unit.id if unit is not None else None,
                                  enabled=bool(enabled), target=target, effective_from=effective_from,
                                  note=clean(note)[:200], created_by=user)
