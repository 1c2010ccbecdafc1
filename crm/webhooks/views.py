"""推送接口 pages (admin role only), under /admin/webhooks: the endpoints, their secret (shown at
creation and when regenerated, never again), a test message, and each endpoint's deliveries.

Every view starts with require("manage_system"); admins see every endpoint, so lookups by id are
plain get_or_none + 404. The writes live in crm.webhooks.services. The blueprint also pokes the
job queue's deliveries task after a request that queued deliveries (crm worker sends them)."""
import logging

from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request,
                   url_for)
from flask_login import current_user, login_required

from crm.common.errors import ServiceError
from crm.common.numbers import arg_id
from crm.org.models import OrgUnit
from crm.org.queries import unit_choices
from crm.permissions import require, visible_org_units
from crm.webhooks import services
from crm.webhooks.events import EVENTS, LABELS
from crm.webhooks.forms import EndpointForm
from crm.webhooks.models import DELIVERY_STATUSES, WebhookDelivery, WebhookEndpoint

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")
PAGE = 50


log = logging.getLogger("crm.webhooks")


@bp.teardown_app_request
def _deliver_soon(exc):
    """The request queued deliveries (its transaction has committed): a worker sends them now
    rather than at its next minute. A queue that cannot be reached leaves them to that minute."""
    if g.pop("webhooks_queued", False):
        try:
            current_app.extensions["jobs"].poke(services.DELIVER)
        except Exception:  # noqa: BLE001 (the periodic round sends them)
            log.exception("webhooks: the deliveries task could not be queued")


# ---- helpers --------------------------------------------------------------------------------------

def _endpoint_or_404(hook_id) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.get_or_none(WebhookEndpoint.id == hook_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _fill_units(form, include=None):
    form.org_unit.choices = unit_choices(visible_org_units(current_user), include=include)


def _unit(unit_id, kept=None):
    """The unit picked: an active one, or the endpoint's own (kept when it was deactivated since)."""
    unit = OrgUnit.get_or_none(OrgUnit.id == unit_id) if unit_id else None
    if unit is None or not (unit.active or unit.id == kept):
        return None
    return unit


def _values(form, kept=None):
    return {"name": form.name.data, "org_unit": _unit(form.org_unit.data, kept), "url": form.url.data,
            "events_keys": form.events.data, "fmt": form.format.data}


def _secret_page(endpoint, secret, created):
    resp = make_response(render_template("webhooks/secret.html", endpoint=endpoint, secret=secret,
                                         created=created))
    resp.headers["Cache-Control"] = "no-store"  # shown this once
    return resp


# ---- the endpoints --------------------------------------------------------------------------------

@bp.route("/")
@login_required
def index():
    require("manage_system")
    endpoints = list(WebhookEndpoint.select(WebhookEndpoint, OrgUnit).join(OrgUnit)
                     .order_by(WebhookEndpoint.active.desc(), OrgUnit.path, WebhookEndpoint.name))
    return render_template("webhooks/index.html", endpoints=endpoints, counts=services.delivery_counts(),
                           EVENTS=EVENTS)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    require("manage_system")
    form = EndpointForm()
    _fill_units(form)
    if request.method == "GET":
        form.events.data = EVENTS.keys()
    if form.validate_on_submit():
        try:
            endpoint, secret = services.create_endpoint(current_user, **_values(form))
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            return _secret_page(endpoint, secret, created=True)
    return render_template("webhooks/form.html", form=form, endpoint=None,
                           loopback=services.allow_loopback())


@bp.route("/<int:hook_id>")
@login_required
def show(hook_id):
    require("manage_system")
    endpoint = _endpoint_or_404(hook_id)
    status = request.args.get("status", "")
    before = arg_id(request.args, "before")
    query = (WebhookDelivery.select().where(WebhookDelivery.endpoint == endpoint.id)
             .order_by(WebhookDelivery.id.desc()))
    if status in DELIVERY_STATUSES:
        query = query.where(WebhookDelivery.status == status)
    else:
        status = ""
    if before:
        query = query.where(WebhookDelivery.id < before)
    rows = list(query.limit(PAGE + 1))
    return render_template("webhooks/show.html", endpoint=endpoint, deliveries=rows[:PAGE],
                           older=rows[PAGE - 1].id if len(rows) > PAGE else None, status=status,
                           STATUSES=DELIVERY_STATUSES, EVENTS=EVENTS, LABELS=LABELS,
                           max_attempts=services.MAX_ATTEMPTS)


@bp.route("/<int:hook_id>/edit", methods=["GET", "POST"])
@login_required
def edit(hook_id):
    require("manage_system")
    endpoint = _endpoint_or_404(hook_id)
    form = EndpointForm(obj=endpoint if request.method == "GET" else None)
    _fill_units(form, include=endpoint.org_unit)
    if request.method == "GET":
        form.org_unit.data = endpoint.org_unit_id
        form.events.data = endpoint.event_keys
    if form.validate_on_submit():
        try:
            changes = services.update_endpoint(current_user, endpoint, **_values(form, endpoint.org_unit_id))
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            flash(f"已保存推送接口：{form.name.data}" if changes else "没有改动", "success")
            return redirect(url_for(".show", hook_id=endpoint.id))
    return render_template("webhooks/form.html", form=form, endpoint=endpoint,
                           loopback=services.allow_loopback())


def _set_active(hook_id, active):
    require("manage_system")
    endpoint = _endpoint_or_404(hook_id)
    services.set_active(current_user, endpoint, active)
    flash(f"已{'启用' if active else '停用'}推送接口：{endpoint.name}", "success")
    return redirect(url_for(".show", hook_id=endpoint.id))


@bp.route("/<int:hook_id>/deactivate", methods=["POST"])
@login_required
def deactivate(hook_id):
    return _set_active(hook_id, False)


@bp.route("/<int:hook_id>/reactivate", methods=["POST"])
@login_required
def reactivate(hook_id):
    return _set_active(hook_id, True)


@bp.route("/<int:hook_id>/secret", methods=["POST"])
@login_required
def regenerate_secret(hook_id):
    require("manage_system")
    endpoint = _endpoint_or_404(hook_id)
    secret = services.regenerate_secret(current_user, endpoint)
    return _secret_page(endpoint, secret, created=False)


@bp.route("/<int:hook_id>/test", methods=["POST"])
@login_required
def send_test(hook_id):
    require("manage_system")
    endpoint = _endpoint_or_404(hook_id)
    try:
        services.send_test(current_user, endpoint)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash("测试消息已加入发送队列，稍后刷新本页查看结果", "success")
    return redirect(url_for(".show", hook_id=endpoint.id))


@bp.route("/deliveries/<int:delivery_id>/resend", methods=["POST"])
@login_required
def resend(delivery_id):
    require("manage_system")
    delivery = WebhookDelivery.get_or_none(WebhookDelivery.id == delivery_id)
    if delivery is None:
        abort(404)
    try:
        services.resend(current_user, delivery)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash("已重新加入发送队列", "success")
    return redirect(url_for(".show", hook_id=delivery.endpoint_id, _anchor=f"delivery-{delivery.id}"))
