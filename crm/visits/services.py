"""走访记录: logging a visit (with its needs, photos, contact and an optional stage move, in one
transaction, once per form key), editing it, archiving it, commenting on it."""
from crm.auth.models import User
from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.text import clean
from crm.common.timeutil import utcnow
from crm.db import db, is_postgres
from crm.enterprises import services as files
from crm.enterprises.models import Contact, Enterprise
from crm.enterprises.validation import normalise_phone, phone_problem
from crm.fieldwork import contact
from crm.fieldwork import services as records
from crm.fieldwork.choices import VISIT_KINDS, VISIT_PURPOSES, join_keys
from crm.fieldwork.inputs import check_date
from crm.founding import services as founding
from crm.founding import stages
from crm.needs import services as needs
from crm.photos import services as photos
from crm.visits.kind import contact_label, met_text, snapshot
from crm.visits.models import Visit, VisitComment, VisitContact, VisitVisitor

# Stages a visit form may move to; the union stages need their documents (founding page).
MOVE_TARGETS = tuple(s for s in stages.STAGES + stages.SIDE_STATES
                     if s.key not in stages.UNION_FIELD_STAGES and s.key != stages.FIRST)
_MOVE_FIELDS = {"note": "move_note", "to_stage": "move_to", "occurred_on": "visited_on"}
_CONTACT_FIELDS = {"name": "contacts_met", "title": "new_contact_title", "phone": "new_contact_phone"}
_SEVERAL = "、，,；;/"  # what separates the names of several people in 其他见到的人


def _check(data: dict, allowed_visitors: set):
    check_date(data.get("visited_on"), "走访日期", "visited_on")
    if data.get("kind") not in VISIT_KINDS:
        raise ServiceError("请选择走访方式", "kind")
    if any(p not in VISIT_PURPOSES for p in data.get("purposes") or []):
        raise ServiceError("未知的走访目的", "purposes")
    if not (data.get("summary") or "").strip():
        raise ServiceError("请填写内容摘要", "summary")
    if data.get("next_step_on") and data["next_step_on"] < data["visited_on"]:
        raise ServiceError("下一步日期不能早于走访日期", "next_step_on")
    visitors = data.get("visitor_ids") or []
    if not visitors:
        raise ServiceError("请至少选择一名走访人", "visitor_ids")
    if any(v not in allowed_visitors for v in visitors):
        raise ServiceError("走访人不在可选范围内", "visitor_ids")


def _contacts(ent_id: int, data: dict, keep=()) -> list[int]:
    """The contacts picked as met: the enterprise's own (an edit keeps the ones it had, even if
    removed from the file since)."""
    ids = list(dict.fromkeys(data.get("contact_ids") or []))
    if not ids:
        return []
    allowed = {i for (i,) in Contact.select(Contact.id).where(Contact.enterprise == ent_id,
                                                              Contact.archived == False).tuples()}  # noqa: E712
    if any(i not in allowed and i not in keep for i in ids):
        raise ServiceError("所选的联系人不是这家企业的联系人，请重新选择", "contact_ids")
    return ids


def _contact_to_add(data: dict) -> dict | None:
    """添加为联系人: the one person named in 其他见到的人, with the title and phone typed."""
    if not data.get("add_contact"):
        return None
    name = clean(data.get("contacts_met"))
    if not name:
        raise ServiceError("要添加为联系人，请在“其他见到的人”中填写姓名", "contacts_met")
    if len(name) > 64 or any(ch in name for ch in _SEVERAL):
        raise ServiceError("添加为联系人时，“其他见到的人”只填写一个人的姓名", "contacts_met")
    title = clean(data.get("new_contact_title"))
    if len(title) > 64:
        raise ServiceError("职务不能超过 64 个字", "new_contact_title")
    phone = normalise_phone(data.get("new_contact_phone"))
    problem = phone_problem(phone)
    if problem:
        raise ServiceError(problem, "new_contact_phone")
    return {"name": name, "title": title, "phone": phone}


def _set_contacts(visit_id, ent, contact_ids, new_contact, user) -> list[int]:
    """The contacts met, and the one added to the file with this visit (same transaction)."""
    ids = list(contact_ids)
    if new_contact is not None:
        try:
            added = files.add_contact(ent, new_contact, user)
        except ServiceError as exc:
            raise ServiceError(str(exc), _CONTACT_FIELDS.get(exc.field, "contacts_met"))
        ids.append(added.id)
    VisitContact.delete().where(VisitContact.visit == visit_id).execute()
    for contact_id in dict.fromkeys(ids):
        VisitContact.create(visit=visit_id, contact=contact_id)
    return ids


def _met_names(contact_ids) -> list[str]:
    rows = {i: contact_label(n, t) for i, n, t in Contact.select(Contact.id, Contact.name, Contact.title)
            .where(Contact.id.in_(list(contact_ids))).tuples()} if contact_ids else {}
    return [rows[i] for i in dict.fromkeys(contact_ids) if i in rows]


def _values(data: dict) -> dict:
    return {"visited_on": data["visited_on"], "visit_time": data.get("visit_time"),
            "kind": data["kind"], "purposes": join_keys(data.get("purposes")),
            "contacts_met": "" if data.get("add_contact") else clean(data.get("contacts_met"))[:300],
            "summary": data["summary"].strip(), "outcome": (data.get("outcome") or "").strip(),
            "next_step": clean(data.get("next_step"))[:300], "next_step_on": data.get("next_step_on")}


def _location(data: dict) -> dict:
    """Latitude and longitude are kept as a valid pair, or not at all."""
    lat, lng, acc = data.get("latitude"), data.get("longitude"), data.get("accuracy_m")
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return {"latitude": None, "longitude": None, "accuracy_m": None}
    return {"latitude": lat, "longitude": lng, "accuracy_m": acc if acc is not None and acc >= 0 else None}


def _set_visitors(visit_id, visitor_ids):
    VisitVisitor.delete().where(VisitVisitor.visit == visit_id).execute()
    for uid in dict.fromkeys(visitor_ids):
        VisitVisitor.create(visit=visit_id, user=uid)


def _unit_now(ent_id: int) -> int:
    """The enterprise's unit as the visit is saved. On PostgreSQL its row is locked first (as the
    aggregates lock it later in the same transaction), so a move to another unit cannot commit in
    between and leave the new visit under the old unit."""
    query = Enterprise.select(Enterprise.org_unit).where(Enterprise.id == ent_id)
    if is_postgres():
        query = query.for_update("FOR NO KEY UPDATE")
    return query.tuples().get()[0]


@signals.firm_moved.connect
def firm_moved(_sender, unit_id: int, ent_id: int | None = None, ent_ids=(), **_) -> int:
    """A file moved to another unit takes its visits along (in the moving transaction);
    `ent_ids`: several files moved to that unit at once."""
    firms = Visit.enterprise == ent_id if ent_id is not None else Visit.enterprise.in_(list(ent_ids))
    return Visit.update(org_unit=unit_id).where(firms).execute()


def create_visit(ent: Enterprise, data: dict, user, form_key: str, allowed_visitors: set,
                 followup_id: int | None = None):
    """Returns (visit, created). `created` is False when this form key was already saved.
    `followup_id`: the follow-up this visit was logged from; it is completed with the visit
    linked, in the same transaction."""
    sent = records.sent_of(form_key, data)
    if ent.archived:
        raise ServiceError("该档案已归档，不能再记录走访", "summary")
    _check(data, allowed_visitors)
    contact_ids, new_contact = _contacts(ent.id, data), _contact_to_add(data)
    move_to = data.get("move_to") or ""
    if move_to and move_to not in {s.key for s in MOVE_TARGETS}:
        raise ServiceError("这里不能变更到该阶段，请在建会进度中操作", "move_to")

    def build():
        now = utcnow()
        unit_id = _unit_now(ent.id)
        visit = Visit.create(enterprise=ent.id, org_unit=unit_id, form_key=sent.key, created_by=user, updated_by=user,
                             created_at=now, updated_at=now,
                             **_location(data), **_values(data))
        _set_visitors(visit.id, data["visitor_ids"])
        _set_contacts(visit.id, ent, contact_ids, new_contact, user)
        needs.raise_needs(org_unit=unit_id, enterprise=ent.id, visit=visit.id,
                          raised_on=data["visited_on"], user=user, categories=data.get("need_categories"),
                          notes=data.get("need_notes"), detail=data.get("need_detail"))
        photos.attach("visit", visit.id, sent.key, user)
        evidence = f"走访记录：{data['visited_on'].isoformat()} {VISIT_KINDS.label(data['kind'])}"
        contact.contacted([ent.id], data["visited_on"], user, "visit", visit.id, evidence)
        if followup_id is not None:
            signals.visit_logged.send("visit", visit=visit, followup_id=followup_id, user=user)
        if move_to:
            current = Enterprise.get_by_id(ent.id)
            if current.stage != move_to:
                try:
                    founding.move(current, move_to, user, expected_from=current.stage,
                                  occurred_on=data["visited_on"], note=data.get("move_note") or "",
                                  evidence={"text": evidence}, source="visit", record=("visit", visit.id))
                except ServiceError as exc:
                    raise ServiceError(str(exc), _MOVE_FIELDS.get(exc.field, "move_to"))
        return visit

    return records.create_once("visit", sent, user, build)


def update_visit(visit: Visit, data: dict, user, expected_version: int, allowed_visitors: set) -> Visit:
    """The visit's fields, visitors and contacts met (a contact added with it), the notes of the
    needs it raised and any need newly ticked, against the visit's version."""
    # Visitors who left the team stay on their old visits.
    allowed = allowed_visitors | {r.user_id for r in VisitVisitor.select().where(VisitVisitor.visit == visit.id)}
    _check(data, allowed)
    had = {r.contact_id for r in VisitContact.select(VisitContact.contact).where(VisitContact.visit == visit.id)}
    contact_ids, new_contact = _contacts(visit.enterprise_id, data, keep=had), _contact_to_add(data)
    values = _values(data)

    def apply(current):
        Visit.update(**values).where(Visit.id == current.id).execute()
        _set_visitors(current.id, data["visitor_ids"])
        _set_contacts(current.id, Enterprise.get_by_id(current.enterprise_id), contact_ids, new_contact, user)
        needs.edit_notes(data.get("raised_notes") or {}, user, visit=current.id)
        present = {n.category for n in needs.raised_by(visit=current.id)}
        needs.raise_needs(org_unit=current.org_unit_id, enterprise=current.enterprise_id, visit=current.id,
                          raised_on=values["visited_on"], user=user, categories=data.get("need_categories"),
                          notes=data.get("need_notes"), detail=data.get("need_detail"), present=present)
        contact.recompute([current.enterprise_id])

    preview = Visit(**{**{f: getattr(visit, f) for f in ("id",)}, **values})
    mine = snapshot(preview)
    mine["走访人"] = _names(data["visitor_ids"])
    mine["见到的联系人"] = met_text(_met_names(contact_ids) + ([contact_label(new_contact["name"], new_contact["title"])]
                                                         if new_contact else []), values["contacts_met"])
    return records.save_edit("visit", visit.id, user, expected_version, apply, mine)


def _names(user_ids) -> str:
    names = dict(User.select(User.id, User.name).where(User.id.in_(list(user_ids))).tuples())
    return "、".join(names.get(u, "") for u in dict.fromkeys(user_ids))


def set_archived(visit: Visit, user, archived: bool, reason: str = "") -> Visit:
    def after(v):
        contact.recompute([v.enterprise_id])
        needs.follow_record(v.archived, visit=v.id)

    # The founding move the visit made stays: it is its own record on the track.
    return records.set_archived("visit", visit, user, archived, reason, after=after)


def add_comment(visit: Visit, text: str, user) -> VisitComment:
    text = (text or "").strip()
    if not text:
        raise ServiceError("请填写点评内容", "text")
    with db.atomic():
        comment = VisitComment.create(visit=visit.id, user=user, text=text[:2000])
        signals.visit_commented.send("visit", visit=visit, comment=comment, user=user)
        return comment
