"""Every API blueprint, in the order the description lists them, and the API put on the app."""
from crm.api import core, docs
from crm.api import work
from crm.api.enterprises import bp as enterprises
from crm.api.fieldwork import BLUEPRINTS as FIELDWORK

BLUEPRINTS = [enterprises, *work.BLUEPRINTS, *FIELDWORK]


def init_app(app, csrf):
    """The API on the app: its configuration, its blueprints (no CSRF: no cookie is read there),
    the rate limiter, the OpenAPI description at /api/v1/openapi.json."""
    app.config.setdefault("API_TITLE", "一企一档 API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", core.PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", core.SPEC_OPTIONS)
    storage = app.config.get("API_RATE_STORAGE") or "memory://"
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage)
    if not storage.startswith("memory://"):
        # Redis away: count in this process meanwhile (not a 500), a short wait for it to answer.
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2})
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "crm-api")
    api = core.CrmApi(app)  # one per app: each app writes its own description
    app.extensions["crm_api"] = api
    for bp in BLUEPRINTS:
        api.register_blueprint(bp)
        csrf.exempt(bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(docs.entrances)
    limiter = core.make_limiter(BLUEPRINTS)
    limiter.init_app(app)
    app.extensions["crm_api_limiter"] = limiter
