from datetime import datetime, timezone

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash

from crm.audit import services as audit
from crm.auth import second_factor, services
from crm.auth.forms import (AccountCodeForm, ChangePasswordForm, CodeForm, LoginForm, RecoveryForm,
                            ReplaceForm)
from crm.auth.models import User
from crm.common.errors import ServiceError
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


def _now() -> float:
    return datetime.now(timezone.utc).timestamp()


def _sign_in(user: User):
    session.clear()  # rotate: nothing of the anonymous (or half-signed-in) session survives
    session.permanent = True
    session["login_at"] = _now()
    login_user(user)


# A right password whose sign-in still needs a code (or setting up an authenticator): who, which
# session version, since when, and where to go after. Nobody is signed in meanwhile.
PENDING = "pending_sign_in"
PENDING_SECONDS = 600


def _pending() -> tuple[User | None, dict]:
    state = session.get(PENDING)
    if not isinstance(state, dict) or _now() - float(state.get("at") or 0) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None, {}
    user = User.get_or_none(User.id == state.get("id"))
    if user is None or not user.active or user.session_version != state.get("v"):
        session.pop(PENDING, None)
        return None, {}
    return user, state


def _expired():
    flash("登录已超时，请重新输入用户名和密码", "warning")
    return redirect(url_for(".login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = services.authenticate(form.username.data, form.password.data, request.remote_addr)
        if result.user:
            target = _safe_next(request.args.get("next"))
            if result.then:
                session.clear()
                session[PENDING] = {"id": result.user.id, "v": result.user.session_version,
                                    "at": _now(), "next": target}
                return redirect(url_for(".login_code" if result.then == "code" else ".login_setup"))
            _sign_in(result.user)
            return redirect(target)
        error = result.error
    return render_template("auth/login.html", form=form, error=error), (401 if error else 200)


def _code_page(form_class, recovery: bool):
    user, state = _pending()
    if user is None or not second_factor.enrolled(user):
        return _expired()
    form = form_class()
    if form.validate_on_submit():
        how, problem = services.check_second_factor(user, form.code.data, request.remote_addr)
        if how:
            _sign_in(user)
            if how == "recovery":
                left = second_factor.recovery_left(user)
                flash(f"已用一个恢复码登录，还剩 {left} 个。找回手机前请保管好其余的；"
                      "也可以在“两步验证”页更换身份验证器或重新生成恢复码。", "warning")
            return redirect(_safe_next(state.get("next")))
        if problem == services.CODE_LOCKED:
            session.pop(PENDING, None)
            flash(problem, "error")
            return redirect(url_for(".login"))
        form.code.errors.append(problem)
    return render_template("auth/code.html", form=form, user=user, recovery=recovery), (401 if form.errors else 200)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    return _code_page(CodeForm, recovery=False)


@bp.route("/login/recovery", methods=["GET", "POST"])
def login_recovery():
    return _code_page(RecoveryForm, recovery=True)


def _setup_page(user, *, replacing: bool, cancel_url: str):
    """Set up an authenticator: its QR code and key, then its first code. Returns the recovery
    codes (the page that shows them once) when confirmed, else the setup page."""
    form = ReplaceForm() if replacing else CodeForm()
    if form.validate_on_submit():
        if replacing:
            how, problem = services.check_second_factor(user, form.current.data, request.remote_addr,
                                                        signing_in=False)
            if not how:
                form.current.errors.append(problem)
        if not form.errors:
            try:
                return second_factor.confirm_setup(user, form.code.data), None
            except ServiceError as exc:
                form.code.errors.append(str(exc))
    setup = second_factor.start_setup(user)
    page = render_template("auth/setup.html", form=form, setup=setup, user=user, replacing=replacing,
                           cancel_url=cancel_url)
    return None, page


@bp.route("/login/setup", methods=["GET", "POST"])
def login_setup():
    user, state = _pending()
    if user is None or second_factor.enrolled(user):
        return _expired()
    codes, page = _setup_page(user, replacing=False, cancel_url=url_for(".login"))
    if codes is None:
        return page
    _sign_in(user)
    audit.record("login_ok", user=user, detail="两步验证：首次设置")
    return render_template("auth/recovery_codes.html", codes=codes,
                           next_url=_safe_next(state.get("next")))


def _two_factor_page(form):
    """The account's 两步验证 page: its state and the form that asks for a current code."""
    return render_template("auth/two_factor.html", enrolled=second_factor.enrolled(current_user),
                           required=second_factor.required(current_user),
                           left=second_factor.recovery_left(current_user), form=form)


@bp.route("/account/two-factor")
@login_required
def two_factor():
    return _two_factor_page(AccountCodeForm())


@bp.route("/account/two-factor/setup", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    codes, page = _setup_page(current_user, replacing=second_factor.enrolled(current_user),
                              cancel_url=url_for(".two_factor"))
    if codes is None:
        return page
    return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for(".two_factor"))


def _with_code(action):
    """An account change that takes a current code: done, or the status page with the message."""
    form = AccountCodeForm()
    if form.validate_on_submit():
        how, problem = services.check_second_factor(current_user, form.code.data, request.remote_addr,
                                                    signing_in=False)
        if how:
            return action()
        form.code.errors.append(problem)
    return _two_factor_page(form)


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
def two_factor_recovery_codes():
    if not second_factor.enrolled(current_user):
        return redirect(url_for(".two_factor"))

    def renew():
        codes = second_factor.new_recovery_codes(current_user)
        return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for(".two_factor"))
    return _with_code(renew)


@bp.route("/account/two-factor/off", methods=["POST"])
@login_required
def two_factor_off():
    if not second_factor.enrolled(current_user) or second_factor.required(current_user):
        flash("你的账号必须使用两步验证，不能关闭", "error")
        return redirect(url_for(".two_factor"))

    def off():
        second_factor.turn_off(current_user)
        flash("已关闭两步验证", "success")
        return redirect(url_for(".two_factor"))
    return _with_code(off)


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
