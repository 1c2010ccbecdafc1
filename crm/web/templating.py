"""Template filters and globals: dates in Asia/Shanghai, labels, permissions, masking."""
from flask import current_app, request, url_for
from markupsafe import Markup

from crm import permissions
from crm.auth.second_factor import ISSUER
from crm.common import timeutil
from crm.enterprises import fields
from crm.followups.queries import nav_counts
from crm.founding import stages


def mask_phone(phone: str) -> str:
    """138****1234 for mobiles; landlines keep area code and last 2 digits."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 7:
        return phone[: max(len(phone) - 6, 3)] + "****" + phone[-2:]
    return "****" if phone else ""


def url_with(**changes):
    """The current URL with some query arguments changed (filters stay in the URL)."""
    args = query_args()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


# URL arguments that are not filters: they collide with url_for's own parameters.
_RESERVED = {"endpoint", "values", "method", "_external", "_anchor", "_method", "_scheme"}


def query_args() -> dict:
    """The current query string as url_for arguments (reserved names dropped)."""
    return {k: v for k, v in request.args.to_dict(flat=False).items()
            if k not in _RESERVED and k not in (request.view_args or {})}


def url_for_args(endpoint: str, **changes):
    """`endpoint` with the current filters (e.g. the export of the list being shown)."""
    args = query_args()
    args.update({k: [v] for k, v in changes.items() if v is not None})
    return url_for(endpoint, **args)


def draft_suffix() -> str:
    """A new-record form opened with a prefill keeps its own draft (?point=3, ?ent=7 …)."""
    parts = [f"{k}={request.args[k]}" for k in ("point", "ent", "kind", "followup") if request.args.get(k)]
    return ("&".join(parts) + ":") if parts else ""


def nav_tasks():
    """(open, overdue) follow-ups of the signed-in user, for the navigation (one query a page)."""
    from flask import g
    from flask_login import current_user
    if not getattr(current_user, "is_authenticated", False) or not permissions.can("edit_records"):
        return None
    if "nav_tasks" not in g:
        g.nav_tasks = nav_counts(current_user)
    return g.nav_tasks


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def init_app(app):
    app.jinja_env.filters["dt"] = timeutil.fmt_dt
    app.jinja_env.filters["d"] = timeutil.fmt_date
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.globals["can"] = permissions.can
    app.jinja_env.globals["issuer"] = ISSUER
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["Markup"] = Markup
    app.jinja_env.globals["has_endpoint"] = has_endpoint
    app.jinja_env.globals["url_for_args"] = url_for_args
    app.jinja_env.globals["draft_suffix"] = draft_suffix
    app.jinja_env.globals["nav_tasks"] = nav_tasks
    _register_labels(app)


def _register_labels(app):
    app.jinja_env.globals["field_label"] = fields.label
    app.jinja_env.globals["field_display"] = fields.display
    app.jinja_env.globals["stage_label"] = stages.label
    app.jinja_env.globals["move_label"] = stages.MOVE_KINDS.label
