"""一企一档 — the enterprise-visit CRM of a district trade-union federation."""
import logging
from pathlib import Path

from flask import Flask, Request, render_template
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property
from flask_wtf.csrf import CSRFError, CSRFProtect

from config import Config

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()


class CleanRequest(Request):
    """Query strings and posted fields lose, at the door, what no text holds (control characters
    but tab and newline, lone surrogates, non-characters: crm.common.text.safe_text): PostgreSQL
    refuses a NUL outright, FTS5 ends a phrase at one, XML cannot carry them."""

    @cached_property
    def args(self):
        return _cleaned(super().args)

    @cached_property
    def form(self):
        return _cleaned(super().form)


def _cleaned(data):
    from crm.common.text import safe_text
    return ImmutableMultiDict([(safe_text(k), safe_text(v, multiline=True)) for k, v in data.items(multi=True)])


def create_app(config=None, **overrides):
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder="static",
                instance_path=str(ROOT / "instance"))
    app.request_class = CleanRequest
    cfg = config if config is not None else Config()
    app.config.from_mapping(cfg.as_dict() if hasattr(cfg, "as_dict") else cfg)
    app.config.update(overrides)
    if app.config.get("PROXIES"):
        # The client's address (sign-in throttling, the audit log) is the one the proxy saw.
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = app.config["PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0)
    # Bootstrap-Flask serves Bootstrap from the installed package (no CDN).
    app.config.setdefault("BOOTSTRAP_SERVE_LOCAL", True)
    logging.getLogger("crm").setLevel(logging.INFO)
    from crm.common.numbers import IdConverter
    app.url_map.converters["int"] = IdConverter  # before any route is added

    from crm import db as database, security
    database.init_app(app)
    security.init_app(app)
    csrf.init_app(app)

    from flask_bootstrap import Bootstrap5
    Bootstrap5(app)

    from crm.auth.views import bp as auth_bp, login_manager
    login_manager.init_app(app)
    app.register_blueprint(auth_bp)

    from crm.home.views import bp as home_bp
    from crm.admin.views import bp as admin_bp
    from crm.enterprises.views import bp as enterprises_bp
    from crm.founding.views import bp as founding_bp
    app.register_blueprint(home_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(enterprises_bp)
    app.register_blueprint(founding_bp)
    from crm.visits.views import bp as visits_bp
    from crm.photos.views import bp as photos_bp
    app.register_blueprint(visits_bp)
    app.register_blueprint(photos_bp)
    from crm.needs.views import bp as needs_bp
    app.register_blueprint(needs_bp)
    from crm.meetings.views import bp as meetings_bp
    app.register_blueprint(meetings_bp)
    from crm.trainings.views import bp as trainings_bp
    from crm.activities.views import bp as activities_bp
    app.register_blueprint(trainings_bp)
    app.register_blueprint(activities_bp)
    from crm.followups.views import bp as followups_bp
    app.register_blueprint(followups_bp)
    from crm.compliance.views import bp as compliance_bp
    app.register_blueprint(compliance_bp)
    from crm.dashboard.views import bp as dashboard_bp
    app.register_blueprint(dashboard_bp)
    from crm.reports.views import bp as reports_bp
    app.register_blueprint(reports_bp)
    from crm.imports.views import bp as imports_bp
    app.register_blueprint(imports_bp)
    from crm.audit.views import bp as audit_bp
    app.register_blueprint(audit_bp)
    from crm.sync import views as sync
    app.register_blueprint(sync.bp)
    sync.init_app(app)

    from crm import templating
    templating.init_app(app)
    _register_errors(app)

    from crm.cli import register
    register(app)
    return app


ERROR_TEXT = {
    400: ("请求无效", "请求无法处理。如果是表单，请刷新页面后重试。"),
    403: ("无权操作", "您的账号没有执行此操作的权限。"),
    404: ("页面不存在", "找不到该页面或记录，或者它不在您的管辖范围内。"),
    405: ("方法不允许", "不支持这种访问方式。"),
    413: ("文件太大", "上传的内容超过了允许的大小。"),
    500: ("服务器错误", "系统出现错误，已记录。请稍后重试。"),
}


def _register_errors(app):
    def render(code, message=None):
        title, text = ERROR_TEXT[code]
        return render_template("error.html", code=code, title=title, text=message or text), code

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        from flask import g
        g.csrf_failed = True  # the outbox takes a fresh token and tries again
        return render(400, "表单已过期或缺少安全令牌，请刷新页面后重新提交。")

    for code in ERROR_TEXT:
        app.register_error_handler(code, lambda exc, code=code: render(code))
