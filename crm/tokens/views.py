"""我的账号 → API 令牌: a person's own tokens (create, see, revoke)."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from crm.common.errors import ServiceError
from crm.common.numbers import to_id
from crm.common.timeutil import utcnow
from crm.permissions import reads_only
from crm.tokens import services
from crm.tokens.forms import TokenForm
from crm.tokens.models import ApiToken

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


def _page(form, made=None, status=200):
    if reads_only(current_user):
        form.scope.choices = [c for c in form.scope.choices if c[0] == "read"]
    return render_template("tokens/index.html", form=form, rows=services.of_user(current_user), made=made,
                           now=utcnow(), scopes=services.SCOPES), status


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            row, token = services.create(current_user, form.name.data, form.scope.data, int(form.days.data))
        except ServiceError as exc:
            form.show_service_error(exc)
        else:
            # Shown once, on this answer only (it is not kept); the page asks not to be cached.
            return _page(TokenForm(formdata=None), made=(row, token))
    return _page(form, status=422 if form.errors else 200)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id):
    row = ApiToken.get_or_none(ApiToken.id == to_id(token_id), ApiToken.user == current_user.id)
    if row is None:  # another person's token does not exist here
        abort(404)
    services.revoke(row, current_user)
    flash(f"已撤销令牌“{row.name}”", "success")
    return redirect(url_for(".index"))
