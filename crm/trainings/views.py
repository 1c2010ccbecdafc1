"""培训: the ledger (台账) with its Excel export, recording, the record page, editing, archiving."""
from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.common.timeutil import fmt_date, local_today
from crm.db import stream_batches
from crm.fieldwork import ledger, services as records, views as fw
from crm.fieldwork.choices import TRAINING_CATEGORIES
from crm.fieldwork.forms import ArchiveRecordForm, int_list
from crm.fieldwork.inputs import pickable
from crm.org.queries import unit_choices
from crm.permissions import require, scoped, visible_org_units
from crm.photos import services as photos
from crm.trainings import queries, services
from crm.trainings.forms import TrainingForm
from crm.trainings.kind import get_training_or_404, hours_text
from crm.common.numbers import arg_id

bp = Blueprint("trainings", __name__, url_prefix="/trainings")
WHAT = "培训记录"


def _org_choices(form, record=None):
    choices = unit_choices(visible_org_units(current_user), current_user.org_unit.depth,
                           record.org_unit if record is not None else None)
    form.org_unit.choices = choices
    if form.org_unit.data is None and choices:
        own = current_user.org_unit_id
        form.org_unit.data = own if own in {c[0] for c in choices} else choices[0][0]


def _posted_enterprises():
    return int_list(request.form.getlist("enterprise_ids"))


def _render_form(form, record, selected_ids, keep=(), conflict=None):
    key = form.form_key.data
    existing = photos.of("training", record.id) if record is not None else []
    return render_template("trainings/form.html", form=form, record=record,
                           selected=pickable(selected_ids, current_user, keep),
                           pending=photos.pending(key, current_user), existing=existing,
                           conflict=conflict), fw.status(form, conflict)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    """记录培训: today and the user's own unit are filled in; ?ent=<id> preselects a served
    enterprise (the enterprise file links here)."""
    require("edit_records")
    form = TrainingForm()
    _org_choices(form)
    if request.method == "GET":
        form.held_on.data = local_today()
        selected = [arg_id(request.args, "ent")] if arg_id(request.args, "ent") else []
    else:
        selected = _posted_enterprises()
    key = form.ensure_key()
    if request.method == "POST":
        done = fw.already_saved(form, WHAT)
        if done is not None:
            return done
        key = form.form_key.data
        photos_ok = fw.stage_photos(form)
        if form.validate_on_submit() and photos_ok:
            try:
                training, created = services.create_training(form.service_data(selected), current_user, form.sent)
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                return fw.saved(training, created, "trainings.show", WHAT, key)
    return _render_form(form, None, selected)


@bp.route("/<int:record_id>")
@login_required
def show(record_id):
    training = get_training_or_404(record_id, current_user)
    served = queries.enterprises_of([training.id], current_user).get(training.id, [])
    return render_template("trainings/show.html", training=training, served=served,
                           hours=hours_text(training.hours), photos=photos.of("training", training.id),
                           changes=records.history("training", training.id), archive_form=ArchiveRecordForm(),
                           TRAINING_CATEGORIES=TRAINING_CATEGORIES)


@bp.route("/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit(record_id):
    require("edit_records")
    training = get_training_or_404(record_id, current_user)
    current_ids = queries.enterprise_ids(training)
    form = TrainingForm(obj=training if request.method == "GET" else None)
    if request.method == "GET":
        form.org_unit.data = training.org_unit_id
        form.version.data = training.version
        selected = current_ids
    else:
        selected = _posted_enterprises()
    _org_choices(form, training)
    form.ensure_key()
    conflict = None
    if request.method == "POST":
        done, conflict = fw.post_edit(form, "training", training, lambda: services.update_training(
            training, form.service_data(selected), current_user, form.expected_version()))
        if done is not None:
            return done
    return _render_form(form, training, selected, keep=current_ids, conflict=conflict)


fw.archive_routes(bp, "/<int:record_id>", get_training_or_404, services.set_archived, "trainings.show")


# ---- 台账 -------------------------------------------------------------------------------

def _args():
    return ledger.LedgerArgs.from_request(request.args, kinds=TRAINING_CATEGORIES)


def staff_choices():
    """People whose records the ledger can be filtered by (记录人): users of the user's scope."""
    return [(u.id, u.name) for u in scoped(User, current_user).order_by(User.name)]


@bp.route("/")
@login_required
def index():
    args = _args()
    page = ledger.page_of(queries.ledger(current_user, args), args.page)
    served = queries.enterprises_of([t.id for t in page.rows], current_user)
    return render_template("trainings/index.html", page=page, args=args, served=served,
                           units=visible_org_units(current_user, active_only=False), staff=staff_choices(),
                           TRAINING_CATEGORIES=TRAINING_CATEGORIES, hours_text=hours_text)


COLUMNS = [("日期", 12), ("培训名称", 36), ("类别", 14), ("学时", 8), ("授课人", 14), ("组织单位", 22),
           ("服务企业", 40), ("参训人数", 10), ("内容摘要", 50), ("记录人", 10)]


@bp.route("/export.xlsx")
@login_required
def export():
    args = _args()
    query = queries.ledger(current_user, args)

    def rows():
        users = dict(User.select(User.id, User.name).tuples())
        for batch in stream_batches(query):
            yield from _rows(batch, users)

    return ledger.xlsx_response("培训台账", "培训台账", COLUMNS, rows())


def _rows(batch, users):
    served = queries.enterprises_of([t.id for t in batch], current_user)
    for t in batch:
        yield [fmt_date(t.held_on), t.title, TRAINING_CATEGORIES.label(t.category), hours_text(t.hours),
               t.trainer, t.org_unit.name, "、".join(e.name for e in served.get(t.id, [])), t.participants,
               t.summary, users.get(t.created_by_id, "")]
