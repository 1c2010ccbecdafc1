"""Errors as application/problem+json (RFC 9457), with Chinese title and detail."""
from flask import jsonify
from werkzeug.exceptions import HTTPException

from crm.web import request_ids

PROBLEM = "application/problem+json"

TITLES = {
    400: "请求有误",
    401: "未认证",
    403: "无权操作",
    404: "不存在或不在管辖范围内",
    405: "不支持该方法",
    406: "无法提供所要的格式",
    409: "版本冲突",
    413: "请求内容太大",
    415: "不支持的内容类型",
    422: "内容无法处理",
    428: "缺少版本号",
    429: "请求过于频繁",
    500: "服务器错误",
}
DETAILS = {
    400: "请求无法解析，请检查参数和 JSON 格式。",
    401: "请在 Authorization 头中提供有效的访问令牌：Bearer <令牌>。令牌可能已过期、已撤销，或账号已停用。",
    403: "该令牌或账号没有执行此操作的权限。",
    404: "找不到该记录，或者它不在您的管辖范围内。",
    405: "该地址不支持这种请求方法。",
    406: "接口只提供 JSON。",
    413: "请求内容超过了允许的大小。",
    415: "请以 application/json 发送请求内容。",
    422: "请求内容没有通过校验。",
    429: "请求过于频繁，请稍后再试（见 Retry-After）。",
    500: "系统出现错误，已记录。请稍后重试。",
}


def problem(status: int, detail: str | None = None, *, title: str | None = None, headers=None, **extra):
    body = {"type": "about:blank", "title": title or TITLES.get(status, "错误"), "status": status,
            "detail": detail or DETAILS.get(status, "")}
    body.update(extra)
    if request_ids.current():  # the id a caller quotes to support (also in X-Request-ID)
        body.setdefault("request_id", request_ids.current())
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _field_errors(messages) -> list[dict]:
    """webargs' {location: {field: [messages]}} (or {field: [...]}) as [{field, message}]."""
    out = []

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, (list, tuple)):
            for inner in value:
                walk(prefix, inner)
        else:
            out.append({"field": prefix, "message": _chinese(str(value))})

    for location, fields in (messages or {}).items():
        walk("", fields if isinstance(fields, dict) else {location: fields})
    return out


_MESSAGES = {
    "Missing data for required field.": "必填",
    "Field may not be null.": "不能为空",
    "Not a valid integer.": "应为整数",
    "Not a valid string.": "应为文本",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid date.": "应为日期（YYYY-MM-DD）",
    "Not a valid list.": "应为数组",
    "Unknown field.": "未知字段",
    "Invalid input type.": "类型不对",
    "Invalid value.": "取值无效",
}


def _chinese(message: str) -> str:
    if message in _MESSAGES:
        return _MESSAGES[message]
    if message.startswith("Must be one of"):
        return "取值不在允许的范围内：" + message.split(":", 1)[-1].strip().rstrip(".")
    if message.startswith("Longer than maximum length"):
        return "超过最大长度 " + message.rsplit(" ", 1)[-1].rstrip(".")
    if message.startswith("Shorter than minimum length"):
        return "短于最小长度 " + message.rsplit(" ", 1)[-1].rstrip(".")
    if message.startswith("Must be greater than or equal to") or message.startswith("Must be less than or equal to"):
        return "超出允许的范围"
    return message


def from_http_exception(exc: HTTPException):
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    extra = {}
    if data.get("messages"):
        extra["errors"] = _field_errors(data["messages"])
    if data.get("errors"):
        extra["errors"] = data["errors"]
    headers = dict(data.get("headers") or {})
    if status == 405 and exc.get_headers():
        headers.update({k: v for k, v in exc.get_headers() if k.lower() == "allow"})
    detail = data.get("message")
    if status == 429:
        detail = DETAILS[429]
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="crm"')
    return problem(status, detail, headers=headers, **extra)
