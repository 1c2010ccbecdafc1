"""Writes to the enterprise file. Each is one transaction; each change is recorded per field."""
from datetime import date

from peewee import IntegrityError

from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.text import clean, nfkc, normalise_name
from crm.common.timeutil import local_today, utcnow
from crm.db import db
from crm.enterprises import fields, pinyin, similar
from crm.enterprises.models import Contact, Enterprise, EnterpriseChange
from crm.enterprises.validation import normalise, normalise_phone, phone_problem, validate
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.sync import services as submissions


class ConflictError(Exception):
    """The file changed since the user opened it. Carries the current row and the user's values."""

    def __init__(self, current: Enterprise, mine: dict):
        super().__init__("stale version")
        self.current = current
        self.mine = mine

    def rows(self):
        """[(label, mine, theirs, differs)] for every editable field."""
        out = []
        for name in fields.EDITABLE:
            mine = fields.display(name, self.mine.get(name))
            theirs = fields.display(name, fields.stored(self.current, name))
            out.append((fields.label(name), mine, theirs, mine != theirs))
        return out


def _search_text(ent: Enterprise, contacts=None) -> str:
    if contacts is None:
        contacts = list(Contact.select().where(Contact.enterprise == ent.id, Contact.archived == False))  # noqa: E712
    parts = [ent.name, ent.credit_code or "", ent.address, ent.area, ent.legal_rep, ent.union_name,
             ent.tags.replace(",", " ")]
    for c in contacts:
        parts += [c.name, c.phone.replace("-", ""), c.wechat]
    return nfkc(" ".join(p for p in parts if p)).lower()


def _record(ent_id, user, version, name, old, new, source):
    EnterpriseChange.create(enterprise=ent_id, user=user, version=version, field=name,
                            old_value=fields.display(name, old), new_value=fields.display(name, new),
                            source=source)


def _unique_code_error(exc):
    text = str(exc).lower()
    if "credit_code" in text:
        return ServiceError("该统一社会信用代码已登记在另一份企业档案中", "credit_code")
    return None


def _code_taken(code: str, exclude_id=None) -> bool:
    if not code:
        return False
    query = Enterprise.select(Enterprise.id).where(Enterprise.credit_code == code)
    if exclude_id:
        query = query.where(Enterprise.id != exclude_id)
    return query.exists()


def create_enterprise(data: dict, user, *, contact: dict | None = None,
                      initial_stage: str = stages.FIRST, initial_stage_on: date | None = None,
                      source: str = "create", sent=None) -> Enterprise:
    """A new file (and its first contact and founding event). `sent`: the form's key and content
    (crm.sync), so that a re-sent form makes one file."""
    data = normalise({k: data.get(k) for k in fields.EDITABLE if k in data})
    validate(data)
    if initial_stage not in stages.BY_KEY:
        raise ServiceError("未知的建会进度", "initial_stage")
    if contact and contact.get("name"):
        _check_contact(contact)
    values = {k: (v if v is not None else _default(k)) for k, v in data.items()}
    values["credit_code"] = data.get("credit_code") or None
    now = utcnow()

    def build():
        if _code_taken(values["credit_code"]):
            raise ServiceError("该统一社会信用代码已登记在另一份企业档案中", "credit_code")
        ent = Enterprise.create(**values, name_norm=normalise_name(values["name"]),
                                name_core=similar.core(values["name"]),
                                **pinyin.columns(values["name"]), stage=initial_stage, stage_changed_at=now,
                                stage_since=initial_stage_on or local_today(), created_by=user,
                                updated_by=user, created_at=now, updated_at=now, version=1)
        contacts = []
        if contact and contact.get("name"):
            contacts.append(_new_contact(ent, contact, primary=True))
        ent.search_text = _search_text(ent, contacts)
        Enterprise.update(search_text=ent.search_text).where(Enterprise.id == ent.id).execute()
        _record(ent.id, user, 1, "created", "", values["name"], source)
        FoundingEvent.create(enterprise=ent, from_stage=None, to_stage=initial_stage,
                             kind="initial", occurred_on=initial_stage_on or local_today(),
                             user=user, note="建档时的建会进度")
        signals.firms_changed.send("enterprise", ids=[ent.id], days=[ent.union_founded_on],
                                   since=initial_stage_on or local_today())
        return ent

    try:
        return submissions.once_or_plain("enterprise", sent, user, build,
                                         lambda found: Enterprise.get_by_id(found.record_id))
    except IntegrityError as exc:
        raise _unique_code_error(exc) or exc


# Fields the aggregates count (crm/stats/facts.py): the first ones in every year's figures.
COUNTED_EVERY_YEAR = {"org_unit", "status", "is_key", "union_founded_on"}
COUNTED = COUNTED_EVERY_YEAR | {"employees"}


def _default(key):
    return None if key in ("employees", "new_form_workers", "member_count", "union_founded_on",
                           "union_term_end", "credit_code") else ("" if key != "is_key" else False)


def update_enterprise(ent_id: int, data: dict, user, expected_version: int,
                      source: str = "edit") -> Enterprise:
    """Save an edit made on version `expected_version`. A stale version raises ConflictError."""
    data = normalise({k: data.get(k) for k in fields.EDITABLE if k in data})
    validate(data, partial=True)
    if "credit_code" in data:
        data["credit_code"] = data["credit_code"] or None
    try:
        with db.atomic():
            current = Enterprise.get_by_id(ent_id)
            if current.version != expected_version:
                raise ConflictError(current, data)
            changes = {}
            for name, new in data.items():
                old = fields.stored(current, name)
                new = new if new is not None else _default(name)
                if (old if old is not None else _default(name)) != new:
                    changes[name] = (old, new)
            if not changes:
                return current
            if "credit_code" in changes and _code_taken(data["credit_code"], ent_id):
                raise ServiceError("该统一社会信用代码已登记在另一份企业档案中", "credit_code")
            version = current.version + 1
            values = {name: new for name, (old, new) in changes.items()}
            if "name" in values:
                values["name_norm"] = normalise_name(values["name"])
                values["name_core"] = similar.core(values["name"])
                values.update(pinyin.columns(values["name"]))
            for name, value in values.items():
                setattr(current, name if name != "org_unit" else "org_unit_id", value)
            values["search_text"] = _search_text(current)
            updated = (Enterprise.update(**values, version=version, updated_at=utcnow(), updated_by=user)
                       .where(Enterprise.id == ent_id, Enterprise.version == expected_version)
                       .execute())
            if updated != 1:  # a writer slipped in between (PostgreSQL read committed)
                raise ConflictError(Enterprise.get_by_id(ent_id), data)
            for name, (old, new) in changes.items():
                _record(ent_id, user, version, name, old, new, source)
            if "org_unit" in changes:  # its visits and follow-ups are seen where the firm now belongs
                signals.firm_moved.send("enterprise", ent_id=ent_id, unit_id=changes["org_unit"][1])
            if changes.keys() & COUNTED:
                signals.firms_changed.send("enterprise", ids=[ent_id],
                                           all_years=bool(changes.keys() & COUNTED_EVERY_YEAR))
    except IntegrityError as exc:
        raise _unique_code_error(exc) or exc
    return Enterprise.get_by_id(ent_id)


def set_archived(ent: Enterprise, user, archived: bool, reason: str = "") -> Enterprise:
    reason = (reason or "").strip()
    if archived and not reason:
        raise ServiceError("请填写归档原因", "reason")
    with db.atomic():
        current = Enterprise.get_by_id(ent.id)
        if current.archived == archived:
            return current
        version = current.version + 1
        Enterprise.update(archived=archived, archived_at=utcnow() if archived else None,
                          archived_by=user if archived else None, version=version,
                          updated_at=utcnow(), updated_by=user).where(Enterprise.id == ent.id).execute()
        EnterpriseChange.create(enterprise=ent.id, user=user, version=version, field="archived",
                                old_value="已归档" if current.archived else "在档",
                                new_value=("已归档：" + reason) if archived else "恢复在档",
                                source="edit")
        if archived:  # nobody can visit an archived file: what is open for it ends with it
            signals.firm_archived.send("enterprise", ent_id=ent.id, user=user, reason=reason)
        signals.firms_changed.send("enterprise", ids=[ent.id], all_years=True)
    return Enterprise.get_by_id(ent.id)


# ---- contacts ---------------------------------------------------------------------------

def _check_contact(data: dict):
    if not clean(data.get("name")):
        raise ServiceError("请填写联系人姓名", "name")
    problem = phone_problem(normalise_phone(data.get("phone")))
    if problem:
        raise ServiceError(problem, "phone")


def _contact_text(c: Contact) -> str:
    bits = [c.name, c.title, c.phone, ("微信 " + c.wechat) if c.wechat else "", "（主要联系人）" if c.is_primary else ""]
    return " ".join(b for b in bits if b)


def _new_contact(ent, data, primary=False) -> Contact:
    return Contact.create(enterprise=ent, name=clean(data.get("name")), title=clean(data.get("title")),
                          phone=normalise_phone(data.get("phone")), wechat=clean(data.get("wechat")),
                          is_primary=primary or bool(data.get("is_primary")))


def _after_contact_change(ent_id, user, old_text, new_text):
    ent = Enterprise.get_by_id(ent_id)
    Enterprise.update(search_text=_search_text(ent), updated_at=utcnow(), updated_by=user)\
        .where(Enterprise.id == ent_id).execute()
    EnterpriseChange.create(enterprise=ent_id, user=user, version=ent.version, field="contact",
                            old_value=old_text, new_value=new_text, source="edit")


def _only_primary(ent_id, contact_id):
    Contact.update(is_primary=False).where(Contact.enterprise == ent_id, Contact.id != contact_id).execute()


def add_contact(ent: Enterprise, data: dict, user, sent=None) -> Contact:
    """`sent`: the form's key and content (crm.sync), so that a re-sent form adds one contact."""
    _check_contact(data)

    def build():
        has_primary = Contact.select().where(Contact.enterprise == ent.id, Contact.is_primary == True,  # noqa: E712
                                             Contact.archived == False).exists()  # noqa: E712
        contact = _new_contact(ent, data, primary=bool(data.get("is_primary")) or not has_primary)
        if contact.is_primary:
            _only_primary(ent.id, contact.id)
        _after_contact_change(ent.id, user, "", _contact_text(contact))
        return contact

    return submissions.once_or_plain("contact", sent, user, build,
                                     lambda found: Contact.get_by_id(found.record_id))


def update_contact(contact: Contact, data: dict, user) -> Contact:
    _check_contact(data)
    with db.atomic():
        old_text = _contact_text(contact)
        contact.name = clean(data.get("name"))
        contact.title = clean(data.get("title"))
        contact.phone = normalise_phone(data.get("phone"))
        contact.wechat = clean(data.get("wechat"))
        contact.is_primary = bool(data.get("is_primary"))
        contact.save()
        if contact.is_primary:
            _only_primary(contact.enterprise_id, contact.id)
        new_text = _contact_text(contact)
        if new_text != old_text:
            _after_contact_change(contact.enterprise_id, user, old_text, new_text)
    return contact


def archive_contact(contact: Contact, user):
    with db.atomic():
        Contact.update(archived=True, is_primary=False).where(Contact.id == contact.id).execute()
        _after_contact_change(contact.enterprise_id, user, _contact_text(contact), "（已移除）")
