"""The web side of forms that reach the server once, and of field work without a network:

- `answer_resend()` and `saved()`, which every creating form's view calls: a re-send of saved
  content lands on its record, a key saved with other content is refused on the form;
- the answers the outbox needs: which of my keys were saved, a fresh CSRF token;
- the service worker, the offline page and the 待同步 page."""
import hashlib
import json
from pathlib import Path
from typing import Callable

from flask import (Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from crm.common.forms import take_form_errors
from crm.resources import STATIC_DIR
from crm.sync import services
from crm.sync.models import FormSubmission

bp = Blueprint("sync", __name__)
STATIC = STATIC_DIR
OUTBOX_HEADER = "X-CRM-Outbox"
WARM_HEADER = "X-CRM-Warm"

# kind -> record id -> the record's page. Each feature that creates records registers its kinds.
LANDINGS: dict[str, Callable[[int], str]] = {}


def landing(kind: str):
    def register(fn):
        LANDINGS[kind] = fn
        return fn
    return register


def url_of(submission: FormSubmission | None) -> str | None:
    if submission is None or submission.kind not in LANDINGS:
        return None
    return LANDINGS[submission.kind](submission.record_id)


def from_outbox() -> bool:
    """The request is the outbox (or a page script) sending a form: it is answered in JSON."""
    return request.headers.get(OUTBOX_HEADER) == "1"


def answer_resend(form, what: str):
    """The start of a creating form's POST. A re-send of content saved under this key returns the
    answer to give (its record); a key saved with other content is refused on the form, which then
    holds a fresh key and every typed value; otherwise None, with `form.sent` set for the service."""
    key = form.ensure_key()
    form.sent = services.from_request(request, key)
    try:
        found = services.prior(form.sent, current_user)
    except services.KeyReused as exc:
        form.refuse_key(str(exc), url_of(exc.submission))
        form.sent = services.Sent(form.form_key.data, form.sent.fingerprint)
        return None
    if found is not None:
        return saved(url_of(found), False, what, key)
    return None


def saved(url: str, created: bool, what: str, key: str, message: str | None = None):
    """The answer to a saved form: to the page, a redirect to the record (whose page tells the
    browser to drop the form's draft); to the outbox, JSON."""
    if from_outbox():
        return jsonify(status="saved", url=url, created=created, key=key)
    flash(key, "saved-form")
    if created:
        flash(message or f"已保存{what}", "success")
    else:
        flash(f"这份{what}已经保存过，重复提交没有再建一条", "info")
    return redirect(url)


def explain(reason: str):
    """What the outbox is told when this request saves nothing and the page shows why in its own
    way (e.g. the near-duplicate names a new file must be checked against)."""
    if from_outbox():
        g.outbox_reason = reason


def refused_status(form, default: int = 200) -> int:
    """422 for a form whose key was refused, else `default`."""
    return 422 if getattr(form, "refused", None) else default


@bp.route("/sync/state")
@login_required
def state():
    """For the outbox before it sends: who is logged in, a fresh CSRF token, and which of the
    keys asked about (?key=…, repeated) this user has saved, with their records' pages."""
    found = services.saved_keys(current_user, request.args.getlist("key"))
    response = jsonify(user=current_user.id, csrf_token=generate_csrf(),
                       saved={key: url_of(sub) for key, sub in found.items()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sync/outbox")
@login_required
def outbox():
    """待同步: what waits on this device (read by the page from the device's outbox)."""
    return render_template("sync/outbox.html")


@bp.route("/offline")
def offline():
    """The page the service worker shows for a page it has not kept. Names no user."""
    return render_template("sync/offline.html")


@bp.route("/sw.js")
def service_worker():
    """The service worker, at the root so that it may serve every page. Its first line names the
    app shell it keeps, by the build of the static files (a new build replaces the old cache)."""
    shell = shell_urls()
    head = "const CRM_SHELL = " + json.dumps({"version": build_id(), "urls": shell}) + ";\n"
    body = (STATIC / "sw.js").read_text(encoding="utf-8")
    response = current_app.response_class(head + body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


def shell_urls() -> list[str]:
    return [url_for("bootstrap.static", filename="css/bootstrap.min.css"),
            url_for("bootstrap.static", filename="umd/popper.min.js"),
            url_for("bootstrap.static", filename="js/bootstrap.min.js"),
            url_for("static", filename="app.css"), url_for("static", filename="print.css"),
            url_for("static", filename="app.js"), url_for("static", filename="outbox.js"),
            url_for("static", filename="favicon.svg"), url_for("sync.offline")]


_BUILD = {}


def build_id() -> str:
    """A digest of the static files and templates the shell is made of (computed once)."""
    if "id" not in _BUILD:
        digest = hashlib.sha256()
        for path in sorted(STATIC.rglob("*")):
            if path.is_file():
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
        templates = Path(current_app.template_folder)
        for name in ("base.html", "sync/offline.html", "sync/outbox.html"):
            digest.update((templates / name).read_bytes())
        _BUILD["id"] = digest.hexdigest()[:16]
    return _BUILD["id"]


def init_app(app):
    @app.after_request
    def _outbox_answers(response):
        """The outbox reads every answer to a form it sent as JSON: what is not a save is a
        refusal with its reason (the form's messages, or the message a redirect carried)."""
        if request.method != "POST" or not from_outbox() or response.mimetype == "application/json":
            return response
        return outbox_refusal(response)

    @app.before_request
    def _warm_keeps_flashes():
        """The service worker fetching pages to keep is not the user looking: the messages waiting
        for the user's next page are neither shown in the kept copy nor used up."""
        if request.headers.get(WARM_HEADER) == "1" and "_flashes" in session:
            g.stashed_flashes = session.pop("_flashes")

    @app.after_request
    def _offline_pages(response):
        """Pages a cadre needs in the field are marked for the service worker to keep (not a page
        showing messages of the moment, e.g. 已保存)."""
        if g.get("stashed_flashes"):
            session["_flashes"] = g.pop("stashed_flashes")
        if request.method == "GET" and response.status_code == 200 and response.mimetype == "text/html" \
                and request.endpoint in OFFLINE_PAGES and current_user.is_authenticated and not _flashed():
            response.headers["X-CRM-Offline"] = "keep"
            response.headers["X-CRM-User"] = str(current_user.id)  # kept only for this login
        return response


def _flashed() -> bool:
    from flask.globals import request_ctx
    return bool(getattr(request_ctx, "flashes", None))


# The pages the service worker keeps for the field (each as the user last opened it).
OFFLINE_PAGES = {"home.index", "followups.index", "enterprises.show", "visits.create", "meetings.create",
                 "trainings.create", "activities.create", "enterprises.contact_new", "founding.move",
                 "followups.create", "enterprises.create", "sync.outbox", "visits.pick"}

REASONS = {400: "请求无效", 401: "登录已过期，请重新登录后再发送", 403: "您没有权限保存这条记录",
           404: "记录不存在，或已不在您的管辖范围内", 409: "这条记录已被他人修改，请打开核对后再保存",
           413: "照片太大或太多，服务器没有接收", 422: "内容有误，请打开修改后再发送"}


def outbox_refusal(response):
    status = response.status_code
    if status >= 500:
        return response  # the server's trouble: the outbox tries again later
    if g.get("csrf_failed"):
        answer = jsonify(status="csrf", reason="安全令牌已过期，稍后自动重试")
        answer.status_code = 400
        return answer
    errors = take_form_errors()
    # The messages meant for the page this answer replaces; the rest stay for the next page.
    flashes = session.get("_flashes", [])
    messages = [m for c, m in flashes if c in ("error", "warning")]
    kept = [(c, m) for c, m in flashes if c not in ("error", "warning")]
    if flashes:
        session["_flashes"] = kept
    if status in (301, 302, 303) and "/login" in (response.location or ""):
        status = 401
    reasons = messages + ([g.outbox_reason] if g.get("outbox_reason") else []) + \
        [f"{label}：{msg}" for label, msg in errors]
    reason = "；".join(reasons) or REASONS.get(status) or REASONS[422]
    answer = jsonify(status="login" if status == 401 else "refused", reason=reason,
                     errors=[[label, msg] for label, msg in errors])
    answer.status_code = status if status in REASONS else 422
    return answer
