"""Checks shared by forms, services and (later) imports and the API."""
import re

from crm.common.text import nfkc
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
