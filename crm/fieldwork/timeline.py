"""The enterprise file's timeline: visits, meetings, trainings, activities, stage moves, needs and
file edits, newest first, paginated, each linking to its record.

Two passes with a fixed number of queries whatever the file's size: light (date, id) keys from
each source, merged and sliced in Python; then the details of only the page's items.
"""
from dataclasses import dataclass

from peewee import JOIN

from crm.auth.models import User
from crm.common.timeutil import to_local
from crm.enterprises import fields
from crm.enterprises.models import EnterpriseChange
from crm.fieldwork import registry
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.org.models import OrgUnit
from crm.permissions import in_scope

PAGE_SIZE = 20
OWN_LABELS = {"founding": "建会进度", "change": "档案修改"}
# Edits made by a founding move are shown by the move itself.
_MOVE_SOURCES = ("founding", "visit", "meeting")


@dataclass
class Item:
    kind: str
    key: int
    day: object
    at: object
    title: str = ""
    detail: str = ""
    who: str = ""
    endpoint: str | None = None
    args: dict | None = None

    @property
    def kind_label(self):
        return OWN_LABELS.get(self.kind) or registry.get(self.kind).timeline_label


@dataclass
class Timeline:
    items: list
    page: int
    pages: int
    total: int


def _kinds():
    return [k for k in registry.KINDS.values() if k.timeline_keys is not None]


def _keys(ent_id):
    keys = []
    for kind in _kinds():
        keys += [(kind.key, i, d, t) for i, d, t in kind.timeline_keys(ent_id)]
    keys += [("founding", i, d, t) for i, d, t in
             FoundingEvent.select(FoundingEvent.id, FoundingEvent.occurred_on, FoundingEvent.recorded_at)
             .where(FoundingEvent.enterprise == ent_id).tuples()]
    # One item per saved version of the file (all the fields changed in that save).
    versions = {}
    for version, at in (EnterpriseChange.select(EnterpriseChange.version, EnterpriseChange.at)
                        .where(EnterpriseChange.enterprise == ent_id, EnterpriseChange.field != "created",
                               EnterpriseChange.source.not_in(_MOVE_SOURCES)).tuples()):
        if version not in versions or at > versions[version]:
            versions[version] = at
    keys += [("change", v, to_local(at).date(), at) for v, at in versions.items()]
    return keys


def timeline(ent, user, page: int = 1, size: int = PAGE_SIZE) -> Timeline:
    keys = _keys(ent.id)
    keys.sort(key=lambda k: (k[2], k[3], k[1]), reverse=True)  # same second: the later record first
    pages = max(1, -(-len(keys) // size))
    page = max(1, min(page, pages))
    chosen = keys[(page - 1) * size: page * size]
    ids = {}
    for kind, key, _, _ in chosen:
        ids.setdefault(kind, []).append(key)
    loaders = {"founding": _founding, "change": _changes, **{k.key: k.timeline_items for k in _kinds()}}
    details = {kind: loaders[kind](ent, user, key_list) for kind, key_list in ids.items()}
    items = []
    for kind, key, day, at in chosen:
        item = Item(kind, key, day, at)
        detail = details[kind].get(key)
        if detail:
            for name, value in detail.items():
                setattr(item, name, value)
        items.append(item)
    return Timeline(items, page, pages, len(keys))


def _founding(ent, user, ids):
    out = {}
    events = list(FoundingEvent.select(FoundingEvent, User).join(User, JOIN.LEFT_OUTER)
                  .where(FoundingEvent.id.in_(ids)))
    meeting_ids = [e.record_id for e in events if e.record_kind == "meeting"]
    meeting = registry.get("meeting").model
    visible_meetings = {m.id for m in meeting.select(meeting.id, OrgUnit.path).join(OrgUnit)
                        .where(meeting.id.in_(meeting_ids)) if in_scope(user, m.org_unit)} if meeting_ids else set()
    for e in events:
        if e.kind == "initial":
            title = f"建档（建会进度：{stages.label(e.to_stage)}）"
        else:
            title = f"{stages.label(e.from_stage)} → {stages.label(e.to_stage)}（{stages.MOVE_KINDS.label(e.kind)}）"
        endpoint, args = "enterprises.show", {"ent_id": ent.id, "_anchor": "founding"}
        if e.record_kind == "visit":
            endpoint, args = "visits.show", {"record_id": e.record_id}
        elif e.record_kind == "meeting" and e.record_id in visible_meetings:
            endpoint, args = "meetings.show", {"record_id": e.record_id}
        out[e.id] = {"title": title, "detail": e.note, "who": e.user.name if e.user_id else "",
                     "endpoint": endpoint, "args": args}
    return out


def _changes(ent, user, versions):
    out = {}
    rows = (EnterpriseChange.select(EnterpriseChange, User).join(User, JOIN.LEFT_OUTER).where(EnterpriseChange.enterprise == ent.id,
                                            EnterpriseChange.version.in_(versions),
                                            EnterpriseChange.field != "created",
                                            EnterpriseChange.source.not_in(_MOVE_SOURCES))
            .order_by(EnterpriseChange.id))
    for c in rows:
        item = out.setdefault(c.version, {"title": "", "detail": "", "who": c.user.name if c.user_id else "",
                                          "endpoint": "enterprises.history", "args": {"ent_id": ent.id},
                                          "_fields": []})
        item["_fields"].append(fields.label(c.field))
    for item in out.values():
        item["title"] = "修改：" + "、".join(dict.fromkeys(item.pop("_fields")))
    return out
