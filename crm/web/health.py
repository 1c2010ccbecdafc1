"""Health endpoints for a load balancer or an orchestrator; no login, no session, never cached.

GET /healthz  the process is up: 200 {"status": "ok"}, touching nothing else.
GET /readyz   the app can serve: every check in CHECKS passes → 200 {"status": "ready",
              "checks": {name: "ok"}}; otherwise 503 {"status": "unavailable", "checks": {name:
              "ok" or "failed"}, "reasons": {failed name: short reason}}.

A check is a function run inside the request that returns None when all is well, or a short
reason (no path, no secret); one that raises fails with its exception's class name (the traceback
goes to the log, never into the answer). A feature adds its own with `register("queue", fn)`.

Both answer from the app's first before_request hook (init_app is called before the others are
registered): the later hooks (the database connection, the webhook thread, the notification
sweep, Flask-Login's user) never run for them, so /healthz answers while the database is down and
/readyz reports it instead of failing in a hook; and their session is never saved, so no cookie
is ever set."""
import logging

from flask import Blueprint, jsonify, request

from crm import storage
from crm.db import db, is_postgres

log = logging.getLogger("crm.health")
bp = Blueprint("health", __name__)

CHECKS: list[tuple[str, object]] = []
STATEMENT_TIMEOUT_MS = 2000  # PostgreSQL: SELECT 1 gives up after this


def register(name: str, fn):
    """Add a readiness check (the same name again replaces it, in its place)."""
    for i, (existing, _) in enumerate(CHECKS):
        if existing == name:
            CHECKS[i] = (name, fn)
            return fn
    CHECKS.append((name, fn))
    return fn


def check_database():
    """SELECT 1 on a connection from the pool (given back at the request's end)."""
    db.connect(reuse_if_open=True)
    if is_postgres():
        with db.atomic():
            db.execute_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            db.execute_sql("SELECT 1")
    else:
        db.execute_sql("SELECT 1")
    return None


def check_storage():
    """The file storage can take a file now (crm.storage: a small file written and deleted; the
    default upload directory is made if missing, as the first upload would; a shared
    CRM_STORAGE_DIR must exist; a bucket must answer)."""
    return storage.current().check()


register("database", check_database)
register("storage", check_storage)


def _run(name, fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 (a failing check is an answer, not a 500)
        log.warning("readiness check %s failed", name, exc_info=True)
        return f"{type(exc).__name__}"


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    results, failed = {}, {}
    for name, fn in list(CHECKS):
        reason = _run(name, fn)
        results[name] = "ok" if reason is None else "failed"
        if reason is not None:
            failed[name] = str(reason)[:200]
    if failed:
        return jsonify(status="unavailable", checks=results, reasons=failed), 503
    return jsonify(status="ready", checks=results)


ENDPOINTS = {"health.healthz": healthz, "health.readyz": readyz}


def init_app(app):
    app.register_blueprint(bp)

    app.session_interface = _without_health(type(app.session_interface))()

    @app.before_request
    def _answer_health():
        view = ENDPOINTS.get(request.endpoint)
        if view is not None:
            return view()


def _without_health(interface):
    class Sessions(interface):
        """The app's sessions, never saved (no Set-Cookie, not even a signed-in browser's
        refreshed one) for the health endpoints."""

        def save_session(self, app, session, response):
            if request.endpoint in ENDPOINTS:
                return None
            return super().save_session(app, session, response)

    return Sessions
