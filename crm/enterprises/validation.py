"""Checks of an enterprise file's values, shared by its forms, its services, the founding track
and the imports: what people type made comparable (normalise), and refused (validate, the
credit codes, the phones)."""
import re

from crm.common.errors import ServiceError
from crm.common.text import clean, nfkc
from crm.enterprises import creditcode

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$")


def normalise_phone(raw: str | None) -> str:
    phone = "".join(nfkc(raw).split())
    if phone.startswith("+86"):
        phone = phone[3:].lstrip("-")
    return phone


def phone_problem(phone: str) -> str | None:
    if not phone:
        return None
    if _MOBILE.match(phone) or _LANDLINE.match(phone):
        return None
    return "请填写有效的手机号（11位）或固定电话（如 010-69241234）"


def credit_code_problem(code: str) -> str | None:
    return creditcode.problem(code) if code else None


def union_code_problem(code: str) -> str | None:
    if not code:
        return None
    if not code.startswith("81"):
        return "工会统一社会信用代码应以 81 开头"
    return creditcode.problem(code)


def normalise(data: dict) -> dict:
    """What people type, made comparable: codes upper-case half-width, text trimmed."""
    out = dict(data)
    for key in ("name", "address", "area", "legal_rep", "union_name", "union_chair", "tags"):
        if key in out:
            out[key] = clean(nfkc(out[key]) if key == "tags" else out[key])
    if "name" in out:
        out["name"] = clean(out["name"])
    for key in ("credit_code", "union_credit_code"):
        if key in out:
            out[key] = creditcode.normalise(out[key])
    if "notes" in out:
        out["notes"] = (out["notes"] or "").strip()
    if "tags" in out:
        parts = [p.strip() for p in out["tags"].replace("，", ",").replace("、", ",").split(",")]
        out["tags"] = ",".join(dict.fromkeys(p for p in parts if p))
    return out


def validate(data: dict, partial: bool = False):
    """Field-level checks a service must make whatever the caller (form, import, API).
    `partial`: only the fields present are checked (an update of some fields)."""
    if (not partial or "name" in data) and not data.get("name"):
        raise ServiceError("请填写企业名称", "name")
    problem = credit_code_problem(data.get("credit_code") or "")
    if problem:
        raise ServiceError(problem, "credit_code")
    problem = union_code_problem(data.get("union_credit_code") or "")
    if problem:
        raise ServiceError(problem, "union_credit_code")
    for key in ("employees", "new_form_workers", "member_count"):
        value = data.get(key)
        if value is not None and value < 0:
            raise ServiceError("不能为负数", key)
