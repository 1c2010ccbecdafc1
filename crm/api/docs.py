"""/api/v1/docs: the API's reference, Swagger UI reading /api/v1/openapi.json, served by the app
from the installed flask-swagger-ui package (no CDN; the page's script is a file, not inline)."""
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, abort, redirect, render_template, send_from_directory

from crm.api.core import PREFIX

SWAGGER_DIR = Path(flask_swagger_ui.__file__).parent / "dist"
ASSETS = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}

bp = Blueprint("api_docs", __name__, url_prefix=PREFIX)
# Where an integrator looks first: the API's root and the usual name of its description.
entrances = Blueprint("api_entrances", __name__)


@entrances.route("/api")
@entrances.route("/api/")
@entrances.route(f"{PREFIX}")
@entrances.route(f"{PREFIX}/")
def root():
    return redirect(f"{PREFIX}/docs")


@entrances.route("/openapi.json")
def description():
    return redirect(f"{PREFIX}/openapi.json")


@bp.route("/docs")
def page():
    return render_template("api/docs.html", spec_url=f"{PREFIX}/openapi.json")


@bp.route("/docs/assets/<name>")
def asset(name):
    if name not in ASSETS:
        abort(404)
    return send_from_directory(SWAGGER_DIR, name, max_age=86400)
