"""导入企业台账 (supervisors and admins): upload → check the column mapping → preview every row →
import (all or nothing) → the record of the import. The analysis behind the preview and the import
itself run as jobs (crm.imports.jobs); the batch's page shows their progress (crm/static/jobs.js
polls its .json), a failure with its reason and 重试."""
import tempfile
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.audit import services as audit
from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.imports import jobs, services
from crm.imports.analyse import OUTCOMES
from crm.imports.columns import COLUMNS
from crm.imports.forms import CommitForm, UploadForm
from crm.imports.models import ImportBatch
from crm.jobs.views import start_or_confirm
from crm.org.models import OrgUnit
from crm.org.queries import unit_choices
from crm.permissions import in_scope, require, scope_org_ids, sees_district, visible_org_units

bp = Blueprint("imports", __name__, url_prefix="/imports")


def get_batch_or_404(batch_id) -> ImportBatch:
    """An import is seen by whoever made it, and by supervisors and admins above them."""
    batch = ImportBatch.get_or_none(ImportBatch.id == batch_id)
    unit = batch.scope_unit if batch is not None and batch.scope_unit_id else (batch.user.org_unit if batch else None)
    if batch is None or not (batch.user_id == current_user.id or in_scope(current_user, unit)):
        abort(404)
    return batch


@bp.route("/")
@login_required
def index():
    require("supervise")
    query = ImportBatch.select(ImportBatch, User).join(User).order_by(ImportBatch.id.desc())
    ids = scope_org_ids(current_user)
    if ids is not None:
        query = query.where(ImportBatch.scope_unit.in_(ids) | (ImportBatch.user == current_user.id))
    return render_template("imports/index.html", batches=list(query.limit(100)))


@bp.route("/enterprises/new", methods=["GET", "POST"])
@login_required
def upload():
    require("supervise")
    form = UploadForm()
    form.org.choices = [(0, "（按表中的“所属工会”）")] + unit_choices(visible_org_units(current_user))
    if request.method == "GET":
        form.org.data = 0 if sees_district(current_user) else current_user.org_unit_id
    if form.validate_on_submit():
        org = OrgUnit.get_or_none(OrgUnit.id == form.org.data) if form.org.data else None
        upload_file = form.file.data
        with tempfile.NamedTemporaryFile(suffix=Path(upload_file.filename or "").suffix) as tmp:
            upload_file.save(tmp.name)
            try:
                batch = services.receive(tmp.name, upload_file.filename or "upload", current_user, org,
                                         form.on_duplicate.data)
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                jobs.start_reading(batch, current_user)
                return redirect(url_for(".mapping", batch_id=batch.id))
    return render_template("imports/upload.html", form=form, columns=COLUMNS)


@bp.route("/<int:batch_id>/mapping", methods=["GET", "POST"])
@login_required
def mapping(batch_id):
    require("supervise")
    batch = get_batch_or_404(batch_id)
    if batch.status != "uploaded":
        return redirect(url_for(".show", batch_id=batch.id))
    if batch.header_row is None:  # its header is being read (a job): the progress, then this page
        job = batch.job
        if job is not None and job.is_active:
            return render_template("imports/status.html", batch=batch, job=job, status=_status(batch, job))
        return redirect(url_for(".show", batch_id=batch.id))
    headers = services.headers_of(batch)
    if request.method == "POST":
        from flask_wtf.csrf import validate_csrf
        validate_csrf(request.form.get("csrf_token"))
        chosen = {i: request.form.get(f"col{i}", "") for i in range(len(headers))}
        try:
            batch = services.set_mapping(batch, chosen)
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            jobs.start_analysis(batch, current_user)
            return redirect(url_for(".show", batch_id=batch.id))
    return render_template("imports/mapping.html", batch=batch, headers=headers, mapping=services.mapping_of(batch),
                           sample=services.sample_of(batch), columns=COLUMNS)


@bp.route("/<int:batch_id>")
@login_required
def show(batch_id):
    """While its job runs: the job's progress. Then the preview of an import not yet made (the
    stored analysis), or the record of one that was."""
    require("supervise")
    batch = get_batch_or_404(batch_id)
    job = batch.job
    if job is not None and job.is_active:
        return render_template("imports/status.html", batch=batch, job=job, status=_status(batch, job))
    if batch.status == "uploaded" and (batch.header_row is None or (job is not None and job.kind == jobs.READ)):
        if batch.header_row is not None:  # read: the columns to confirm
            return redirect(url_for(".mapping", batch_id=batch.id))
        return render_template("imports/analyse.html", batch=batch, job=None, unread=True)
    if batch.status == "uploaded":
        analysed = services.stored_analysis(batch)
        if analysed is None:
            failed = job if job is not None and job.kind == jobs.ANALYSE and job.state == "failed" else None
            return render_template("imports/analyse.html", batch=batch, job=failed)
        counts, rows = analysed
        return render_template("imports/preview.html", batch=batch, counts=counts, rows=rows, OUTCOMES=OUTCOMES,
                               form=CommitForm(), mapping=services.mapping_of(batch),
                               headers=services.headers_of(batch), columns={c.key: c for c in COLUMNS})
    failed = job if job is not None and job.kind in (jobs.READ, jobs.COMMIT) and job.state == "failed" else None
    return render_template("imports/status.html", batch=batch, job=failed, status=None)


def _status(batch, job) -> dict:
    """The batch's job as crm/static/jobs.js reads it (the shape of /jobs/<id>.json); a running
    import's count comes from its progress file."""
    progress, text = job.progress, job.progress_text
    if job.kind == jobs.COMMIT and job.state == "running":
        total, done = services.rows_total(batch), services.read_progress(batch.id)
        progress = max(progress, min(99, done * 100 // max(1, total)))
        text = f"已导入 {done} / {total} 行；全部完成前不会写入任何一行" if done else text
    return {"id": job.id, "state": job.state, "state_label": job.state_label, "progress": progress,
            "progress_text": text, "error": job.error, "attempts": job.attempts,
            "max_attempts": job.max_attempts, "download_url": None}


@bp.route("/<int:batch_id>.json")
@login_required
def status(batch_id):
    require("supervise")
    batch = get_batch_or_404(batch_id)
    if batch.job is None:  # (nothing runs: the page shows what there is)
        return jsonify(id=None, state="none", state_label="", progress=0, progress_text="", error="",
                       attempts=0, max_attempts=0, download_url=None)
    return jsonify(_status(batch, batch.job))


@bp.post("/<int:batch_id>/analyse")
@login_required
def analyse(batch_id):
    """分析文件 again (the analysis failed, or was never made for this mapping)."""
    require("supervise")
    batch = get_batch_or_404(batch_id)
    if batch.status == "uploaded" and not (batch.job and batch.job.is_active):
        if batch.header_row is None:
            jobs.start_reading(batch, current_user)
            return redirect(url_for(".mapping", batch_id=batch.id))
        jobs.start_analysis(batch, current_user)
    return redirect(url_for(".show", batch_id=batch.id))


@bp.post("/<int:batch_id>/retry")
@login_required
def retry(batch_id):
    """重试 the batch's failed job (an analysis, an import that wrote nothing)."""
    require("supervise")
    batch = get_batch_or_404(batch_id)
    try:
        jobs.retry(batch, current_user)
        flash("已重新排队", "success")
    except ServiceError as exc:
        flash(str(exc), "warning")
    return redirect(url_for(".show", batch_id=batch.id))


@bp.route("/<int:batch_id>/rejected.xlsx", methods=["GET", "POST"])
@login_required
def rejected(batch_id):
    """下载未导入的行: at once for a short file, as a job (the button that posts it) for a long one."""
    require("supervise")
    batch = get_batch_or_404(batch_id)
    limit = current_app.config["EXPORT_INLINE_ROWS"]
    if services.rows_total(batch) > limit:
        return start_or_confirm(jobs.REJECTED, {"batch": batch.id}, "下载未导入的行",
                                f"文件超过 {limit} 行，未导入的行", url_for(".show", batch_id=batch.id))
    try:
        out = services.rejected_xlsx(batch, current_user)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".show", batch_id=batch.id))
    audit.record("export", target=("import_batch", batch.id), detail=f"未导入的行：{batch.file_name}")
    return Response(iter(lambda: out.read(64 * 1024), b""),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(services.rejected_name(batch))}"})


@bp.route("/<int:batch_id>/commit", methods=["POST"])
@login_required
def commit(batch_id):
    require("supervise")
    batch = get_batch_or_404(batch_id)
    form = CommitForm()
    if form.validate_on_submit() and batch.status == "uploaded":
        jobs.start_commit(batch, current_user, bool(form.valid_only.data))  # a second tap: already taken
    return redirect(url_for(".show", batch_id=batch.id))
