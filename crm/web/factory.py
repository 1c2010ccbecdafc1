"""The app factory: configuration, the database, the web layer (request class, headers, CSRF,
templates, error pages) and every blueprint. crm.create_app adds the `crm` commands."""
from flask import Flask
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config
from crm import db, storage
from crm.api import endpoints as api
from crm.auth.views import login_manager
from crm.common import log
from crm.common.numbers import IdConverter
from crm.jobs import queue as jobs_queue
from crm.resources import INSTANCE_DIR, TEMPLATES_DIR
from crm.sync import views as sync
from crm.web import errors, headers, health, request_ids, templating, wiring  # noqa: F401 (wiring: imported for its receivers)
from crm.web.blueprints import BLUEPRINTS
from crm.web.requests import CleanRequest

csrf = CSRFProtect()


def build(config=None, **overrides) -> Flask:
    app = Flask("crm", template_folder=str(TEMPLATES_DIR), static_folder="static",
                instance_path=str(INSTANCE_DIR))
    app.request_class = CleanRequest
    cfg = config if config is not None else Config()
    app.config.from_mapping(cfg.as_dict() if hasattr(cfg, "as_dict") else cfg)
    app.config.update(overrides)
    if app.config.get("PROXIES"):
        # The client's address (sign-in throttling, the audit log) is the one the proxy saw.
        n = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0)
    # Bootstrap-Flask serves Bootstrap from the installed package (no CDN).
    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    log.setup(json_lines=app.config.get("LOG_JSON", False))
    app.url_map.converters["int"] = IdConverter  # before any route is added

    request_ids.init_app(app)  # first: whatever a request logs carries its id
    health.init_app(app)  # next: /healthz and /readyz answer before the database hook runs
    db.init_app(app)
    storage.init_app(app)
    jobs_queue.init_app(app)
    headers.init_app(app)
    csrf.init_app(app)
    Bootstrap5(app)
    login_manager.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    api.init_app(app, csrf)
    sync.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    return app
