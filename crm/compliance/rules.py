"""The 双沟通 rules (docs/rules.md): defined once here, their targets kept as data
(RuleSetting) that an admin changes per unit from a date on."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    key: str
    label: str        # the rule as people say it
    short: str        # a column header
    level: str        # "town": every town-level unit; "district": the district itself
    unit: str         # what the target counts: 场 (a month's minimum) or % (of the firms)
    default_target: int
    default_enabled: bool = True

    def target_text(self, target: int) -> str:
        if self.key == "staff_weekly":
            return f"每周至少1场，每月至少{target}场"
        if self.key == "enterprise_half_month":
            return f"每半月至少1场，每月至少{target}场"
        if self.key == "district_third_thursday":
            return "每月第三个星期四召开"
        return f"{target}%"


RULES = (
    Rule("staff_weekly", "职工沟通会每周一次，每月不少于4场", "职工沟通会", "town", "场", 4),
    Rule("enterprise_half_month", "企业沟通会每半月一次，每月不少于2场", "企业沟通会", "town", "场", 2),
    Rule("district_third_thursday", "区级职工沟通会每月第三个星期四召开", "区级沟通会", "district", "场", 1),
    Rule("key_quarterly", "区级重点企业每季度至少走访一次", "重点企业季度走访", "town", "%", 100),
    Rule("coverage_yearly", "辖区企业每年至少联系一次（全域覆盖）", "全域覆盖", "town", "%", 100),
    Rule("unionized_monthly", "已建会企业每月走访（各单位自选）", "建会企业月访", "town", "%", 100,
         default_enabled=False),
)
BY_KEY = {r.key: r for r in RULES}
# The two meeting rules make up "双沟通" in the district grid.
MEETING_RULES = ("staff_weekly", "enterprise_half_month")
