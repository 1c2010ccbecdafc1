from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from crm.auth.models import User
from crm.common.errors import ServiceError
from crm.common.timeutil import fmt_date
from crm.db import stream
from crm.fieldwork import ledger
from crm.fieldwork import services as records
from crm.fieldwork import views as fw
from crm.fieldwork.choices import NEED_CATEGORIES, NEED_STATUSES
from crm.fieldwork.forms import ArchiveRecordForm
from crm.followups.queries import of_need
from crm.needs import queries, services
from crm.needs.forms import NeedForm
from crm.needs.kind import get_need_or_404
from crm.permissions import require, scoped, visible_org_units

bp = Blueprint("needs", __name__, url_prefix="/needs")


def _args():
    return ledger.LedgerArgs.from_request(request.args, kinds=NEED_CATEGORIES, statuses=NEED_STATUSES)


def _open_default(args):
    """The list opens on what is still open; 状态 picks any other view."""
    return not args.status and "status" not in request.args


@bp.route("/")
@login_required
def index():
    args = _args()
    page = ledger.page_of(queries.ledger(current_user, args, open_only=_open_default(args)), args.page)
    staff = [(u.id, u.name) for u in scoped(User, current_user).order_by(User.name)]
    return render_template("needs/index.html", page=page, args=args, staff=staff,
                           units=visible_org_units(current_user, active_only=False),
                           NEED_CATEGORIES=NEED_CATEGORIES, NEED_STATUSES=NEED_STATUSES,
                           open_default=_open_default(args))


COLUMNS = [("提出日期", 12), ("企业/来源", 36), ("所属工会", 22), ("类别", 12), ("需求意见说明", 50),
           ("处理状态", 10), ("解决情况", 40), ("解决日期", 12), ("记录人", 10)]


@bp.route("/export.xlsx")
@login_required
def export():
    args = _args()
    query = queries.ledger(current_user, args, open_only=_open_default(args))
    users = dict(User.select(User.id, User.name).tuples())

    def rows():
        for n in stream(query):
            source = n.enterprise.name if n.enterprise_id else ("沟通会" if n.meeting_id else "")
            yield [fmt_date(n.raised_on), source, n.org_unit.name, NEED_CATEGORIES.label(n.category), n.detail,
                   NEED_STATUSES.label(n.status), n.resolution, fmt_date(n.resolved_on),
                   users.get(n.created_by_id, "")]

    return ledger.xlsx_response("需求意见台账", "需求意见台账", COLUMNS, rows())


@bp.route("/<int:record_id>", methods=["GET", "POST"])
@login_required
def show(record_id):
    """The need and, for editors, its handling form (status, resolution) on the same page."""
    need = get_need_or_404(record_id, current_user)
    form = NeedForm(obj=need if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = need.version
    conflict = None
    if request.method == "POST":
        require("edit_records")
        key = form.ensure_key()
        if form.validate_on_submit():
            try:
                services.update_need(need, form.data, current_user, form.expected_version())
            except records.StaleRecord as exc:
                conflict = exc
                form.version.data = exc.current.version
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                return fw.saved(need, True, "needs.show", "处理情况", key)
    return render_template("needs/show.html", need=need, form=form, conflict=conflict,
                           changes=records.history("need", need.id), archive_form=ArchiveRecordForm(),
                           NEED_CATEGORIES=NEED_CATEGORIES, followups=_followups(need.id)), 409 if conflict else 200


def _followups(need_id):
    return of_need(need_id)


fw.archive_routes(bp, "/<int:record_id>", get_need_or_404, services.set_archived, "needs.show")
