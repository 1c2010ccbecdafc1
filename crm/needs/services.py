"""企业需求意见: raised at a visit or a meeting, then worked until resolved."""
from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.timeutil import local_today
from crm.fieldwork import services as records
from crm.fieldwork.choices import NEED_CATEGORIES, NEED_RESOLVED, NEED_STATUSES
from crm.fieldwork.models import RecordChange
from crm.needs.kind import snapshot
from crm.needs.models import NOTE_MAX, Need


class NoteChanged(ServiceError):
    """A need's note was changed elsewhere after the form showing it was opened; `version` is the
    need's version now."""

    def __init__(self, message, field, version):
        super().__init__(message, field)
        self.version = version


def _note(value, field) -> str:
    note = (value or "").strip()
    if len(note) > NOTE_MAX:
        raise ServiceError(f"说明不能超过 {NOTE_MAX} 个字", field)
    return note


def raise_needs(*, org_unit, raised_on, user, categories, notes=None, detail="", enterprise=None, visit=None,
                meeting=None, present=()) -> list[Need]:
    """One need per category ticked, or given a note of its own (a note typed beside a box that
    was not ticked is not lost), each with its own note. `detail`: a note for every need that has
    none of its own (what a form kept from before the notes were per need sends); free text alone
    is one need of 其他. `present`: the categories the record already has (an edit): raising one
    again is refused. Call inside the transaction that saves the visit or meeting."""
    ticked = [c for c in dict.fromkeys(categories or []) if c]
    notes = {k: v for k, v in (notes or {}).items() if (v or "").strip()}
    if any(c not in NEED_CATEGORIES for c in ticked) or any(k not in NEED_CATEGORIES for k in notes):
        raise ServiceError("未知的需求类别", "need_categories")
    notes = {k: _note(v, f"need_note_{k}") for k, v in notes.items()}
    detail = _note(detail, "need_categories")
    wanted = set(ticked) | set(notes)
    if detail and not wanted:
        wanted = {"other"}
    again = [c for c in wanted if c in set(present)]
    if again:
        raise ServiceError(f"“{'、'.join(NEED_CATEGORIES.label(c) for c in again)}”已经记录，请在上面修改它的说明",
                           "need_categories")
    return [Need.create(org_unit=org_unit, enterprise=enterprise, visit=visit, meeting=meeting,
                        category=c, detail=notes.get(c) or detail, raised_on=raised_on, created_by=user,
                        updated_by=user) for c, _ in NEED_CATEGORIES if c in wanted]


def raised_by(visit=None, meeting=None) -> list[Need]:
    """The needs a visit or meeting raised that are not archived, in the order raised."""
    cond = (Need.visit == visit) if visit is not None else (Need.meeting == meeting)
    return list(Need.select().where(cond, Need.archived == False).order_by(Need.id))  # noqa: E712


def set_note(need: Need, note: str, user, expected_version: int) -> Need:
    """A need's own note (说明), recorded in its history."""
    note = _note(note, "detail")

    def apply(current):
        Need.update(detail=note).where(Need.id == current.id).execute()

    return records.save_edit("need", need.id, user, expected_version, apply, {**snapshot(need), "说明": note})


def edit_notes(raised: dict, user, visit=None, meeting=None):
    """The notes of the needs a visit or meeting raised, edited on its form: {need id: (note,
    the need's version the form showed)}. A note changed elsewhere since then is not
    overwritten: NoteChanged, with the note it has now. Inside the record's transaction."""
    for need in raised_by(visit=visit, meeting=meeting):
        if need.id not in raised:
            continue
        note, shown = raised[need.id]
        field = f"raised_{need.id}"
        note = _note(note, field)
        if note == need.detail:
            continue
        changed = shown is not None and shown != need.version and RecordChange.select().where(
            RecordChange.kind == "need", RecordChange.record_id == need.id, RecordChange.field == "说明",
            RecordChange.version > shown).exists()
        if changed:
            raise NoteChanged(f"这条需求意见的说明已被他人改为“{need.detail or '（空）'}”，请核对后再保存",
                              field, need.version)
        set_note(need, note, user, need.version)


def update_need(need: Need, data: dict, user, expected_version: int) -> Need:
    """Change status, category, detail or resolution. Resolving asks for a resolution note."""
    status = data.get("status") or need.status
    if status not in NEED_STATUSES:
        raise ServiceError("未知的处理状态", "status")
    category = data.get("category") or need.category
    if category not in NEED_CATEGORIES:
        raise ServiceError("未知的需求类别", "category")
    resolution = (data.get("resolution") or "").strip()
    if status == NEED_RESOLVED and not resolution:
        raise ServiceError("标记为已解决时请填写解决情况", "resolution")
    detail = (data.get("detail") if data.get("detail") is not None else need.detail).strip()

    def apply(current):
        resolved_on = current.resolved_on
        resolved_by = current.resolved_by_id
        if status == NEED_RESOLVED and current.status != NEED_RESOLVED:
            resolved_on, resolved_by = data.get("resolved_on") or local_today(), user.id
        elif status != NEED_RESOLVED:
            resolved_on, resolved_by = None, None
        Need.update(status=status, category=category, detail=detail, resolution=resolution,
                    resolved_on=resolved_on, resolved_by=resolved_by).where(Need.id == current.id).execute()
        if status == NEED_RESOLVED and current.status != NEED_RESOLVED:
            signals.need_resolved.send("need", need_id=current.id, user=user, resolution=resolution)

    mine = {"类别": NEED_CATEGORIES.label(category), "说明": detail,
            "状态": NEED_STATUSES.label(status), "解决情况": resolution}
    return records.save_edit("need", need.id, user, expected_version, apply, mine)


def follow_record(archived: bool, visit=None, meeting=None):
    """The needs raised at a visit or meeting are archived and restored with it (a record
    archived as a duplicate does not leave its needs open)."""
    cond = (Need.visit == visit) if visit is not None else (Need.meeting == meeting)
    Need.update(archived=archived).where(cond).execute()
