"""The enterprise file's fields: their Chinese labels and how a stored
value is shown. The form, the change log (变更记录) and the conflict page all read this."""
from crm.common.timeutil import fmt_date
from crm.enterprises.choices import CATEGORIES, INDUSTRIES, KINDS, PARTY_ORG, STATUSES, UNION_FORMS
from crm.founding import stages
from crm.org.models import OrgUnit

LABELS = {
    "name": "企业名称",
    "credit_code": "统一社会信用代码",
    "org_unit": "所属工会",
    "address": "经营地址",
    "area": "所在楼宇/商圈",
    "industry": "所属行业",
    "kind": "企业类型",
    "category": "类别",
    "employees": "职工人数",
    "new_form_workers": "新就业形态劳动者人数",
    "legal_rep": "法定代表人",
    "is_key": "区级重点企业",
    "party_org": "党组织情况",
    "stage": "建会进度",
    "union_name": "工会名称",
    "union_founded_on": "建会日期",
    "union_chair": "工会主席",
    "member_count": "会员人数",
    "union_credit_code": "工会统一社会信用代码",
    "union_term_end": "本届任期届满",
    "union_form": "建会形式",
    "status": "经营状态",
    "tags": "标签",
    "notes": "备注",
    # Not columns of the form, but events in the file's history:
    "contact": "联系人",
    "archived": "归档",
    "created": "建档",
}

# Fields the edit form writes (stage moves go through the founding track).
EDITABLE = ("name", "credit_code", "org_unit", "address", "area", "industry", "kind", "category",
            "employees", "new_form_workers", "legal_rep", "is_key", "party_org",
            "union_name", "union_founded_on", "union_chair", "member_count", "union_credit_code",
            "union_term_end", "union_form", "status", "tags", "notes")
UNION_FIELDS = ("union_name", "union_founded_on", "union_chair", "member_count", "union_form",
                "union_term_end", "union_credit_code")

_CHOICES = {"industry": INDUSTRIES, "kind": KINDS, "category": CATEGORIES, "party_org": PARTY_ORG,
            "union_form": UNION_FORMS, "status": STATUSES, "stage": stages.ALL_STAGES}


def label(name: str) -> str:
    return LABELS.get(name, name)


def display(name: str, value) -> str:
    """A stored value as a person reads it (choice labels, 是/否, dates, org names)."""
    if value is None or value == "":
        return ""
    if name in _CHOICES:
        return _CHOICES[name].label(value)
    if name == "is_key" or isinstance(value, bool):
        return "是" if value else "否"
    if name == "org_unit":
        if isinstance(value, OrgUnit):
            return value.name
        unit = OrgUnit.get_or_none(OrgUnit.id == value)
        return unit.name if unit else str(value)
    if hasattr(value, "isoformat"):
        return fmt_date(value)
    return str(value)


def stored(enterprise, name):
    """The comparable stored value of a field (org_unit as its id)."""
    if name == "org_unit":
        return enterprise.org_unit_id
    return getattr(enterprise, name)
