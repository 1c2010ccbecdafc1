"""The pages of a kind of field-work record, declared once: 记录 (the new form), the record's
page, editing against its version, archive and restore, the ledger (台账) with its filters and
its Excel export. A kind subclasses RecordPages with its form, its services, its columns (one
list for the ledger's table and its workbook) and its details; `blueprint()` makes the routes.

Each route: load the record (out of scope: 404), check the permission rule, process. Writes go
through the kind's services (crm.fieldwork.services underneath), one transaction each."""
from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from crm.auth.models import User
from crm.common.numbers import arg_id
from crm.common.timeutil import local_today
from crm.db import stream_batches
from crm.fieldwork import ledger, registry
from crm.fieldwork import services as records
from crm.fieldwork import views as fw
from crm.fieldwork.forms import ArchiveRecordForm, int_list
from crm.fieldwork.inputs import pickable
from crm.jobs import views as jobs
from crm.org.queries import unit_choices
from crm.permissions import require, scoped, visible_org_units
from crm.photos import services as photos


@dataclass
class Row:
    """What a ledger row is shown with besides its record: its linked enterprises the reader may
    see, the names of the people (for 记录人), and what else its kind reads for a page of rows
    at once (`extra`: RecordPages.row_extra)."""
    firms: list
    users: dict
    extra: dict = None


@dataclass(frozen=True)
class Column:
    """A ledger column. `value(record, row)` is what the workbook holds and the table shows;
    `cell` says how the table shows it: "text", "number", "date" and "record" (linked to the
    record), "firms" (the linked enterprises), "firm" (one enterprise, `firm(record)`), "badge"
    (with the class `badge(record)`), or "" for the workbook only."""
    label: str
    width: int
    value: Callable
    cell: str = "text"
    firm: Callable | None = None
    badge: Callable | None = None
    truncate: int = 0  # the table shows at most this many characters (0: all)
    shown: Callable | None = None  # (record, row) -> what the table shows, when not `value`
    sub: Callable | None = None    # (record, row) -> a small second line under it in the table
    heading: str = ""              # the table's heading, when shorter than the workbook's label
    nowrap: bool = False


@dataclass(frozen=True)
class Detail:
    """A line of the record's page: its label, its shown value (empty: —), a link (endpoint,
    arguments) or None, and whether it keeps its line breaks."""
    label: str
    value: Callable
    link: Callable | None = None
    pre: bool = False


def staff_choices():
    """People whose records a ledger can be filtered by (记录人): users of the user's scope."""
    return [(u.id, u.name) for u in scoped(User, current_user).order_by(User.name)]


class RecordPages:
    kind = ""            # the registry's key
    name = ""            # the blueprint: trainings, activities …
    noun = ""            # 培训 — the page titles' word
    what = ""            # 培训记录 — what the saved message names
    ledger_title = ""    # 培训台账
    empty = ""           # the empty ledger's sentence
    again = ""           # 再记一次培训 — the record page's button for another one
    templates = ""       # the folder of its form.html
    form_class = None
    columns: list = []
    details: list = []
    filters: dict = {}   # the ledger's filters: kinds, kind_label, groups, statuses
    table: list = []     # the labels of the columns the table shows, in its order (default: all
                         # with a cell, in the workbook's order)
    creatable = True
    show_methods = ("GET",)
    page_rows = None     # a page's query → the query its rows are read with (more columns)

    # ---- what a kind gives ----------------------------------------------------------------------
    # `reads`: its queries module, with ledger(user, args), enterprises_of(ids, user) ({record id:
    # [Enterprise]} the user may see) and enterprise_ids(record); create_record(data, user, sent)
    # and update_record(record, data, user, expected_version): its services.
    reads = None
    create_record = update_record = None

    def ledger_query(self, user, args):
        return self.reads.ledger(user, args)

    def firms_of(self, ids, user) -> dict:
        return self.reads.enterprises_of(ids, user) if hasattr(self.reads, "enterprises_of") else {}

    def firm_ids(self, record) -> list:
        return self.reads.enterprise_ids(record)

    def row_extra(self, records, table: bool = False) -> dict:
        """{record id: {…}}: what a kind's columns read for a page (`table`: only what the table
        shows) or a workbook batch, at once."""
        return {}

    def table_columns(self) -> list:
        if not self.table:
            return [c for c in self.columns if c.cell]
        by_label = {c.label: c for c in self.columns}
        return [by_label[label] for label in self.table]

    def ledger_actions(self) -> list:
        """The ledger's buttons for editors: (label, endpoint, arguments, primary)."""
        return [(f"记录{self.noun}", f"{self.name}.create", {}, True)] if self.creatable else []

    def _rows(self, records, users, table=False) -> list:
        firms = self.firms_of([r.id for r in records], current_user)
        extra = self.row_extra(records, table=table)
        return [(r, Row(firms.get(r.id, []), users, extra.get(r.id, {}))) for r in records]

    def set_archived(self, record, user, archived, reason=""):
        return records.set_archived(self.kind, record, user, archived, reason)

    def prepare(self, form, record=None):
        """The form's choices: the org units the user may record for (their own by default)."""
        choices = unit_choices(visible_org_units(current_user), current_user.org_unit.depth,
                               record.org_unit if record is not None else None)
        form.org_unit.choices = choices
        if form.org_unit.data is None and choices:
            own = current_user.org_unit_id
            form.org_unit.data = own if own in {c[0] for c in choices} else choices[0][0]

    def new_defaults(self, form) -> dict:
        """A new form opened: its defaults; returns what else the form page shows."""
        form.held_on.data = local_today()
        return {}

    def edit_defaults(self, form, record):
        form.org_unit.data = record.org_unit_id
        form.version.data = record.version

    def again_args(self, record) -> dict:
        """The new form's arguments from a record's page (another one like it)."""
        return {}

    def ledger_args(self):
        return ledger.LedgerArgs.from_request(request.args, **{k: v for k, v in self.filters.items()
                                                               if k in ("kinds", "groups", "statuses")})

    # ---- the pages ------------------------------------------------------------------------------

    @property
    def endpoint(self):
        """The record's page (the same as its registered kind's)."""
        return f"{self.name}.show"

    def get(self, record_id):
        return registry.get(self.kind).get_or_404(record_id, current_user)

    def _render_form(self, form, record, selected_ids, keep=(), conflict=None, **extra):
        existing = photos.of(self.kind, record.id) if record is not None else []
        return render_template(f"{self.templates}/form.html", form=form, record=record,
                               selected=pickable(selected_ids, current_user, keep),
                               pending=photos.pending(form.form_key.data, current_user), existing=existing,
                               conflict=conflict, **extra), fw.status(form, conflict)

    def _posted_firms(self):
        return int_list(request.form.getlist("enterprise_ids"))

    def create(self):
        """记录: today and the user's own unit are filled in; ?ent=<id> preselects an enterprise."""
        require("edit_records")
        form = self.form_class()
        self.prepare(form)
        extra = {}
        if request.method == "GET":
            extra = self.new_defaults(form)
            selected = [arg_id(request.args, "ent")] if arg_id(request.args, "ent") else []
        else:
            selected = self._posted_firms()
        form.ensure_key()
        if request.method == "POST":
            done = fw.save_new(form, lambda: self.create_record(form.service_data(selected), current_user, form.sent),
                               self.endpoint, self.what)
            if done is not None:
                return done
        return self._render_form(form, None, selected, **extra)

    def show(self, record_id):
        record = self.get(record_id)
        return render_template("fieldwork/record.html", pages=self, record=record,
                               firms=self.firms_of([record.id], current_user).get(record.id, []),
                               photos=photos.of(self.kind, record.id),
                               changes=records.history(self.kind, record.id), archive_form=ArchiveRecordForm())

    def edit(self, record_id):
        require("edit_records")
        record = self.get(record_id)
        current_ids = self.firm_ids(record)
        form = self.form_class(obj=record if request.method == "GET" else None)
        if request.method == "GET":
            self.edit_defaults(form, record)
            selected = current_ids
        else:
            selected = self._posted_firms()
        self.prepare(form, record)
        form.ensure_key()
        conflict = None
        if request.method == "POST":
            done, conflict = fw.post_edit(form, self.kind, record, lambda: self.update_record(
                record, form.service_data(selected), current_user, form.expected_version()))
            if done is not None:
                return done
        return self._render_form(form, record, selected, keep=current_ids, conflict=conflict)

    def index(self):
        args = self.ledger_args()
        page = ledger.page_of(self.ledger_query(current_user, args), args.page, rows_of=self.page_rows)
        return render_template("fieldwork/ledger.html", pages=self, page=page, args=args,
                               rows=self._rows(page.rows, {}, table=True),
                               units=visible_org_units(current_user, active_only=False),
                               staff=staff_choices(), **self.index_extra(args))

    def index_extra(self, args) -> dict:
        return {}

    def export(self):
        args = self.ledger_args()
        query = self.ledger_query(current_user, args)
        long = jobs.offer_if_long(query, self.ledger_title)  # more than EXPORT_INLINE_ROWS: a job
        if long is not None:
            return long
        if self.page_rows is not None:
            query = self.page_rows(query)
        users = dict(User.select(User.id, User.name).tuples())
        columns = [(c.label, c.width) for c in self.columns]

        def rows():
            for batch in stream_batches(query):
                for r, row in self._rows(batch, users):
                    yield [c.value(r, row) for c in self.columns]

        return ledger.xlsx_response(self.ledger_title, self.ledger_title, columns, rows())

    def ledger_routes(self, bp: Blueprint, prefix: str = ""):
        """The ledger and its workbook on `bp` (a kind with pages of its own takes just these)."""
        bp.add_url_rule(f"{prefix}/", "index", login_required(self.index))
        bp.add_url_rule(f"{prefix}/export.xlsx", "export", login_required(self.export), methods=["GET", "POST"])

    def blueprint(self, url_prefix: str) -> Blueprint:
        bp = Blueprint(self.name, __name__, url_prefix=url_prefix)
        self.ledger_routes(bp)
        bp.add_url_rule("/<int:record_id>", "show", login_required(self.show), methods=list(self.show_methods))
        if self.creatable:
            bp.add_url_rule("/new", "create", login_required(self.create), methods=["GET", "POST"])
            bp.add_url_rule("/<int:record_id>/edit", "edit", login_required(self.edit), methods=["GET", "POST"])
        fw.archive_routes(bp, "/<int:record_id>", lambda record_id, user: self.get(record_id),
                          self.set_archived, self.endpoint)
        return bp


def firm_names(record, row) -> str:
    return "、".join(e.name for e in row.firms)


RECORDER = Column("记录人", 10, lambda r, row: row.users.get(r.created_by_id, ""), cell="")
