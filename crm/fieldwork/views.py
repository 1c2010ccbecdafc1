"""View helpers every field-work form shares: photos that come with the form, the saved
redirect (which also tells the browser to drop its local draft), the archive buttons."""
from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required

from crm.common.errors import ServiceError
from crm.common.timeutil import utcnow
from crm.db import db
from crm.fieldwork import registry
from crm.fieldwork.forms import ArchiveRecordForm
from crm.fieldwork.models import RecordChange
from crm.fieldwork.services import StaleRecord
from crm.permissions import require
from crm.photos import services as photos
from crm.sync import views as sync


def stage_photos(form) -> bool:
    """Keep the form's uploaded photos as pending; refused files get a message on the form."""
    errors = photos.stage(request.files.getlist("photos"), form.ensure_key(), current_user)
    form.photo_errors = errors
    return not errors


for _kind in ("visit", "meeting", "point", "training", "activity"):
    sync.landing(_kind)(lambda record_id, kind=_kind: url_for(registry.get(kind).endpoint, record_id=record_id))


def already_saved(form, what: str):
    """A re-sent form whose content was saved under its key goes straight to its record, before
    any validation (the record may have changed what the form offers, e.g. the stage); a key saved
    with other content is refused on the form (see crm.sync)."""
    return sync.answer_resend(form, what)


def status(form, conflict=None) -> int:
    return 409 if conflict else sync.refused_status(form)


def attach_on_edit(kind: str, record, form_key: str, user, edited_version: int):
    """Photos added while editing `edited_version`: attached and in the history, as part of the
    version that edit made (or as a new version when the edit changed nothing else)."""
    with db.atomic():
        added = photos.attach(kind, record.id, form_key, user)
        if added:
            model = registry.get(kind).model
            version = model.get_by_id(record.id).version
            if version == edited_version:
                version += 1
                model.update(version=version, updated_at=utcnow(), updated_by=user) \
                    .where(model.id == record.id).execute()
            RecordChange.create(kind=kind, record_id=record.id, user=user, version=version,
                                field="照片", old_value="", new_value=f"新增 {added} 张")
    return added


def saved(record, created: bool, endpoint: str, what: str, form_key: str):
    # The page we land on tells the browser to forget the draft of this form key.
    return sync.saved(url_for(endpoint, record_id=record.id), created, what, form_key)


def archive_routes(bp, rule: str, getter, set_archived, endpoint: str, prefix: str = ""):
    """POST `<rule>/archive` (with a reason) and `<rule>/restore` for one kind of record, as the
    endpoints `<prefix>archive` and `<prefix>restore` of `bp`. Editors only; out of scope is 404."""
    def change(record_id, archive):
        require("edit_records")
        return archive_or_restore(set_archived, getter(record_id, current_user), endpoint, archive)

    bp.add_url_rule(f"{rule}/archive", f"{prefix}archive", login_required(lambda record_id: change(record_id, True)),
                    methods=["POST"])
    bp.add_url_rule(f"{rule}/restore", f"{prefix}restore",
                    login_required(lambda record_id: change(record_id, False)), methods=["POST"])


def save_new(form, create, endpoint: str, what: str):
    """The POST of a creating form: a re-sent key goes to its record; else its photos,
    validation and `create()` -> (record, created). Returns the response, or None: the form goes
    back with its messages."""
    done = already_saved(form, what)
    if done is not None:
        return done
    key = form.form_key.data
    photos_ok = stage_photos(form)
    if form.validate_on_submit() and photos_ok:
        try:
            record, created = create()
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            return saved(record, created, endpoint, what, key)
    return None


def save_version(form, update, record, endpoint: str, what: str, ready: bool = True):
    """The POST of a form saved against the version it was opened on: validation, then
    `update()`. Returns (response, conflict): the redirect once saved, else the StaleRecord to
    show (or None: the form goes back with its messages)."""
    key = form.ensure_key()
    if not (form.validate_on_submit() and ready):
        return None, None
    try:
        update()
    except StaleRecord as exc:
        form.version.data = exc.current.version
        return None, exc
    except ServiceError as exc:
        form.show_service_error(exc)
        return None, None
    return saved(record, True, endpoint, what, key), None


def post_edit(form, kind: str, record, update):
    """The POST of an edit form with photos: save_version, and the photos added with the edit."""
    key = form.ensure_key()
    photos_ok = stage_photos(form)

    def with_photos():
        update()
        attach_on_edit(kind, record, key, current_user, form.expected_version())
    return save_version(form, with_photos, record, registry.get(kind).endpoint, "修改", ready=photos_ok)


def archive_or_restore(set_archived, record, endpoint: str, archive: bool):
    if archive:
        form = ArchiveRecordForm()
        if not form.validate_on_submit():
            flash("请填写归档原因", "error")
            return redirect(url_for(endpoint, record_id=record.id))
        try:
            set_archived(record, current_user, True, form.reason.data)
        except ServiceError as exc:
            flash(str(exc), "error")
        else:
            flash("已归档。记录仍可查阅，可随时恢复。", "success")
    else:
        set_archived(record, current_user, False)
        flash("已恢复", "success")
    return redirect(url_for(endpoint, record_id=record.id))
