"""Admin pages (admin role only): the org-unit tree and user accounts, the settings, and the
buttons that start 数据备份 and 统计重算 as jobs.

Every view starts with require("manage_system"); admins see every record, so lookups by id
are plain get_or_none + 404. The writes live in crm.org.services and crm.auth.services.
"""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user
from peewee import fn

from crm.admin.forms import (NO_PARENT, MoveOrgUnitForm, OrgUnitForm, PasswordResetForm, RenameOrgUnitForm,
                             UserCreateForm, UserEditForm, field_name, settings_form_class)
from crm.auth import second_factor
from crm.auth import services as auth_services
from crm.auth.models import ROLES, User, is_admin_role
from crm.common.errors import ServiceError
from crm.common.numbers import arg_id
from crm.fieldwork.ledger import local_dt, xlsx_response
from crm.jobs import services as job_services
from crm.jobs.models import Job
from crm.org import services as org_services
from crm.org.models import OrgUnit
from crm.org.queries import unit_choices
from crm.permissions import require
from crm.settings import services as settings_services

bp = Blueprint("admin", __name__, url_prefix="/admin")


# ---- helpers --------------------------------------------------------------------------------

def _unit_or_404(unit_id) -> OrgUnit:
    unit = OrgUnit.get_or_none(OrgUnit.id == unit_id)
    if unit is None:
        abort(404)
    return unit


def _user_or_404(user_id) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        abort(404)
    return user


def _int_arg(name):
    return arg_id(request.args, name)


def _unit_choices(field, exclude_under=None, include=None):
    """Active units in tree order, indented; optionally without a subtree, plus one kept unit."""
    units = OrgUnit.select().where(OrgUnit.active == True).order_by(OrgUnit.path)  # noqa: E712
    choices = unit_choices([u for u in units
                            if not (exclude_under and u.path.startswith(exclude_under.path))],
                           include=include)
    field.choices = choices
    return choices


# ---- org units ----------------------------------------------------------------------------

def _user_counts():
    """{org_unit_id: [active users, inactive users]}"""
    counts = {}
    query = (User.select(User.org_unit, User.active, fn.COUNT(User.id).alias("n"))
             .group_by(User.org_unit, User.active))
    for row in query.dicts():
        counts.setdefault(row["org_unit"], [0, 0])[0 if row["active"] else 1] += row["n"]
    return counts


@bp.route("/org-units")
@login_required
def org_units():
    require("manage_system")
    units = list(OrgUnit.select().order_by(OrgUnit.path))
    return render_template("admin/org_units.html", units=units, counts=_user_counts())


@bp.route("/org-units/new", methods=["GET", "POST"])
@login_required
def org_unit_new():
    require("manage_system")
    form = OrgUnitForm()
    has_root = OrgUnit.select().where(OrgUnit.parent.is_null()).exists()
    if has_root:
        _unit_choices(form.parent)
    else:
        form.parent.choices = [(NO_PARENT, "（无，作为顶级单位）")]
        if request.method == "GET":
            form.kind.data = "district"
    if request.method == "GET" and has_root:
        preset = OrgUnit.get_or_none(OrgUnit.id == _int_arg("parent")) if _int_arg("parent") else None
        if preset is not None and preset.active:
            form.parent.data = preset.id
            form.kind.data = "town" if preset.parent_id is None else "station"
    if form.validate_on_submit():
        parent = None if form.parent.data == NO_PARENT else _unit_or_404(form.parent.data)
        try:
            unit = org_services.create_unit(form.name.data, form.kind.data, parent)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            flash(f"已添加单位：{unit.name}", "success")
            return redirect(url_for(".org_units"))
    return render_template("admin/org_unit_form.html", form=form, unit=None, action="new")


@bp.route("/org-units/<int:unit_id>/rename", methods=["GET", "POST"])
@login_required
def org_unit_rename(unit_id):
    require("manage_system")
    unit = _unit_or_404(unit_id)
    form = RenameOrgUnitForm()
    if request.method == "GET":
        form.name.data = unit.name
    if form.validate_on_submit():
        try:
            renamed = org_services.rename_unit(unit, form.name.data)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            flash(f"已改名：{unit.name} → {renamed.name}", "success")
            return redirect(url_for(".org_units"))
    return render_template("admin/org_unit_form.html", form=form, unit=unit, action="rename")


@bp.route("/org-units/<int:unit_id>/move", methods=["GET", "POST"])
@login_required
def org_unit_move(unit_id):
    require("manage_system")
    unit = _unit_or_404(unit_id)
    if unit.parent_id is None:
        flash("不能移动顶级单位", "error")
        return redirect(url_for(".org_units"))
    form = MoveOrgUnitForm()
    _unit_choices(form.parent, exclude_under=unit)
    if request.method == "GET":
        form.parent.data = unit.parent_id
    if form.validate_on_submit():
        if form.parent.data == unit.parent_id:
            form.show_service_error(ServiceError("该单位已经在所选单位之下", "parent"))
        else:
            try:
                moved = org_services.move_unit(unit, _unit_or_404(form.parent.data))
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                flash(f"已将 {moved.name} 移动到 {moved.parent.name} 之下", "success")
                return redirect(url_for(".org_units"))
    return render_template("admin/org_unit_form.html", form=form, unit=unit, action="move")


def _set_unit_active(unit_id, active):
    require("manage_system")
    unit = _unit_or_404(unit_id)
    try:
        org_services.set_active(unit, active)
    except ServiceError as exc:
        flash(f"{unit.name}：{exc}", "error")
    else:
        flash(f"已{'启用' if active else '停用'}：{unit.name}", "success")
    return redirect(url_for(".org_units"))


@bp.route("/org-units/<int:unit_id>/second-factor", methods=["POST"])
@login_required
def org_unit_second_factor(unit_id):
    require("manage_system")
    unit = _unit_or_404(unit_id)
    on = request.form.get("on") == "1"
    missing = second_factor.unit_switch(unit, on)
    if on:
        flash(f"{unit.name}：本单位人员登录须使用两步验证" +
              (f"；{missing} 个账号尚未设置，将在下次登录时设置" if missing else ""), "success")
    else:
        flash(f"{unit.name}：不再要求两步验证（已启用的账号照常使用，本人可以关闭）", "success")
    return redirect(url_for(".org_units", _anchor=f"unit-{unit.id}"))


@bp.route("/org-units/<int:unit_id>/deactivate", methods=["POST"])
@login_required
def org_unit_deactivate(unit_id):
    return _set_unit_active(unit_id, False)


@bp.route("/org-units/<int:unit_id>/reactivate", methods=["POST"])
@login_required
def org_unit_reactivate(unit_id):
    return _set_unit_active(unit_id, True)


# ---- users ----------------------------------------------------------------------------------

def _users_listed():
    """(query, org, role, active): the accounts the list shows for its filters (the page and its
    export)."""
    org = OrgUnit.get_or_none(OrgUnit.id == _int_arg("org")) if _int_arg("org") else None
    role = request.args.get("role", "")
    active = request.args.get("active", "")
    query = User.select(User, OrgUnit).join(OrgUnit).order_by(OrgUnit.path, User.username)
    if org is not None:
        query = query.where(OrgUnit.path.startswith(org.path))
    if role in ROLES:
        query = query.where(User.role == role)
    if active in ("1", "0"):
        query = query.where(User.active == (active == "1"))
    return query, org, role, active


@bp.route("/users")
@login_required
def users():
    require("manage_system")
    query, org, role, active = _users_listed()
    return render_template("admin/users.html", users=list(query), org=org, role=role,
                           active=active, roles=ROLES,
                           units=list(OrgUnit.select().order_by(OrgUnit.path)))


USER_COLUMNS = [("用户名", 16), ("姓名", 12), ("角色", 14), ("所属单位", 24), ("状态", 8), ("最近登录", 17),
                ("两步验证", 10), ("创建时间", 17)]


@bp.route("/users/export.xlsx")
@login_required
def users_export():
    """导出 Excel: the accounts listed for the same filters (in the audit log, as every export)."""
    require("manage_system")
    query, _, _, _ = _users_listed()
    rows = ([u.username, u.name, u.role_label, u.org_unit.name, "启用" if u.active else "已停用",
             local_dt(u.last_login_at), "已启用" if second_factor.enrolled(u) else "未启用", local_dt(u.created_at)]
            for u in query)
    return xlsx_response("用户", "用户", USER_COLUMNS, rows)


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    require("manage_system")
    form = UserCreateForm()
    choices = _unit_choices(form.org_unit)
    if request.method == "GET":
        preset = _int_arg("org")
        form.org_unit.data = preset if preset in {c[0] for c in choices} else None
    if form.validate_on_submit():
        try:
            user = auth_services.create_user(form.username.data, form.name.data, form.role.data,
                                             _unit_or_404(form.org_unit.data), form.password.data)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            flash(f"已创建用户：{user.name}（{user.username}，{user.role_label}）", "success")
            return redirect(url_for(".users", org=user.org_unit_id))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def user_edit(user_id):
    require("manage_system")
    user = _user_or_404(user_id)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.org_unit.data = user.org_unit_id
    _unit_choices(form.org_unit, include=user.org_unit)
    is_self = user.id == current_user.id
    if form.validate_on_submit():
        if is_self and not form.active.data:
            form.show_service_error(ServiceError("不能停用自己的账号", "active"))
        elif is_self and not is_admin_role(form.role.data):
            form.show_service_error(ServiceError("不能取消自己的管理员角色，请让另一位管理员操作", "role"))
        else:
            try:
                auth_services.update_user(user, name=form.name.data, role=form.role.data,
                                          org_unit=_unit_or_404(form.org_unit.data),
                                          active=form.active.data)
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                if is_self:
                    # A changed org unit ends this admin's other sessions, but not this one.
                    login_user(User.get_by_id(user.id))
                flash(f"已保存用户：{form.name.data}（{user.username}）", "success")
                return redirect(url_for(".users", org=form.org_unit.data))
    return render_template("admin/user_form.html", form=form, user=user,
                           second_factor_required=second_factor.required(user))


def _generated_password(user):
    """A random password that passes the password rules for this user."""
    while True:
        password = auth_services.generate_password()
        if not auth_services.password_problem(password, user.username):
            return password


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@login_required
def user_password(user_id):
    require("manage_system")
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        flash("请通过“修改密码”修改您自己的密码", "warning")
        return redirect(url_for("auth.change_password"))
    form = PasswordResetForm()
    if form.validate_on_submit():
        typed = form.password.data or ""
        password = typed or _generated_password(user)
        try:
            auth_services.set_password(user, password)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            flash(f"已重置 {user.name}（{user.username}）的密码，该用户的所有会话已失效", "success")
            # Rendered, not redirected: a generated password is shown this once and stored nowhere.
            return render_template("admin/password_reset.html", user=user,
                                   generated=None if typed else password)
    return render_template("admin/user_password.html", form=form, user=user)


@bp.route("/users/<int:user_id>/reset-2fa", methods=["POST"])
@login_required
def user_reset_2fa(user_id):
    require("manage_system")
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        flash("请在“两步验证”页更换您自己的身份验证器", "warning")
        return redirect(url_for("auth.two_factor"))
    second_factor.reset(user, by=current_user)
    then = second_factor.after_reset(user)
    flash(f"已重置 {user.name}（{user.username}）的两步验证，该用户的所有会话已失效；{then}", "success")
    return redirect(url_for(".user_edit", user_id=user.id))


# ---- settings ----------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """系统设置: the thresholds of the follow-up suggestions."""
    require("manage_system")
    form = settings_form_class()()
    current = settings_services.values()
    if request.method == "GET":
        for key, value in current.items():
            getattr(form, field_name(key)).data = value
    if form.validate_on_submit():
        changes = {d.key: getattr(form, field_name(d.key)).data for d in settings_services.DEFINITIONS}
        try:
            changed = settings_services.save(changes, current_user)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            flash("已保存：" + "、".join(changed) if changed else "没有改动", "success")
            return redirect(url_for(".settings"))
    return render_template("admin/settings.html", form=form,
                           definitions=[(d, field_name(d.key)) for d in settings_services.DEFINITIONS])


# ---- 数据备份 and 统计重算: buttons that start a job (crm.ops.jobs, crm.stats.jobs) ---------------

MAINTENANCE = {
    "backups": {"rule": "manage_backups", "kind": "backup", "title": "数据备份", "button": "开始备份",
                "started": "备份已开始，完成后在任务页下载",
                "about": "备份数据库和上传的照片，打包成一个 .tar.gz 文件，完成后可以下载（保留 {hours} 小时，"
                         "过期自动删除）。备份和每次下载都记入审计日志。备份时系统照常使用。也可以在服务器上运行 "
                         "crm backup 目录。"},
    "stats": {"rule": "rebuild_stats", "kind": "stats_rebuild", "title": "统计重算", "button": "开始重算",
              "started": "统计重算已开始",
              "about": "按现有的档案和记录重新计算工作概况、达标和报表用到的全部统计数字（用其他方式导入数据之后）。"
                       "重算在后台进行，期间各统计页照常打开（数字按需计算）。也可以在服务器上运行 crm stats rebuild。"},
}


def _maintenance(which):
    page = MAINTENANCE[which]
    require(page["rule"])
    recent = Job.select().where(Job.kind == page["kind"]).order_by(Job.id.desc())
    if request.method == "POST":
        if recent.where(Job.state.in_(("queued", "running"))).exists():
            flash(f"{page['title']}正在进行，请等它完成", "warning")
            return redirect(request.path)
        job = job_services.submit(page["kind"], {}, current_user)
        flash(page["started"], "success")
        return redirect(url_for("jobs.show", job_id=job.id))
    about = page["about"].format(hours=int(current_app.config.get("JOBS_KEEP_HOURS", 24)))
    return render_template("admin/maintenance.html", page=page, about=about, jobs=list(recent.limit(20)))


@bp.route("/backups", methods=["GET", "POST"])
@login_required
def backups():
    """数据备份: start one (a job); the recent ones, each to download while it is kept."""
    return _maintenance("backups")


@bp.route("/stats", methods=["GET", "POST"])
@login_required
def stats_rebuild():
    """统计重算: start one (a job) with its progress; the recent ones."""
    return _maintenance("stats")
