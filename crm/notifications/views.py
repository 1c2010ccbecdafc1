"""通知 pages: the list (newest first, unread marked), opening one (marked read, then its page),
marking read, the settings; the bell's count for the navbar and as JSON. (The sweep of overdue
tasks and digests is `crm worker`'s periodic work, crm.notifications.services.SWEEP.)"""
import logging

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from peewee import DatabaseError

from crm.common.numbers import arg_page
from crm.common.redirects import safe_next
from crm.fieldwork import ledger
from crm.notifications import queries, services
from crm.notifications.forms import settings_form, wanted

bp = Blueprint("notifications", __name__)
log = logging.getLogger("crm.notifications")

REFRESH_SECONDS = 30  # how often the bell asks for its count


def nav_unread():
    """The signed-in user's unread count for the bell (one query a page), None without a user
    or when the database cannot answer (an error page)."""
    if not getattr(current_user, "is_authenticated", False):
        return None
    if "nav_unread" not in g:
        try:
            g.nav_unread = queries.unread_count(current_user)
        except DatabaseError:
            g.nav_unread = None
    return g.nav_unread


@bp.app_context_processor
def _bell():
    return {"nav_unread": nav_unread,
            "notifications_refresh": current_app.config.get("NOTIFICATIONS_REFRESH_SECONDS", REFRESH_SECONDS)}


@bp.route("/notifications/")
@login_required
def index():
    page = ledger.page_of(queries.own(current_user), arg_page(request.args))
    return render_template("notifications/index.html", page=page, unread=nav_unread())


@bp.route("/notifications/unread-count")
@login_required
def unread_count():
    return jsonify(unread=queries.unread_count(current_user))


@bp.route("/notifications/<int:note_id>/open", methods=["POST"])
@login_required
def open_note(note_id):
    """Marked read, then to what it is about (a path of this site; its page decides whether the
    user may still see it)."""
    note = queries.get_own_or_404(note_id, current_user)
    services.mark_read(note)
    target = safe_next(note.link, "")
    return redirect(request.script_root + target if target else url_for(".index"))


@bp.route("/notifications/<int:note_id>/read", methods=["POST"])
@login_required
def read(note_id):
    note = queries.get_own_or_404(note_id, current_user)
    services.mark_read(note)
    page = arg_page(request.args)
    return redirect(url_for(".index", page=page if page > 1 else None))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    n = services.mark_all_read(current_user)
    flash(f"已将 {n} 条通知标为已读" if n else "没有未读的通知", "success")
    return redirect(url_for(".index"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def settings():
    kinds = services.kinds_for(current_user)
    form = settings_form(kinds, queries.switched_off(current_user))
    if form.validate_on_submit():
        services.save_settings(current_user, wanted(form))
        flash("通知设置已保存", "success")
        return redirect(url_for(".settings"))
    return render_template("notifications/settings.html", form=form, kinds=kinds)
