"""The API's frame: the flask-smorest Api that writes the OpenAPI 3.1 description, the blueprint
every endpoint module makes through `blueprint()`, and what each request goes through there:

1. the rate limit per token (flask-limiter; 429 with Retry-After),
2. the token (`Authorization: Bearer crm_…`): no session cookie is read, so there is no CSRF; a
   dead token is a 401; a read token writes nothing (403); the token's person becomes
   `current_user`, so the named rules and `scoped()` decide as on the pages,
3. errors of any kind as application/problem+json.

Writes are marked as coming through the API in the records' history (crm.common.channel).
"""
import base64
import json
import threading

import marshmallow as ma
from flask import current_app, g, request
from flask_limiter import Limiter
from flask_smorest import Api, Blueprint, abort
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from crm.api import problems
from crm.common import channel
from crm.common.errors import Conflict, ServiceError
from crm.common.log import log
from crm.sync import services as submissions
from crm.tokens import services as tokens

PREFIX = "/api/v1"
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


class ProblemSchema(ma.Schema):
    """An error (RFC 9457 problem details)."""
    type = ma.fields.String(metadata={"description": "about:blank"})
    title = ma.fields.String(required=True, metadata={"description": "错误的类别（中文）"})
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(metadata={"description": "说明（中文）"})
    errors = ma.fields.List(ma.fields.Dict(), metadata={"description": "逐字段的问题：[{field, message}]"})
    current = ma.fields.Dict(metadata={"description": "409：服务器上的当前版本"})
    yours = ma.fields.Dict(metadata={"description": "409：您提交的内容"})
    request_id = ma.fields.String(metadata={"description": "请求编号（同 X-Request-ID 响应头），联系技术支持时请提供"})


class CrmApi(Api):
    """flask-smorest's Api, its description written when it is first read (the openapi.json
    route, `crm openapi`) rather than with the app: resolving every schema of every operation is
    most of the time an app takes to build, and a worker, a CLI command or a test never reads it."""
    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app=None, **kwargs):
        self._undocumented = []
        self._documenting = threading.Lock()  # two first reads at once: one writes, both get it whole
        self._spec = None
        super().__init__(app, **kwargs)

    @property
    def spec(self):
        if self._undocumented:
            with self._documenting:
                pending, self._undocumented = self._undocumented, []
                for blp, name in pending:
                    self._document(blp, name)
        return self._spec

    @spec.setter
    def spec(self, value):
        self._spec = value

    def _register_error_handlers(self):
        """The pages keep their own error pages: the API's blueprints answer their errors."""

    def register_blueprint(self, blp, **options):
        """As flask-smorest's register_blueprint: the blueprint on the app now, its operations in
        the description when it is read (the spec property)."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name))

    def _document(self, blp, name):
        """A blueprint's operations and tag in the description, as flask-smorest writes them, with
        its Chinese title as the tag (the part of its description before "："), not its code name."""
        blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=None)
        self._spec.tag({"name": name, "description": blp.description})
        title, _, rest = (blp.description or blp.name).partition("：")
        for tag in self._spec._tags:
            if tag["name"] == blp.name:
                tag["name"], tag["description"] = title, rest or ""
        for path in self._spec._paths.values():
            for operation in path.values():
                if isinstance(operation, dict) and operation.get("tags") == [blp.name]:
                    operation["tags"] = [title]

    def _register_responses(self):
        import http
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "错误（application/problem+json）", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def make_limiter(blueprints) -> Limiter:
    """The rate limit of one app on its API blueprints. Each app has its own limiter, so its
    counts live where its RATELIMIT_STORAGE_URI says: Redis (shared by every app server) or
    memory:// (this process only; two apps in one process count apart, as two servers would)."""
    limiter = Limiter(key_func=_rate_key, default_limits=[], headers_enabled=True)
    for bp in blueprints:
        limiter.limit(_rate_limit)(bp)
    return limiter


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _rate_key() -> str:
    token = _bearer()
    return "token:" + tokens.digest(token)[:32] if token else "addr:" + (request.remote_addr or "")


def _rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _authenticate():
    found = tokens.authenticate(_bearer())
    if found is None:
        log.info("api unauthenticated path=%s", request.path)
        return problems.problem(401, headers={"WWW-Authenticate": 'Bearer realm="crm"'})
    token, user = found
    if request.method not in READ_METHODS and token.scope != "write":
        return problems.problem(403, "该令牌是只读令牌，不能写入。请创建一个“读写”令牌。")
    g.api_token = token
    g._login_user = user  # flask-login's current_user for this request; no session is touched
    channel.set_current(channel.API)


def _http_error(exc: HTTPException):
    return problems.from_http_exception(exc)


def _conflict(exc: Conflict):
    return problems.problem(409, str(exc))


def _service_error(exc: ServiceError):
    errors = [{"field": exc.field, "message": str(exc)}] if exc.field else []
    return problems.problem(422, str(exc), errors=errors)


def _key_reused(exc: submissions.KeyReused):
    return problems.problem(422, "这个 Idempotency-Key 已经用于另一份内容（或另一个账号），没有保存。"
                                 "新的记录请换一个新的 Idempotency-Key。",
                            errors=[{"field": "Idempotency-Key", "message": "已用于另一份内容"}])


def _crash(exc: Exception):
    log.exception("api error path=%s", request.path)
    return problems.problem(500)


def blueprint(name: str, url: str, description: str) -> Blueprint:
    """An API blueprint under /api/v1`url`: token auth, rate limit, problem+json errors."""
    bp = Blueprint(f"api_{name}", __name__, url_prefix=PREFIX + url, description=description)
    bp.before_request(_authenticate)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(submissions.KeyReused, _key_reused)
    bp.register_error_handler(Conflict, _conflict)
    bp.register_error_handler(ServiceError, _service_error)
    bp.register_error_handler(Exception, _crash)
    return bp  # (its rate limit: make_limiter, per app)


# ---- shared pieces of the endpoints --------------------------------------------------------

def idempotency_key() -> str:
    """The request's Idempotency-Key (16–64 of A–Z a–z 0–9 _ -), or a fresh one when it sent none."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return submissions.new_form_key()
    if not submissions.valid_form_key(key):
        raise ServiceError("Idempotency-Key 应为 16 至 64 个字母、数字、下划线或连字符，例如一个 UUID",
                           "Idempotency-Key")
    return key


def idempotency_header(what: str) -> dict:
    """The description of a create's Idempotency-Key header (for `@bp.doc(**…)`); `what` is the
    record it makes (一份档案, 一条任务 …)."""
    return {"parameters": [{"in": "header", "name": "Idempotency-Key", "required": False,
                            "schema": {"type": "string", "pattern": submissions.FORM_KEY.pattern},
                            "description": f"同一个键、同样内容：返回同{what}；同一个键、不同内容：422"}]}


def sent(body) -> submissions.Sent:
    """The request's key and the fingerprint of what it asks (its path and its parsed body): the
    same key with the same content is a re-send, with other content it is refused."""
    return submissions.Sent(idempotency_key(), submissions.fingerprint_data(
        {"path": request.path, "body": json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)}))


def created(payload: dict, was_created: bool, location: str):
    """201 with Location for a new record, 200 with the same record for a re-send."""
    headers = {"Location": location}
    if not was_created:
        headers["Idempotent-Replayed"] = "true"
    return payload, 201 if was_created else 200, headers


def encode_cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def cursor_id(args) -> int:
    """The id a list's `cursor` carries (0 on the first page); 400 for a cursor not of ours."""
    text = args.get("cursor", "")
    after = decode_cursor(text)
    if text and (not isinstance(after, int) or isinstance(after, bool)):
        abort(400, message="cursor 无效：请使用上一页返回的 next_cursor")
    return after or 0


def page_of_rows(rows: list, limit: int, shape) -> dict:
    """{items, next_cursor} of rows read past the cursor in id order, one more than `limit` if
    there are more; `shape(rows)` makes the items."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": shape(rows), "next_cursor": encode_cursor(rows[-1].id) if more else None}


def page_by_id(query, model, args, shape) -> dict:
    """One page of a list's query, by id after the cursor."""
    after = cursor_id(args)
    if after:
        query = query.where(model.id > after)
    return page_of_rows(list(query.order_by(model.id).limit(args["limit"] + 1)), args["limit"], shape)


def decode_cursor(text: str):
    """The value a cursor carries, or None when it is not one of ours."""
    if not text:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        return None


def current_user():
    """The token's person (the object, not flask-login's proxy)."""
    return g._login_user


SPEC_OPTIONS = {
    "info": {"description": "区总工会“一企一档”系统的接口。每个请求带上个人访问令牌："
                            "`Authorization: Bearer crm_…`（在“我的账号 → API 令牌”或用 `crm token create` 创建）。"
                            "范围、角色与页面相同：只能看到和修改本单位及下级单位的记录。错误以 "
                            "application/problem+json 返回，title 与 detail 为中文。"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                   "description": "个人访问令牌 crm_…"}}},
    "security": [{"bearer": []}],
}
