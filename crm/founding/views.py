from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from crm.common.errors import ServiceError
from crm.common.timeutil import local_today
from crm.enterprises.views import get_enterprise_or_404
from crm.founding import services, stages
from crm.founding.forms import move_form_class
from crm.founding.models import FoundingEvent
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
    form.ensure_key()
    if request.method == "POST":
        done = sync.answer_resend(form, "建会进度变更")
        if done is not None:
            return done
    kind = stages.move_kind(form.from_stage.data or ent.stage, to_key) \
        if to_key != (form.from_stage.data or ent.stage) else None
    if form.validate_on_submit():
        evidence = {ev.name: form[f"ev_{ev.name}"].data for ev in target.evidence
                    if f"ev_{ev.name}" in form}
        evidence["text"] = form.evidence_text.data
        union = {name: form[name].data for name in form._fields if name.startswith("union_")
                 or name == "member_count"}
        try:
            services.move(ent, to_key, current_user, expected_from=form.from_stage.data,
                          occurred_on=form.occurred_on.data, note=form.note.data,
                          evidence=evidence, union=union, sent=form.sent)
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            return sync.saved(url_for("enterprises.show", ent_id=ent.id) + "#founding", True, "建会进度变更",
                              form.form_key.data, f"建会进度已更新为“{target.label}”")
    return render_template("founding/move.html", ent=ent, form=form, target=target, kind=kind,
                           kind_label=stages.MOVE_KINDS.label(kind) if kind else "",
                           note_required=kind in stages.NOTE_REQUIRED), sync.refused_status(form)
