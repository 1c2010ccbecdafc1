"""Rule settings: read them for a unit and a day, add a change from a date on."""
from dataclasses import dataclass
from datetime import date

from crm.common.errors import ServiceError
from crm.common.text import clean
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
    """Every rule setting, loaded once (a small table); `of(rule, unit_id, day)` is the one in
    force on that day: the unit's own latest row on or before it, else the district-wide one,
    else the rule's default."""

    def __init__(self, rows=None):
        rows = list(RuleSetting.select().order_by(RuleSetting.effective_from, RuleSetting.id)) if rows is None else rows
        self._rows = {}
        for row in rows:
            self._rows.setdefault((row.rule, row.org_unit_id), []).append(row)

    def of(self, rule_key: str, unit_id, day: date) -> Effective:
        for key, own in (((rule_key, unit_id), True), ((rule_key, None), False)):
            if own and unit_id is None:
                continue
            chosen = None
            for row in self._rows.get(key, ()):
                if row.effective_from <= day:
                    chosen = row
            if chosen is not None:
                return Effective(chosen.enabled, chosen.target, chosen.effective_from, own)
        rule = BY_KEY[rule_key]
        return Effective(rule.default_enabled, rule.default_target, None, False)


def add_setting(rule_key: str, unit, enabled: bool, target, effective_from: date, user, note: str = ""):
    rule = BY_KEY.get(rule_key)
    if rule is None:
        raise ServiceError("未知的规则", "rule")
    if effective_from is None:
        raise ServiceError("请填写生效日期", "effective_from")
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
