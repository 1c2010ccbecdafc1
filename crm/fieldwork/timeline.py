"""The enterprise file's timeline: visits, meetings, trainings, activities, stage moves, needs and
file edits, newest first, paginated, each linking to its record.

Two passes with a fixed number of queries whatever the file's size: light (date, id) keys from
each source, merged and sliced in Python; then the details of only the page's items.
"""
from dataclasses import dataclass

from peewee import JOIN

from crm.activities.models import ActivityEnterprise, ServiceActivity
from crm.auth.models import User
from crm.common.timeutil import to_local
from crm.enterprises import fields
from crm.enterprises.models import EnterpriseChange
from crm.fieldwork.choices import (MEETING_KINDS, MEETING_LEVELS, NEED_CATEGORIES, SERVICES,
                                   TRAINING_CATEGORIES, VISIT_KINDS, labels)
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.meetings.models import Meeting, MeetingEnterprise
from crm.needs.models import Need
from crm.org.models import OrgUnit
from crm.permissions import in_scope
from crm.trainings.models import Training, TrainingEnterprise
from crm.visits.models import Visit, VisitVisitor

PAGE_SIZE = 20
KIND_LABELS = {"visit": "走访", "meeting": "沟通会", "training": "培训", "activity": "服务活动",
               "founding": "建会进度", "need": "需求意见", "change": "档案修改"}
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
        return KIND_LABELS[self.kind]


@dataclass
class Timeline:
    items: list
    page: int
    pages: int
    total: int


def _keys(ent_id):
    keys = []
    keys += [("visit", i, d, t) for i, d, t in Visit.select(Visit.id, Visit.visited_on, Visit.created_at)
             .where(Visit.enterprise == ent_id, Visit.archived == False).tuples()]  # noqa: E712
    keys += [("meeting", i, d, t) for i, d, t in Meeting.select(Meeting.id, Meeting.held_on, Meeting.created_at)
             .join(MeetingEnterprise).where(MeetingEnterprise.enterprise == ent_id, Meeting.archived == False).tuples()]  # noqa: E712
    keys += [("training", i, d, t) for i, d, t in Training.select(Training.id, Training.held_on, Training.created_at)
             .join(TrainingEnterprise).where(TrainingEnterprise.enterprise == ent_id, Training.archived == False).tuples()]  # noqa: E712
    keys += [("activity", i, d, t) for i, d, t in
             ServiceActivity.select(ServiceActivity.id, ServiceActivity.held_on, ServiceActivity.created_at)
             .join(ActivityEnterprise).where(ActivityEnterprise.enterprise == ent_id,
                                             ServiceActivity.archived == False).tuples()]  # noqa: E712
    keys += [("founding", i, d, t) for i, d, t in
             FoundingEvent.select(FoundingEvent.id, FoundingEvent.occurred_on, FoundingEvent.recorded_at)
             .where(FoundingEvent.enterprise == ent_id).tuples()]
    keys += [("need", i, d, t) for i, d, t in Need.select(Need.id, Need.raised_on, Need.created_at)
             .where(Need.enterprise == ent_id, Need.archived == False).tuples()]  # noqa: E712
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
    details = {kind: LOADERS[kind](ent, user, key_list) for kind, key_list in ids.items()}
    items = []
    for kind, key, day, at in chosen:
        item = Item(kind, key, day, at)
        detail = details[kind].get(key)
        if detail:
            for name, value in detail.items():
                setattr(item, name, value)
        items.append(item)
    return Timeline(items, page, pages, len(keys))


def _visits(ent, user, ids):
    out = {}
    names = {}
    for visit_id, name in (VisitVisitor.select(VisitVisitor.visit, User.name).join(User)
                           .where(VisitVisitor.visit.in_(ids)).order_by(VisitVisitor.id).tuples()):
        names.setdefault(visit_id, []).append(name)
    for v in Visit.select().where(Visit.id.in_(ids)):
        out[v.id] = {"title": VISIT_KINDS.label(v.kind), "detail": v.summary,
                     "who": "、".join(names.get(v.id, [])), "endpoint": "visits.show",
                     "args": {"record_id": v.id}}
    return out


def _meetings(ent, user, ids):
    out = {}
    for m in Meeting.select(Meeting, OrgUnit).join(OrgUnit).where(Meeting.id.in_(ids)):
        visible = in_scope(user, m.org_unit)
        title = f"{MEETING_KINDS.label(m.kind)}（{MEETING_LEVELS.label(m.level)}）"
        if not visible:  # a meeting of a unit outside the reader's scope: that it happened, no more
            out[m.id] = {"title": title, "detail": "", "who": m.org_unit.name, "endpoint": None, "args": {}}
            continue
        title += f"：{m.title}" if m.title else ""
        out[m.id] = {"title": title, "detail": f"{m.org_unit.name} · {m.venue}".rstrip(" ·") +
                     (f" · 参加 {m.attendees} 人" if m.attendees else ""),
                     "who": m.org_unit.name,
                     "endpoint": "meetings.show" if visible else None, "args": {"record_id": m.id}}
    return out


def _trainings(ent, user, ids):
    out = {}
    for t in Training.select(Training, OrgUnit).join(OrgUnit).where(Training.id.in_(ids)):
        visible = in_scope(user, t.org_unit)
        if not visible:
            out[t.id] = {"title": TRAINING_CATEGORIES.label(t.category) + "培训", "who": t.org_unit.name,
                         "endpoint": None, "args": {}}
            continue
        out[t.id] = {"title": f"{t.title}（{TRAINING_CATEGORIES.label(t.category)}）",
                     "detail": f"参训 {t.participants} 人" + (f" · 授课：{t.trainer}" if t.trainer else ""),
                     "who": t.org_unit.name,
                     "endpoint": "trainings.show" if visible else None, "args": {"record_id": t.id}}
    return out


def _activities(ent, user, ids):
    out = {}
    for a in (ServiceActivity.select(ServiceActivity, OrgUnit).join(OrgUnit)
              .where(ServiceActivity.id.in_(ids))):
        visible = in_scope(user, a.org_unit)
        if not visible:
            out[a.id] = {"title": "服务活动", "who": a.org_unit.name, "endpoint": None, "args": {}}
            continue
        out[a.id] = {"title": a.title, "detail": labels(SERVICES, a.services), "who": a.org_unit.name,
                     "endpoint": "activities.show" if visible else None, "args": {"record_id": a.id}}
    return out


def _founding(ent, user, ids):
    out = {}
    events = list(FoundingEvent.select(FoundingEvent, User).join(User, JOIN.LEFT_OUTER)
                  .where(FoundingEvent.id.in_(ids)))
    meeting_ids = [e.record_id for e in events if e.record_kind == "meeting"]
    visible_meetings = {m.id for m in Meeting.select(Meeting.id, OrgUnit.path).join(OrgUnit)
                        .where(Meeting.id.in_(meeting_ids)) if in_scope(user, m.org_unit)} if meeting_ids else set()
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


def _needs(ent, user, ids):
    out = {}
    for n in Need.select().where(Need.id.in_(ids)):
        out[n.id] = {"title": f"{NEED_CATEGORIES.label(n.category)} · {n.status_label}", "detail": n.detail,
                     "endpoint": "needs.show", "args": {"record_id": n.id}}
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


LOADERS = {"visit": _visits, "meeting": _meetings, "training": _trainings, "activity": _activities,
           "founding": _founding, "need": _needs, "change": _changes}
