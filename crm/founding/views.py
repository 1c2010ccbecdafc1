from urllib.parse import quote

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm import storage
from crm.common.errors import ServiceError
from crm.common.timeutil import local_today
from crm.enterprises.views import get_enterprise_or_404
from crm.founding import documents, services, stages
from crm.founding.forms import STAGE_DOCUMENT_KIND, DocumentsForm, move_form_class
from crm.founding.models import FoundingDocument, FoundingEvent
from crm.permissions import require
from crm.sync import views as sync

bp = Blueprint("founding", __name__, url_prefix="/enterprises")


@sync.landing("stage")
def _track(record_id):
    event = FoundingEvent.get_or_none(FoundingEvent.id == record_id)
    return url_for("enterprises.show", ent_id=event.enterprise_id) + "#founding" if event else None


@bp.route("/<int:ent_id>/stage", methods=["GET", "POST"])
@login_required
def move(ent_id):
    """Move the file to another stage: ?to=<stage key>, chosen on the file page."""
    require("edit_records")
    ent = get_enterprise_or_404(ent_id)
    to_key = request.values.get("to", "")
    if to_key not in stages.BY_KEY:
        abort(404)
    target = stages.get(to_key)
    form = move_form_class(target)(obj=ent if request.method == "GET" else None)
    if request.method == "GET":
        form.from_stage.data = ent.stage
        form.occurred_on.data = local_today()
    elif form.from_stage.data not in stages.BY_KEY:
        abort(400)  # the hidden field holds what the page was made with: anything else is not ours
    key = form.ensure_key()
    refused_files = []
    if request.method == "POST":
        done = sync.answer_resend(form, "建会进度变更")
        if done is not None:
            return done
        key = form.form_key.data  # a refused key was replaced: the files go with the new one
        refused_files = _stage_documents(form, ent, key)
    kind = stages.move_kind(form.from_stage.data or ent.stage, to_key) \
        if to_key != (form.from_stage.data or ent.stage) else None
    valid = form.validate_on_submit()
    _show_refused_files(form, refused_files)
    if valid and not refused_files:
        evidence = {ev.name: form[f"ev_{ev.name}"].data for ev in target.evidence
                    if f"ev_{ev.name}" in form}
        evidence["text"] = form.evidence_text.data
        union = {name: form[name].data for name in form._fields if name.startswith("union_")
                 or name == "member_count"}
        try:
            services.move(ent, to_key, current_user, expected_from=form.from_stage.data,
                          occurred_on=form.occurred_on.data, note=form.note.data,
                          evidence=evidence, union=union, sent=form.sent,
                          documents=(key, form.document_kind.data, form.document_title.data))
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            return sync.saved(url_for("enterprises.show", ent_id=ent.id) + "#founding", True, "建会进度变更",
                              form.form_key.data, f"建会进度已更新为“{target.label}”")
    return render_template("founding/move.html", ent=ent, form=form, target=target, kind=kind,
                           kind_label=stages.MOVE_KINDS.label(kind) if kind else "",
                           note_required=kind in stages.NOTE_REQUIRED,
                           pending=documents.pending(ent, key, current_user)), sync.refused_status(form)


# ---- 建会材料: the scanned documents of a step ---------------------------------------------

@sync.landing("stage_docs")
def _documents_landing(record_id):
    event = FoundingEvent.get_or_none(FoundingEvent.id == record_id)
    return url_for("enterprises.show", ent_id=event.enterprise_id) + f"#founding-{event.id}" if event else None


def _stage_documents(form, ent, key) -> list[str]:
    return documents.stage(request.files.getlist("documents"), ent, key, current_user,
                           form.document_kind.data, form.document_title.data)


def _show_refused_files(form, messages):
    """The files refused, next to the file field (validation has set its errors by now)."""
    if messages:
        form.documents.errors = list(form.documents.errors or []) + messages


def _event_or_404(ent, event_id) -> FoundingEvent:
    event = FoundingEvent.get_or_none(FoundingEvent.id == event_id, FoundingEvent.enterprise == ent.id)
    if event is None:
        abort(404)
    return event


def get_document_or_404(ent_id, doc_id) -> FoundingDocument:
    """A document of a file the user may see (404 otherwise, archived ones included); a pending one
    only to its uploader."""
    ent = get_enterprise_or_404(ent_id)
    doc = FoundingDocument.get_or_none(FoundingDocument.id == doc_id, FoundingDocument.enterprise == ent.id)
    if doc is None or doc.archived:
        abort(404)
    if doc.event_id is None and doc.uploaded_by_id != current_user.id:
        abort(404)
    return doc


@bp.route("/<int:ent_id>/founding/<int:event_id>/documents", methods=["GET", "POST"])
@login_required
def add_documents(ent_id, event_id):
    """添加材料 to a saved step of the track."""
    require("edit_records")
    ent = get_enterprise_or_404(ent_id)
    event = _event_or_404(ent, event_id)
    back = url_for("enterprises.show", ent_id=ent.id) + f"#founding-{event.id}"
    if ent.archived:
        flash("该档案已归档，不能再添加建会材料", "error")
        return redirect(back)
    form = DocumentsForm()
    if request.method == "GET":
        form.document_kind.data = STAGE_DOCUMENT_KIND.get(event.to_stage, "other")
    key = form.ensure_key()
    refused_files = []
    if request.method == "POST":
        done = sync.answer_resend(form, "建会材料")
        if done is not None:
            return done
        key = form.form_key.data
        refused_files = _stage_documents(form, ent, key)
    valid = form.validate_on_submit()
    _show_refused_files(form, refused_files)
    if valid and not refused_files:
        if not documents.pending(ent, key, current_user):
            form.documents.errors = list(form.documents.errors or []) + ["请选择要上传的 PDF、JPEG 或 PNG 文件"]
        else:
            try:
                added, created = documents.add(event, form.sent, current_user, form.document_kind.data,
                                               form.document_title.data)
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                message = f"已添加 {len(added)} 份建会材料" if added else "这些文件已在该步骤的材料中，没有重复添加"
                return sync.saved(back, created, "建会材料", key, message)
    return render_template("founding/documents.html", ent=ent, event=event, form=form,
                           pending=documents.pending(ent, key, current_user),
                           existing=documents.of_events([event.id]).get(event.id, [])), sync.refused_status(form)


@bp.route("/<int:ent_id>/founding/documents/<int:doc_id>")
@login_required
def document(ent_id, doc_id):
    """The file itself, as a download under its own name."""
    doc = get_document_or_404(ent_id, doc_id)
    response = storage.send(documents.key_of(doc), mimetype=doc.content_type, max_age=3600)
    if response is None:
        abort(404)
    response.headers["Content-Disposition"] = _attachment(doc)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _attachment(doc) -> str:
    """attachment; an ASCII name for old clients and the real one (RFC 5987: UTF-8, quoted)."""
    name = doc.download_name
    fallback = "".join(c for c in name if c.isascii() and (c.isalnum() or c in "._-"))
    if not fallback.removesuffix(doc.extension).strip("._-"):
        fallback = f"document-{doc.id}{doc.extension}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.route("/<int:ent_id>/founding/documents/<int:doc_id>/remove", methods=["POST"])
@login_required
def remove_document(ent_id, doc_id):
    require("edit_records")
    doc = get_document_or_404(ent_id, doc_id)
    if doc.event_id is None:  # a pending document goes with its form
        abort(404)
    documents.remove(doc, current_user)
    flash("已移除建会材料（变更记录中保留）", "success")
    return redirect(url_for("enterprises.show", ent_id=ent_id) + f"#founding-{doc.event_id}")
