"""导入企业台账 (supervisors and admins): upload → check the column mapping → preview every row →
import (all or nothing) → the record of the import. A large file is imported in the background
and its page shows the progress."""
import json
import tempfile
import threading
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.audit import services as audit
from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.db import db
from crm.imports import reader, services
from crm.imports.analyse import OUTCOMES
from crm.imports.columns import COLUMNS
from crm.imports.forms import CommitForm, UploadForm
from crm.imports.models import ImportBatch
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
                batch = services.start(tmp.name, upload_file.filename or "upload", current_user, org,
                                       form.on_duplicate.data)
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                return redirect(url_for(".mapping", batch_id=batch.id))
    return render_template("imports/upload.html", form=form, columns=COLUMNS)


@bp.route("/<int:batch_id>/mapping", methods=["GET", "POST"])
@login_required
def mapping(batch_id):
    require("supervise")
    batch = get_batch_or_404(batch_id)
    if batch.status != "uploaded":
        return redirect(url_for(".show", batch_id=batch.id))
    headers = services.headers_of(batch)
    if request.method == "POST":
        from flask_wtf.csrf import validate_csrf
        validate_csrf(request.form.get("csrf_token"))
        chosen = {i: request.form.get(f"col{i}", "") for i in range(len(headers))}
        try:
            services.set_mapping(batch, chosen)
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            return redirect(url_for(".show", batch_id=batch.id))
    try:
        sample = reader.text_sample(services.stored_file(batch), batch.header_row)
    except ServiceError as exc:
        flash(str(exc), "error")
        sample = []
    return render_template("imports/mapping.html", batch=batch, headers=headers, mapping=services.mapping_of(batch),
                           sample=sample, columns=COLUMNS)


@bp.route("/<int:batch_id>")
@login_required
def show(batch_id):
    """The preview of an import not yet made; the progress or the result of one that was."""
    require("supervise")
    batch = get_batch_or_404(batch_id)
    if batch.status == "uploaded":
        try:
            counts, rows = services.preview(batch, current_user)
        except ServiceError as exc:
            flash(str(exc), "error")
            counts, rows = {}, []
        return render_template("imports/preview.html", batch=batch, counts=counts, rows=rows, OUTCOMES=OUTCOMES,
                               form=CommitForm(), mapping=services.mapping_of(batch),
                               headers=services.headers_of(batch), columns={c.key: c for c in COLUMNS})
    if batch.status == "running" and _stalled(batch):
        ImportBatch.update(status="failed", message="导入中断（服务器重启或出错），没有写入任何一行，请重新上传").where(
            ImportBatch.id == batch.id, ImportBatch.status == "running").execute()
        batch = ImportBatch.get_by_id(batch.id)
    return render_template("imports/status.html", batch=batch, progress=_progress(batch))


STALL_SECONDS = 15 * 60


def _stalled(batch) -> bool:
    """No progress for 15 minutes: the thread is gone (a restart); the transaction was rolled back."""
    import time
    path = _progress_file(batch.id)
    try:
        last = path.stat().st_mtime
    except OSError:
        from calendar import timegm
        last = timegm((batch.finished_at or batch.created_at).timetuple())
    return time.time() - last > STALL_SECONDS


@bp.route("/<int:batch_id>/rejected.xlsx")
@login_required
def rejected(batch_id):
    require("supervise")
    batch = get_batch_or_404(batch_id)
    try:
        out = services.rejected_xlsx(batch, current_user)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".show", batch_id=batch.id))
    name = f"未导入的行-{Path(batch.file_name).stem}.xlsx"
    audit.record("export", target=("import_batch", batch.id), detail=f"未导入的行：{batch.file_name}")
    return Response(iter(lambda: out.read(64 * 1024), b""),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@bp.route("/<int:batch_id>/commit", methods=["POST"])
@login_required
def commit(batch_id):
    require("supervise")
    batch = get_batch_or_404(batch_id)
    form = CommitForm()
    if not form.validate_on_submit() or batch.status != "uploaded":
        return redirect(url_for(".show", batch_id=batch.id))
    valid_only = bool(form.valid_only.data)
    if current_app.config.get("IMPORT_IN_BACKGROUND"):
        if not services.claim(batch):  # a second tap, or another tab: one import only
            return redirect(url_for(".show", batch_id=batch.id))
        app, user_id = current_app._get_current_object(), current_user.id
        threading.Thread(target=_run, args=(app, batch.id, user_id, valid_only), daemon=True).start()
        return redirect(url_for(".show", batch_id=batch.id))
    try:
        done = services.commit(batch, current_user, valid_only)
    except services.HasErrors:
        pass  # the preview says why, and offers the same file again
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        flash(f"导入完成：新建 {done.created} 家，更新 {done.updated} 家", "success")
    return redirect(url_for(".show", batch_id=batch.id))


def _progress_file(batch_id) -> Path:
    return services.storage_dir() / f"{batch_id}.progress"


def _progress(batch):
    try:
        return json.loads(_progress_file(batch.id).read_text())
    except (OSError, ValueError):
        return {"done": 0}


def _run(app, batch_id, user_id, valid_only):
    """The import in a thread with its own connection; progress goes to a small file (the import's
    own transaction is not visible to the page that polls)."""
    with app.app_context():
        db.connect(reuse_if_open=True)
        path = _progress_file(batch_id)

        def progress(done):
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"done": done}))
            tmp.replace(path)
        try:
            progress(0)
            batch = ImportBatch.get_by_id(batch_id)
            services.commit(batch, User.get_by_id(user_id), valid_only, progress)
        except ServiceError:
            pass  # recorded on the batch
        except Exception:  # commit() has recorded the failure on the batch
            import logging
            logging.getLogger("crm").exception("import %s failed", batch_id)
        finally:
            path.unlink(missing_ok=True)
            db.close()
