from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from crm.audit import services as audit
from crm.common.errors import ServiceError
from crm.common.numbers import arg_page, to_id, to_int
from crm.common.timeutil import local_today, utcnow
from crm.enterprises import bulk, queries, services, similar
from crm.enterprises.choices import CATEGORIES, INDUSTRIES, STATUSES
from crm.enterprises.forms import ArchiveForm, BulkForm, ContactForm, EnterpriseForm, NewEnterpriseForm
from crm.enterprises.models import BulkAction, Contact, Enterprise
from crm.fieldwork.ledger import longer_than, xlsx_response
from crm.fieldwork.timeline import timeline
from crm.followups import queries as followup_queries
from crm.founding import queries as founding_queries
from crm.founding import stages
from crm.imports import export as ledger
from crm.jobs import views as jobs
from crm.needs.queries import open_for
from crm.org.queries import unit_choices
from crm.auth.models import User
from crm.permissions import can, get_or_404, require, visible_org_units
from crm.sync import views as sync

bp = Blueprint("enterprises", __name__, url_prefix="/enterprises")


def get_enterprise_or_404(ent_id) -> Enterprise:
    return get_or_404(Enterprise, ent_id, current_user)


@sync.landing("enterprise")
def _file_page(record_id):
    return url_for("enterprises.show", ent_id=record_id)


@sync.landing("contact")
def _contact_page(record_id):
    contact = Contact.get_or_none(Contact.id == record_id)
    return url_for("enterprises.show", ent_id=contact.enterprise_id) + "#contacts" if contact else None


def _org_choices(form, include=None):
    choices = unit_choices(visible_org_units(current_user), current_user.org_unit.depth, include)
    form.org_unit.choices = choices
    if form.org_unit.data is None and len(choices) >= 1:
        own = current_user.org_unit_id
        form.org_unit.data = own if own in {c[0] for c in choices} else choices[0][0]


@bp.route("/")
@login_required
def index():
    args = queries.ListArgs.from_request(request.args)
    page = queries.list_page(current_user, args)
    return render_template("enterprises/index.html", page=page, args=args,
                           units=visible_org_units(current_user, active_only=False),
                           union_statuses=stages.UNION_STATUS, all_stages=stages.ALL_STAGES,
                           industries=INDUSTRIES, categories=CATEGORIES, statuses=STATUSES,
                           sorts=queries.SORTS, contact_filters=queries.CONTACT_FILTERS,
                           last_bulk=bulk.last_undoable(current_user) if can("bulk_edit_firms") else None,
                           bulk_max=bulk.MAX_FILES, list_query=bulk.list_query(request.args))


@bp.route("/export.xlsx", methods=["GET", "POST"])
@login_required
def export():
    """导出 Excel: exactly the listed (filtered) files, in the layout the importer reads; more
    than EXPORT_INLINE_ROWS of them as a job (后台任务)."""
    args = queries.ListArgs.from_request(request.args)
    query = ledger.ordered(current_user, args)
    limit = current_app.config["EXPORT_INLINE_ROWS"]
    if longer_than(query, limit):
        return jobs.start_or_confirm("enterprise_export", {"query": request.query_string.decode("utf-8", "replace")},
                                     "导出企业台账", f"筛选出的档案超过 {limit} 个，",
                                     url_for("enterprises.index") + (f"?{request.query_string.decode('utf-8', 'replace')}"
                                                                     if request.query_string else ""))
    return xlsx_response("企业台账", "企业台账", ledger.COLUMNS, ledger.rows(query))


@bp.route("/lookup")
@login_required
def lookup():
    """Files in scope matching a name, code or contact: for the enterprise pickers (JSON)."""
    return jsonify(queries.lookup(current_user, request.args.get("q", "")))


@bp.route("/similar")
@login_required
def similar_names():
    """可能重复的档案 for a name being typed on the file form (JSON): files in the district with the
    same or a similar name, those outside the user's scope by name and unit only. `exclude`: the
    file being edited."""
    require("edit_records")
    matches = similar.find(request.args.get("name", "")[:200], to_id(request.args.get("exclude")))
    response = jsonify(items=[dict(item, url=url_for(".show", ent_id=item["id"])) if item["in_scope"] else item
                              for item in similar.shown(matches, current_user)])
    response.headers["Cache-Control"] = "no-store"
    return response


def _duplicate_warning(form, exclude_id=None):
    """Files with the same or a similar name must be confirmed once before saving (仍然保存, or
    保存 again with the same name). Returns the matches to show, as the user may see them."""
    if form.confirm_duplicate.data == form.name.data:
        return []
    return similar.shown(similar.find(form.name.data, exclude_id), current_user)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    require("edit_records")
    form = NewEnterpriseForm()
    _org_choices(form)
    duplicates = []
    form.ensure_key()
    if request.method == "POST":
        done = sync.answer_resend(form, "企业档案")
        if done is not None:
            return done
    if form.validate_on_submit():
        duplicates = _duplicate_warning(form)
        if duplicates:
            # The file it warns of may be this form's own, saved by another send of it just now.
            done = sync.answer_resend(form, "企业档案")
            if done is not None:
                return done
            form.confirm_duplicate.data = form.name.data
            sync.explain("已有名称相近的企业档案：" + "、".join(d["name"] for d in duplicates[:5]) +
                         "。请打开核对，确认不是同一家后再保存")
        else:
            try:
                ent = services.create_enterprise(form.service_data(), current_user,
                                                 contact=form.contact_data(),
                                                 initial_stage=form.initial_stage.data, sent=form.sent)
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                return sync.saved(url_for(".show", ent_id=ent.id), True, "企业档案", form.form_key.data,
                                  f"已建档：{ent.name}")
    status = sync.refused_status(form)
    return render_template("enterprises/form.html", form=form, ent=None, duplicates=duplicates,
                           areas=queries.area_suggestions(current_user), conflict=None), status


@bp.route("/<int:ent_id>")
@login_required
def show(ent_id):
    ent = get_enterprise_or_404(ent_id)
    tl_page = arg_page(request.args, "tl_page")
    contacts = queries.contacts_of(ent)
    _phones_read(ent, contacts)
    return render_template("enterprises/show.html", ent=ent, contacts=contacts,
                           changes=queries.history(ent, limit=15),
                           track=founding_queries.track(ent), stages=stages,
                           archive_form=ArchiveForm(), timeline=timeline(ent, current_user, tl_page),
                           open_needs=open_for(ent), followups=followup_queries.of_enterprise(ent.id),
                           today=local_today(), printed_at=utcnow())


def _phones_read(ent, contacts):
    """The file shows its contacts' full numbers: that reading is in the audit log."""
    shown = [c.name for c in contacts if c.phone]
    if shown:
        audit.record("phone_read", target=("enterprise", ent.id), detail=f"{ent.name}：" + "、".join(shown))


@bp.route("/<int:ent_id>/edit", methods=["GET", "POST"])
@login_required
def edit(ent_id):
    require("edit_records")
    ent = get_enterprise_or_404(ent_id)
    form = EnterpriseForm(obj=ent if request.method == "GET" else None)
    if request.method == "GET":
        form.org_unit.data = ent.org_unit_id
        form.version.data = ent.version
    _org_choices(form, include=ent.org_unit)
    duplicates, conflict = [], None
    if form.validate_on_submit():
        expected = to_int(form.version.data or 0, 0)
        if expected is None:
            abort(400)
        duplicates = _duplicate_warning(form, ent.id) if form.name.data != ent.name else []
        if duplicates:
            form.confirm_duplicate.data = form.name.data
        else:
            try:
                services.update_enterprise(ent.id, form.service_data(), current_user, expected)
            except services.ConflictError as exc:
                conflict = exc
                # Saving again now means: "I have seen their version and keep mine".
                form.version.data = exc.current.version
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                flash("已保存", "success")
                return redirect(url_for(".show", ent_id=ent.id))
    status = 409 if conflict else 200
    return render_template("enterprises/form.html", form=form, ent=ent, duplicates=duplicates,
                           areas=queries.area_suggestions(current_user), conflict=conflict), status


@bp.route("/<int:ent_id>/archive", methods=["POST"])
@login_required
def archive(ent_id):
    require("edit_records")
    ent = get_enterprise_or_404(ent_id)
    form = ArchiveForm()
    if not form.validate_on_submit():
        flash("请填写归档原因", "error")
        return redirect(url_for(".show", ent_id=ent.id))
    services.set_archived(ent, current_user, True, form.reason.data)
    flash("已归档。档案仍可查阅，可随时恢复。", "success")
    return redirect(url_for(".show", ent_id=ent.id))


@bp.route("/<int:ent_id>/restore", methods=["POST"])
@login_required
def restore(ent_id):
    require("edit_records")
    ent = get_enterprise_or_404(ent_id)
    services.set_archived(ent, current_user, False)
    flash("已恢复在档", "success")
    return redirect(url_for(".show", ent_id=ent.id))


@bp.route("/<int:ent_id>/history")
@login_required
def history(ent_id):
    ent = get_enterprise_or_404(ent_id)
    return render_template("enterprises/history.html", ent=ent, changes=queries.history(ent))


# ---- contacts ---------------------------------------------------------------------------

def _contact_or_404(ent, contact_id):
    contact = Contact.get_or_none(Contact.id == contact_id, Contact.enterprise == ent.id,
                                  Contact.archived == False)  # noqa: E712
    if contact is None:
        abort(404)
    return contact


@bp.route("/<int:ent_id>/contacts/new", methods=["GET", "POST"])
@login_required
def contact_new(ent_id):
    require("edit_records")
    ent = get_enterprise_or_404(ent_id)
    form = ContactForm()
    form.ensure_key()
    if request.method == "POST":
        done = sync.answer_resend(form, "联系人")
        if done is not None:
            return done
    if form.validate_on_submit():
        try:
            services.add_contact(ent, form.data, current_user, sent=form.sent)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            return sync.saved(url_for(".show", ent_id=ent.id) + "#contacts", True, "联系人", form.form_key.data,
                              "已添加联系人")
    return render_template("enterprises/contact_form.html", form=form, ent=ent, contact=None), \
        sync.refused_status(form)


@bp.route("/<int:ent_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@login_required
def contact_edit(ent_id, contact_id):
    require("edit_records")
    ent = get_enterprise_or_404(ent_id)
    contact = _contact_or_404(ent, contact_id)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            services.update_contact(contact, form.data, current_user)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            flash("已保存联系人", "success")
            return redirect(url_for(".show", ent_id=ent.id) + "#contacts")
    return render_template("enterprises/contact_form.html", form=form, ent=ent, contact=contact)


@bp.route("/<int:ent_id>/contacts/<int:contact_id>/archive", methods=["POST"])
@login_required
def contact_archive(ent_id, contact_id):
    require("edit_records")
    ent = get_enterprise_or_404(ent_id)
    contact = _contact_or_404(ent, contact_id)
    services.archive_contact(contact, current_user)
    flash(f"已移除联系人：{contact.name}（变更记录中保留）", "success")
    return redirect(url_for(".show", ent_id=ent.id) + "#contacts")


# ---- 批量操作 (crm/enterprises/bulk.py) -------------------------------------------------------

def _bulk_selection(source):
    """The ticked files (`ent`) or every file matching the list's filters, as sent."""
    return {"ids": source.getlist("ent"), "filters": bulk.list_query(source.get("filters", "")),
            "everything": source.get("everything") == "1"}


def _list_url(filters: str) -> str:
    """The list the user came from (its query string only: never another site)."""
    filters = bulk.list_query(filters)
    return url_for(".index") + ("?" + filters if filters else "")


@bp.route("/bulk", methods=["GET", "POST"])
@login_required
def bulk_start():
    """批量操作: the selection, then the action and its parameters; 预览 prepares it."""
    require("bulk_edit_firms")
    source = request.form if request.method == "POST" else request.args
    chosen = _bulk_selection(source)
    form = BulkForm(formdata=request.form if request.method == "POST" else None,
                    everything="1" if chosen["everything"] else "", filters=chosen["filters"])
    form.unit.choices = [("", "请选择目标单位")] + unit_choices(visible_org_units(current_user),
                                                              current_user.org_unit.depth)
    problem, ids = None, []
    try:
        ids = bulk.selection(current_user, chosen["ids"], chosen["filters"], chosen["everything"])
    except bulk.OutOfScope:
        abort(404)
    except ServiceError as exc:
        problem = str(exc)
    if problem is None and request.method == "POST" and form.validate_on_submit():
        try:
            action = bulk.prepare(current_user, request.form.get("action", ""),
                                  {"unit": form.unit.data, "tag": form.tag.data, "reason": form.reason.data},
                                  ids=chosen["ids"], filters=chosen["filters"], everything=chosen["everything"],
                                  back=chosen["filters"])
        except bulk.OutOfScope:
            abort(404)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            return redirect(url_for(".bulk_show", action_id=action.id))
    sample = list(Enterprise.select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids[:bulk.NAMED]))
                  .order_by(Enterprise.id)) if ids else []
    return render_template("enterprises/bulk.html", form=form, problem=problem, ids=ids, sample=sample,
                           everything=chosen["everything"], tags=bulk.tag_counts(ids),
                           back=_list_url(chosen["filters"]))


def _bulk_or_404(action_id) -> BulkAction:
    """A bulk action whose author is in the user's scope (the files it names were in theirs)."""
    query = BulkAction.select(BulkAction, User).join(User, on=(BulkAction.user == User.id))
    return get_or_404(BulkAction, action_id, current_user, org_field=User.org_unit, query=query)


@bp.route("/bulk/<int:action_id>")
@login_required
def bulk_show(action_id):
    """The preview (将变更 N 家企业：…, 确认), or what was done (撤销)."""
    require("bulk_edit_firms")
    action = _bulk_or_404(action_id)
    back = _list_url(bulk.params_of(action).get("back", ""))
    again = bulk.again_args(action)
    return render_template("enterprises/bulk_action.html", action=action, preview=bulk.preview(action),
                           undoable=bulk.undoable(action, current_user), back=back,
                           again=url_for(".bulk_start", **again) if again else None)


def _bulk_step(action_id, step, done_message):
    """Confirm or undo a bulk action: refused with its reason on the action's page, done back on
    the list it came from."""
    require("bulk_edit_firms")
    action = _bulk_or_404(action_id)
    try:
        done = step(action.id, current_user)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".bulk_show", action_id=action.id))
    flash(done_message(done), "success")
    return redirect(_list_url(bulk.params_of(done).get("back", "")))


@bp.route("/bulk/<int:action_id>/apply", methods=["POST"])
@login_required
def bulk_apply(action_id):
    return _bulk_step(action_id, bulk.apply, lambda done: Markup(
        "已完成批量操作：{}，共 {} 家企业。<a href=\"{}\">撤销</a>").format(
        bulk.ACTIONS.label(done.action), done.changing, url_for(".bulk_show", action_id=done.id)))


@bp.route("/bulk/<int:action_id>/undo", methods=["POST"])
@login_required
def bulk_undo(action_id):
    return _bulk_step(action_id, bulk.undo, lambda done: (
        f"已撤销批量操作：{bulk.ACTIONS.label(done.action)}，{done.changing} 家企业恢复原值"))


@bp.app_template_global()
def change_source_label(source):
    """A history line's bulk source in words (批量操作：变更所属单位), or ""."""
    return bulk.source_label(source)
