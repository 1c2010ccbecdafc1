from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from crm.common.errors import ServiceError
from crm.common.timeutil import fmt_date, fmt_dt, local_now, local_today
from crm.enterprises.queries import lookup
from crm.enterprises.views import get_enterprise_or_404
from crm.fieldwork import services as records
from crm.fieldwork import views as fw
from crm.fieldwork.choices import NEED_CATEGORIES, VISIT_KINDS, VISIT_PURPOSES, labels
from crm.fieldwork.forms import ArchiveRecordForm
from crm.fieldwork.pages import RECORDER, Column, RecordPages
from crm.followups import queries as followup_queries
from crm.followups.models import OPEN, FollowUp
from crm.followups.queries import of_visit
from crm.followups.services import can_work
from crm.enterprises.models import Contact
from crm.needs.forms import with_raised
from crm.needs.models import Need
from crm.needs.services import raised_by
from crm.org.models import OrgUnit
from crm.permissions import get_or_404, require
from crm.photos import services as photos
from crm.visits import queries, services
from crm.visits.forms import CommentForm, VisitForm
from crm.visits.kind import get_visit_or_404, met_of, met_text
from crm.visits.models import VisitContact

bp = Blueprint("visits", __name__)


def _contacts(ent, linked=()):
    """The file's contacts to pick from (an edit keeps the ones the visit names)."""
    return list(Contact.select().where(Contact.enterprise == ent.id,
                                       (Contact.archived == False) | Contact.id.in_(list(linked) or [0]))  # noqa: E712
                .order_by(Contact.is_primary.desc(), Contact.id))


def _prepare(form, ent, include=()):
    form.visitor_ids.choices = queries.visitor_choices(ent, current_user, include)
    form.move_to.choices = [("", "不变更")] + [(s.key, s.label) for s in services.MOVE_TARGETS
                                              if s.key != ent.stage]
    return {c[0] for c in form.visitor_ids.choices}


@bp.route("/visits/new")
@login_required
def pick():
    """记录走访 from the home page: find the firm (or take one from my tasks or my last visits),
    then one tap opens its visit form."""
    require("edit_records")
    q = (request.args.get("q") or "").strip()[:100]
    found = lookup(current_user, q, limit=30) if q else None
    tasks, recent = ([], []) if q else followup_queries.firms_to_visit(current_user)
    return render_template("visits/pick.html", q=q, found=found, tasks=tasks, recent=recent)


@bp.route("/enterprises/<int:ent_id>/visits/new", methods=["GET", "POST"])
@login_required
def create(ent_id):
    """记录走访: the enterprise, today, now and the current user are filled in."""
    require("edit_records")
    ent = get_enterprise_or_404(ent_id)
    form = VisitForm()
    if request.method == "POST":
        done = fw.already_saved(form, "走访记录")
        if done is not None:
            return done
    if ent.archived:
        flash("该档案已归档，不能再记录走访", "error")
        return redirect(url_for("enterprises.show", ent_id=ent.id))
    allowed = _prepare(form, ent)
    followup = _followup_to_complete(ent)
    if request.method == "GET":
        form.visited_on.data = local_today()
        form.visit_time.data = local_now().time().replace(second=0, microsecond=0)
        form.visitor_ids.data = [current_user.id]
        if followup is not None:
            form.purposes.data = FOLLOWUP_PURPOSES.get(followup.rule or followup.source, [])
        # The one field every visit needs: the keyboard is ready for it when the form opens.
        form.summary.render_kw = {**(form.summary.render_kw or {}), "autofocus": True}
    key = form.ensure_key()
    if request.method == "POST":
        photos_ok = fw.stage_photos(form)
        if form.validate_on_submit() and photos_ok:
            try:
                visit, created = services.create_visit(ent, form.service_data(), current_user, form.sent, allowed,
                                                       followup_id=followup.id if followup else None)
            except ServiceError as exc:
                form.show_service_error(exc)
            else:
                if created:
                    _say_if_completed(followup, visit)
                return fw.saved(visit, created, "visits.show", "走访记录", key)
    return render_template("visits/form.html", form=form, ent=ent, visit=None, followup=followup,
                           contacts=_contacts(ent), pending=photos.pending(key, current_user), existing=[],
                           conflict=None), fw.status(form)


# What a visit logged from a follow-up is for, by the suggestion rule or source behind it.
FOLLOWUP_PURPOSES = {"stalled": ["founding"], "term": ["founding"], "never": ["founding", "policy"],
                     "need": ["member_service"]}


def _followup_to_complete(ent):
    """The follow-up saving this visit completes: ?followup=ID on the way in (记录走访 on a task),
    the ticked box on the way back; opened from the file, the user's own soonest open task for
    this firm is offered (ticked). None when there is none the user may complete."""
    raw = request.form.get("followup_id") if request.method == "POST" else request.args.get("followup")
    if not raw:
        if request.method == "POST":
            return None
        return (FollowUp.select().where(FollowUp.enterprise == ent.id, FollowUp.assignee == current_user.id,
                                        FollowUp.status.in_(OPEN)).order_by(FollowUp.due_on).first())
    fu = get_or_404(FollowUp, raw, current_user)
    if fu.enterprise_id != ent.id:
        abort(404)
    if not fu.is_open or not can_work(current_user, fu):
        flash(f"跟进任务“{fu.title}”{fu.status_label}，这次走访将单独保存" if not fu.is_open
              else "这条跟进任务不是分派给您的，这次走访将单独保存", "info")
        return None
    return fu


def _say_if_completed(followup, visit):
    """After the save: whether the task was completed by it (a task closed or reassigned
    meanwhile is left as it is, and the user is told)."""
    if followup is None:
        return
    fu = FollowUp.get_by_id(followup.id)
    if fu.status == "done" and fu.completed_visit_id == visit.id:
        flash(f"跟进任务“{fu.title}”已完成", "success")
    else:
        flash(f"跟进任务“{fu.title}”没有随这次走访完成：它已{fu.status_label if not fu.is_open else '转派给' + fu.assignee.name}",
              "warning")


@bp.route("/visits/<int:record_id>")
@login_required
def show(record_id):
    visit = get_visit_or_404(record_id, current_user)
    names = queries.visitors_of([visit.id]).get(visit.id, [])
    needs = list(Need.select().where(Need.visit == visit.id).order_by(Need.id))
    met = list(Contact.select().join(VisitContact, on=(VisitContact.contact == Contact.id))
               .where(VisitContact.visit == visit.id).order_by(VisitContact.id))
    followups_done, followups_made = of_visit(visit.id)
    return render_template("visits/show.html", visit=visit, record=visit, ent=visit.enterprise, visitors=names,
                           met=met,
                           needs=needs, comments=queries.comments(visit), followups_done=followups_done,
                           followups_made=followups_made, today=local_today(), photos=photos.of("visit", visit.id),
                           changes=records.history("visit", visit.id), comment_form=CommentForm(),
                           archive_form=ArchiveRecordForm(), VISIT_KINDS=VISIT_KINDS,
                           purposes=labels(VISIT_PURPOSES, visit.purposes), NEED_CATEGORIES=NEED_CATEGORIES)


@bp.route("/visits/<int:record_id>/edit", methods=["GET", "POST"])
@login_required
def edit(record_id):
    require("edit_records")
    visit = get_visit_or_404(record_id, current_user)
    ent = visit.enterprise
    current_visitors = queries.visitor_ids(visit)
    linked = [r.contact_id for r in VisitContact.select(VisitContact.contact).where(VisitContact.visit == visit.id)
              .order_by(VisitContact.id)]
    raised = raised_by(visit=visit.id)
    form = with_raised(VisitForm, raised)(obj=visit if request.method == "GET" else None)
    allowed = _prepare(form, ent, include=current_visitors)
    if request.method == "GET":
        form.purposes.data = [p for p in visit.purposes.split(",") if p]
        form.visitor_ids.data = current_visitors
        form.contact_ids.data = linked
        for n in raised:
            getattr(form, f"raised_{n.id}").data = n.detail
            getattr(form, f"raised_{n.id}_v").data = str(n.version)
        form.version.data = visit.version
    key = form.ensure_key()
    conflict = None
    if request.method == "POST":
        done, conflict = fw.post_edit(form, "visit", visit, lambda: services.update_visit(
            visit, form.service_data(), current_user, form.expected_version(), allowed))
        if done is not None:
            return done
    return render_template("visits/form.html", form=form, ent=ent, visit=visit, contacts=_contacts(ent, linked),
                           pending=photos.pending(key, current_user), existing=photos.of("visit", visit.id),
                           conflict=conflict), 409 if conflict else 200


fw.archive_routes(bp, "/visits/<int:record_id>", get_visit_or_404, services.set_archived, "visits.show")


@bp.route("/visits/<int:record_id>/comments", methods=["POST"])
@login_required
def comment(record_id):
    require("supervise")
    visit = get_visit_or_404(record_id, current_user)
    form = CommentForm()
    if form.validate_on_submit():
        services.add_comment(visit, form.text.data, current_user)
        flash("已添加点评", "success")
    else:
        flash("请填写点评内容", "error")
    return redirect(url_for(".show", record_id=visit.id) + "#comments")


# ---- 台账 -------------------------------------------------------------------------------

def _needs_of(ids) -> dict:
    """{visit id: ["法律咨询：劳动合同咨询", …]}: each need raised with its own note."""
    text = {}
    for n in Need.select(Need.visit, Need.category, Need.detail).where(Need.visit.in_(list(ids))).order_by(Need.id):
        label = NEED_CATEGORIES.label(n.category)
        text.setdefault(n.visit_id, []).append(f"{label}：{n.detail}" if n.detail else label)
    return text


class VisitLedger(RecordPages):
    """走访台账 and its workbook on the kernel; a visit's own pages are below (its form carries the
    visitors, a founding move and the follow-up it completes)."""
    kind, name, noun, what = "visit", "visits", "走访", "走访记录"
    ledger_title, empty = "走访台账", "没有符合条件的走访记录。"
    creatable = False
    reads = queries
    page_rows = staticmethod(queries.with_firms)
    filters = {"kinds": VISIT_KINDS, "kind_label": "走访方式"}
    table = ["走访日期", "企业名称", "走访方式", "走访人", "内容摘要"]
    columns = [
        Column("走访日期", 12, lambda v, row: fmt_date(v.visited_on), cell="date", heading="日期"),
        Column("时间", 8, lambda v, row: v.visit_time.strftime("%H:%M") if v.visit_time else "", cell=""),
        Column("企业名称", 36, lambda v, row: v.enterprise.name, cell="firm", firm=lambda v: v.enterprise.id,
               heading="企业"),
        Column("所属工会", 22, lambda v, row: row.extra.get("unit", ""), cell=""),
        Column("走访方式", 14, lambda v, row: VISIT_KINDS.label(v.kind), heading="方式", nowrap=True),
        Column("走访目的", 22, lambda v, row: labels(VISIT_PURPOSES, v.purposes), cell=""),
        Column("走访人", 18, lambda v, row: "、".join(row.extra.get("visitors", [])), nowrap=True),
        Column("见到的联系人", 20, lambda v, row: met_text(row.extra.get("met", []), v.contacts_met), cell=""),
        Column("内容摘要", 50, lambda v, row: v.summary, cell="record", truncate=60),
        Column("需求意见", 30, lambda v, row: "；".join(row.extra.get("needs", [])), cell=""),
        Column("走访结果", 30, lambda v, row: v.outcome, cell=""),
        Column("下一步", 30, lambda v, row: v.next_step, cell=""),
        Column("下一步日期", 12, lambda v, row: fmt_date(v.next_step_on), cell=""),
        RECORDER,
        Column("记录时间", 17, lambda v, row: fmt_dt(v.created_at), cell="")]

    def row_extra(self, records, table=False):
        ids = [v.id for v in records]
        visitors = queries.visitors_of(ids)
        if table:  # the table shows the visitors only
            return {i: {"visitors": visitors.get(i, [])} for i in ids}
        needs, met = _needs_of(ids), met_of(ids)
        unit_ids = {v.enterprise.org_unit_id for v in records}
        units = dict(OrgUnit.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(list(unit_ids))).tuples()) \
            if unit_ids else {}
        return {v.id: {"visitors": visitors.get(v.id, []), "needs": needs.get(v.id, []), "met": met.get(v.id, []),
                       "unit": units.get(v.enterprise.org_unit_id, "")} for v in records}


VisitLedger().ledger_routes(bp, "/visits")