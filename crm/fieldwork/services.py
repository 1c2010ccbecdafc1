"""Writes every field-work record shares: create once per form key, save an edit against the
version it was made on (recording each changed field), archive and restore."""
from crm.auth.models import User
from crm.common import signals
from crm.common.errors import ServiceError
from crm.common.timeutil import utcnow
from crm.db import db
from crm.fieldwork import registry
from crm.fieldwork.inputs import enterprise_names
from crm.fieldwork.links import set_links
from crm.fieldwork.models import RecordChange
from crm.photos import services as photos
from crm.sync import services as submissions


class StaleRecord(Exception):
    """The record changed since the form was opened. Carries the current version's values."""

    def __init__(self, kind, current, mine: dict):
        super().__init__("stale version")
        self.current = current
        self.rows = []
        theirs = kind.snapshot(current)
        for label, value in theirs.items():
            mine_value = mine.get(label, "")
            self.rows.append((label, mine_value, value, mine_value != value))


def sent_of(form_key, data) -> submissions.Sent:
    """The form's Sent, or for an internal caller's bare key the Sent of the data it passes."""
    return submissions.as_sent(form_key, data)


def create_once(kind_key: str, sent, user, build, data=None):
    """Run `build()` (which creates the record and everything that goes with it) in one
    transaction, once per form key: `sent` is the form's Sent (or, from an internal caller, a bare
    key, fingerprinted by `data`). Returns (record, created); a re-send of the same content gets
    the record saved first, a key saved with other content raises KeyReused."""
    model = registry.get(kind_key).model

    def counted():
        with signals.batch():
            record = build()
            signals.record_changed.send(kind_key, record=record)
            signals.record_created.send(kind_key, record=record, user=user)
        return record

    return submissions.once(kind_key, submissions.as_sent(sent, data), user, counted,
                            lambda found: model.get_by_id(found.record_id))


def create_linked(kind_key: str, owner, sent, user, values: dict, ent_ids):
    """A record naming enterprises through a link table (`owner`: the table's field pointing at
    the record), with the form's photos, once per form key. Returns (record, created)."""
    model = owner.rel_model

    def build():
        now = utcnow()
        record = model.create(form_key=sent.key, created_by=user, updated_by=user, created_at=now,
                              updated_at=now, **values)
        set_links(owner, record.id, ent_ids)
        photos.attach(kind_key, record.id, sent.key, user)
        return record

    return create_once(kind_key, sent, user, build)


def update_linked(kind_key: str, owner, record, user, expected_version: int, values: dict, ent_ids):
    """An edit of such a record: its fields and its enterprises, against its version."""
    model = owner.rel_model

    def apply(current):
        model.update(**values).where(model.id == current.id).execute()
        set_links(owner, current.id, ent_ids)

    mine = registry.get(kind_key).snapshot(model(id=None, **values))
    mine["服务企业"] = enterprise_names(ent_ids)
    return save_edit(kind_key, record.id, user, expected_version, apply, mine)


def save_edit(kind_key: str, record_id: int, user, expected_version: int, apply, mine: dict):
    """Apply an edit made on `expected_version`: `apply(current)` writes the new values (fields
    and child rows). Each field whose shown value changed is recorded. A stale version raises
    StaleRecord; nothing is written then."""
    kind = registry.get(kind_key)
    model = kind.model
    with db.atomic(), signals.batch():
        current = model.get_by_id(record_id)
        if current.archived:
            raise ServiceError("这条记录已归档，不能修改；如需修改请先恢复", None)
        if current.version != expected_version:
            raise StaleRecord(kind, current, mine)
        before = kind.snapshot(current)
        signals.record_changing.send(kind_key, record=current)
        apply(current)
        after = kind.snapshot(model.get_by_id(record_id))
        changed = [(label, before.get(label, ""), value) for label, value in after.items()
                   if before.get(label, "") != value]
        if not changed:
            return current
        version = expected_version + 1
        updated = (model.update(version=version, updated_at=utcnow(), updated_by=user)
                   .where(model.id == record_id, model.version == expected_version).execute())
        if updated != 1:  # a writer slipped in between (PostgreSQL read committed)
            raise StaleRecord(kind, model.get_by_id(record_id), mine)
        for label, old, new in changed:
            RecordChange.create(kind=kind_key, record_id=record_id, user=user, version=version,
                                field=label, old_value=old, new_value=new)
        signals.record_changed.send(kind_key, record=model.get_by_id(record_id))
    return model.get_by_id(record_id)


def set_archived(kind_key: str, record, user, archived: bool, reason: str = "", after=None):
    """Archive (with a reason) or restore a record; recorded in its history. `after(record)`
    runs in the same transaction (e.g. to recompute contact dates)."""
    kind = registry.get(kind_key)
    model = kind.model
    reason = (reason or "").strip()
    if archived and not reason:
        raise ServiceError("请填写归档原因", "reason")
    with db.atomic(), signals.batch():
        current = model.get_by_id(record.id)
        if current.archived == archived:
            return current
        version = current.version + 1
        signals.record_changing.send(kind_key, record=current)
        model.update(archived=archived, archived_at=utcnow() if archived else None,
                     archived_by=user if archived else None, version=version,
                     updated_at=utcnow(), updated_by=user).where(model.id == record.id).execute()
        RecordChange.create(kind=kind_key, record_id=record.id, user=user, version=version,
                            field="归档", old_value="已归档" if current.archived else "有效",
                            new_value=("已归档：" + reason) if archived else "恢复")
        current = model.get_by_id(record.id)
        if after is not None:
            after(current)
        signals.record_changed.send(kind_key, record=current)
    return current


def history(kind_key: str, record_id: int):
    from peewee import JOIN
    return list(RecordChange.select(RecordChange, User).join(User, JOIN.LEFT_OUTER)
                .where(RecordChange.kind == kind_key, RecordChange.record_id == record_id)
                .order_by(RecordChange.at.desc(), RecordChange.id.desc()))
