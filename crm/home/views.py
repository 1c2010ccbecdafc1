from flask import Blueprint, render_template
from flask_login import current_user, login_required

from crm.enterprises import queries
from crm.permissions import can

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    """One home page per role: the same scope summary, with the sections each role works from."""
    summary = queries.scope_summary(current_user)
    recent = queries.recently_changed(current_user, limit=8)
    from crm.fieldwork.recent import recent_work
    work = recent_work(current_user) if can("edit_records") else []
    return render_template("home/index.html", summary=summary, recent=recent, work=work)
