from flask import Blueprint, render_template
from flask_login import current_user, login_required

from crm.enterprises import queries

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    """One home page per role: the same scope summary, with the sections each role works from."""
    summary = queries.scope_summary(current_user)
    recent = queries.recently_changed(current_user, limit=8)
    return render_template("home/index.html", summary=summary, recent=recent)
