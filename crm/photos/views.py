"""Photos are served only to users who may see their record (pending ones to their uploader)."""
from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user, login_required

from crm import storage
from crm.fieldwork import registry
from crm.permissions import require
from crm.photos import services
from crm.photos.models import Photo

bp = Blueprint("photos", __name__, url_prefix="/photos")


def get_photo_or_404(photo_id) -> Photo:
    photo = Photo.get_or_none(Photo.id == photo_id)
    if photo is None or photo.archived:
        abort(404)
    if photo.kind is None:
        if photo.uploaded_by_id != current_user.id:
            abort(404)
    else:
        registry.get(photo.kind).get_or_404(photo.record_id, current_user)
    return photo


def _send(photo, thumb):
    response = storage.send(services.key_of(photo, thumb=thumb), mimetype="image/jpeg", max_age=3600)
    if response is None:
        abort(404)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/<int:photo_id>")
@login_required
def show(photo_id):
    return _send(get_photo_or_404(photo_id), thumb=False)


@bp.route("/<int:photo_id>/thumb")
@login_required
def thumb(photo_id):
    return _send(get_photo_or_404(photo_id), thumb=True)


@bp.route("/<int:photo_id>/remove", methods=["POST"])
@login_required
def remove(photo_id):
    require("edit_records")
    photo = get_photo_or_404(photo_id)
    if photo.kind is None:  # a pending photo goes with its form
        abort(404)
    services.remove(photo, current_user)
    flash("已移除照片（修改记录中保留）", "success")
    kind = registry.get(photo.kind)
    return redirect(url_for(kind.endpoint, record_id=photo.record_id) + "#photos")
