"""Request ids: every request gets one, from the incoming X-Request-ID when it is a sane token
(nginx's $request_id passes) or a new random one. It goes back in the X-Request-ID response header
(error pages and the API's problems too), into every log line written during the request
(crm.common.log) and onto the error pages, for a user to quote."""
import re
import secrets

from flask import g, has_request_context, request

HEADER = "X-Request-ID"
SANE = re.compile(r"[A-Za-z0-9._-]{8,64}")


def new_id() -> str:
    return secrets.token_hex(16)  # 32 hex digits, as nginx's $request_id


def current() -> str | None:
    """This request's id (made now if no hook has run yet); None outside a request."""
    if not has_request_context():
        return None
    if not g.get("request_id"):
        incoming = request.headers.get(HEADER, "")
        g.request_id = incoming if SANE.fullmatch(incoming) else new_id()
    return g.request_id


def init_app(app):
    """Registered before the other hooks, so that everything a request logs carries its id."""
    @app.before_request
    def _take_id():
        current()  # (returns nothing: a value would be taken for the response)

    @app.after_request
    def _send_id(response):
        response.headers[HEADER] = current()
        return response

    @app.context_processor
    def _request_id():
        return {"request_id": current()}
