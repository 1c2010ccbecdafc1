from flask import Blueprint, render_template
from flask_login import current_user, login_required

from crm.common.timeutil import local_today
from crm.enterprises import queries
from crm.permissions import can

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    """One home page per role: staff start with 我的任务; supervisors also see their team and
    what the suggestions propose; everyone sees the scope summary."""
    from crm.fieldwork.recent import recent_work
    from crm.followups import queries as followups
    from crm.followups.queries import DUE_FILTERS
    today = local_today()
    summary = queries.scope_summary(current_user)
    recent = queries.recently_changed(current_user, limit=8)
    work = recent_work(current_user) if can("edit_records") else []
    tasks = followups.my_buckets(current_user, today) if can("edit_records") else None
    team = followups.board(current_user, today) if current_user.role == "supervisor" else []
    from crm.followups import suggestions
    suggested = suggestions.counts(current_user, today) if current_user.role == "supervisor" else None
    return render_template("home/index.html", summary=summary, recent=recent, work=work, tasks=tasks,
                           team=team, suggested=suggested, today=today, DUE_FILTERS=DUE_FILTERS,
                           suggestion_rules=suggestions.RULES)
