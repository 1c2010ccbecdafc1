from flask import Blueprint, render_template
from flask_login import current_user, login_required

from crm.common.timeutil import local_today
from crm.followups import queries as followups
from crm.followups import suggestions
from crm.followups.queries import DUE_FILTERS
from crm.home.queries import recent_work, recently_changed, scope_summary
from crm.permissions import can, leads_team

bp = Blueprint("home", __name__)

# 我的任务 on the home page shows the first few of each group (overdue, today, this week, later)
# with the group's count; the follow-up list has the rest.
TASKS_PER_GROUP = 10
# 团队任务 on a supervisor's home page: the busiest few (the board's order); 任务看板 has everyone.
TEAM_SHOWN = 8


@bp.route("/")
@login_required
def index():
    """One home page per role: staff start with 我的任务; supervisors also see their team and
    what the suggestions propose; everyone sees the scope summary."""
    today = local_today()
    summary = scope_summary(current_user)
    recent = recently_changed(current_user, summary["total"], limit=8)
    work = recent_work(current_user) if can("edit_records") else []
    tasks = task_counts = None
    if can("edit_records"):
        tasks = followups.my_buckets(current_user, today, per_bucket=TASKS_PER_GROUP)
        task_counts = followups.bucket_counts(current_user, today)
    team, team_total = followups.board_page(current_user, today, limit=TEAM_SHOWN) if leads_team(current_user) else ([], 0)
    suggested = suggestions.counts(current_user, today) if leads_team(current_user) else None
    return render_template("home/index.html", summary=summary, recent=recent, work=work, tasks=tasks,
                           task_counts=task_counts, team=team, team_total=team_total, suggested=suggested, today=today,
                           DUE_FILTERS=DUE_FILTERS, suggestion_rules=suggestions.RULES,
                           count_label=suggestions.count_label)
