from datetime import datetime, timezone

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash

from crm.auth import services
from crm.auth.forms import ChangePasswordForm, LoginForm
from crm.auth.models import User
from crm.common.redirects import safe_next

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "warning"
login_manager.session_protection = None  # sessions are ended server-side by session_version


@login_manager.user_loader
def load_user(token):
    """The cookie holds "id:session_version"; an older version means the session was ended."""
    try:
        user_id, version = (int(part) for part in token.split(":"))
    except (ValueError, AttributeError):
        return None
    user = User.select().where(User.id == user_id).first()
    if user is None or user.session_version != version or not user.active:
        return None
    started = session.get("login_at")
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"]
    if not started or datetime.now(timezone.utc).timestamp() - started > lifetime.total_seconds():
        return None  # absolute lifetime reached
    return user


def _safe_next(target):
    return safe_next(target, url_for("home.index"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = services.authenticate(form.username.data, form.password.data, request.remote_addr)
        if result.user:
            session.clear()  # rotate: nothing of the anonymous session survives
            session.permanent = True
            session["login_at"] = datetime.now(timezone.utc).timestamp()
            login_user(result.user)
            return redirect(_safe_next(request.args.get("next")))
        error = result.error
    return render_template("auth/login.html", form=form, error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.end_sessions(current_user)
    logout_user()
    session.clear()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, form.current.data):
            form.current.errors.append("当前密码不正确")
        else:
            try:
                services.set_password(current_user, form.new.data)
            except services.ServiceError as exc:
                form.new.errors.append(str(exc))
            else:
                logout_user()
                session.clear()
                flash("密码已修改，请用新密码重新登录", "success")
                return redirect(url_for("auth.login"))
    return render_template("auth/password.html", form=form)
