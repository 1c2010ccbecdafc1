"""What each event tells an endpoint: its envelope, the data of one record as an endpoint of a unit
may read it (ids, units, dates, the enterprise's name, a task's title, stage keys and labels;
never a phone number, an ID number or a person's name), and the short Chinese text a 企业微信
group robot shows."""
import json
import uuid
from dataclasses import dataclass, field

from crm.common.choices import Choices
from crm.common.timeutil import fmt_date, to_local
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import MEETING_KINDS, TARGET_GROUPS, VISIT_KINDS
from crm.followups.models import PRIORITIES
from crm.founding import stages
from crm.meetings.models import MeetingEnterprise
from crm.org.models import OrgUnit

EVENTS = Choices(("visit.created", "新增走访记录"), ("meeting.created", "新增沟通会"),
                 ("followup.assigned", "跟进任务分派"), ("followup.overdue", "跟进任务逾期"),
                 ("enterprise.stage_changed", "建会进度变更"), ("member.joined", "新会员入会"))
PING = "ping"  # 发送测试: not subscribed to, sent to one endpoint on request
LABELS = Choices(*EVENTS, (PING, "测试消息"))
WECOM_LIMIT = 4000  # a robot's markdown content holds 4096 bytes


@dataclass
class Occurrence:
    """One record an event is about: the unit it belongs to (its endpoints are those of that unit
    and the units above it) and its data, read for the endpoint of unit `within` by `data(within)`."""
    unit_id: int
    data: callable
    extra: dict = field(default_factory=dict)


def unit_ref(unit: OrgUnit) -> dict:
    return {"id": unit.id, "name": unit.name}


def _date(value):
    return fmt_date(value) or None


def _within(path: str, unit: OrgUnit) -> bool:
    return path.startswith(unit.path)


def _firms(ids) -> dict:
    """{enterprise id: (name, its unit's path)} in one query."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = (Enterprise.select(Enterprise.id, Enterprise.name, OrgUnit.path)
            .join(OrgUnit, on=(Enterprise.org_unit == OrgUnit.id)).where(Enterprise.id.in_(list(ids))).tuples())
    return {i: (name, path) for i, name, path in rows}


def _firm(firms: dict, ent_id, within: OrgUnit):
    """The enterprise as {"id", "name"} when the endpoint's unit may see it, else None."""
    found = firms.get(ent_id)
    if found is None or not _within(found[1], within):
        return None
    return {"id": ent_id, "name": found[0]}


def _stage(key):
    return {"key": key, "label": stages.label(key)} if key else None


# ---- the occurrences of each signal --------------------------------------------------------------

def visits(visit) -> list[Occurrence]:
    firms = _firms([visit.enterprise_id])
    unit_id = visit.org_unit_id or Enterprise.get_by_id(visit.enterprise_id).org_unit_id
    return [Occurrence(unit_id, lambda within: {
        "id": visit.id, "visited_on": _date(visit.visited_on),
        "kind": visit.kind, "kind_label": VISIT_KINDS.label(visit.kind),
        "enterprise": _firm(firms, visit.enterprise_id, within)})]


def meetings(meeting) -> list[Occurrence]:
    ids = [e for (e,) in MeetingEnterprise.select(MeetingEnterprise.enterprise)
           .where(MeetingEnterprise.meeting == meeting.id).order_by(MeetingEnterprise.id).tuples()]
    firms = _firms(ids)

    def data(within):
        shown = [_firm(firms, i, within) for i in ids]
        return {"id": meeting.id, "held_on": _date(meeting.held_on), "kind": meeting.kind,
                "kind_label": MEETING_KINDS.label(meeting.kind), "enterprises": [f for f in shown if f]}
    return [Occurrence(meeting.org_unit_id, data)]


def followups(rows, previous=None) -> list[Occurrence]:
    """One occurrence per follow-up (`previous`: {id: the former assignee's id} for a reassignment)."""
    firms = _firms([fu.enterprise_id for fu in rows])
    out = []
    for fu in rows:
        def data(within, fu=fu):
            values = {"id": fu.id, "title": fu.title, "due_on": _date(fu.due_on), "priority": fu.priority,
                      "priority_label": PRIORITIES.label(fu.priority), "assignee_id": fu.assignee_id,
                      "enterprise": _firm(firms, fu.enterprise_id, within)}
            if previous is not None:
                values["previous_assignee_id"] = previous.get(fu.id)
            return values
        out.append(Occurrence(fu.org_unit_id, data))
    return out


def stage_moves(enterprise_id, from_stage, to_stage, event=None) -> list[Occurrence]:
    ent = Enterprise.get_or_none(Enterprise.id == enterprise_id)
    if ent is None:
        return []
    return [Occurrence(ent.org_unit_id, lambda within: {
        "enterprise": {"id": ent.id, "name": ent.name}, "from_stage": _stage(from_stage),
        "to_stage": _stage(to_stage), "occurred_on": _date(getattr(event, "occurred_on", None)),
        "founding_event_id": getattr(event, "id", None)})]


def members(member) -> list[Occurrence]:
    return [Occurrence(member.org_unit_id, lambda within: {
        "member_id": member.id, "group": member.group, "group_label": TARGET_GROUPS.label(member.group),
        "joined_on": _date(to_local(member.joined_at).date() if member.joined_at else None)})]


# ---- the envelope and the bodies ------------------------------------------------------------------

def envelope(event: str, unit: OrgUnit, data: dict, occurred_at) -> tuple[str, str]:
    """(event id, payload text) of one delivery."""
    event_id = str(uuid.uuid4())
    payload = {"id": event_id, "event": event, "occurred_at": occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "org_unit": unit_ref(unit), "data": data}
    return event_id, json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _line(label, value):
    return f"> {label}：<font color=\"comment\">{value}</font>" if value not in (None, "") else ""


def wecom_text(payload: dict) -> str:
    """The robot's markdown: a heading, then a few lines of what happened."""
    data, event = payload.get("data") or {}, payload.get("event")
    unit = (payload.get("org_unit") or {}).get("name", "")
    firm = (data.get("enterprise") or {}).get("name", "")
    lines = [f"**{LABELS.label(event)}**"]
    if event == "visit.created":
        lines += [_line("企业", firm), _line("方式", data.get("kind_label")), _line("日期", data.get("visited_on"))]
    elif event == "meeting.created":
        names = "、".join(e["name"] for e in data.get("enterprises") or [])
        lines += [_line("类型", data.get("kind_label")), _line("日期", data.get("held_on")), _line("企业", names)]
    elif event in ("followup.assigned", "followup.overdue"):
        lines += [_line("任务", data.get("title")), _line("企业", firm), _line("到期", data.get("due_on"))]
    elif event == "enterprise.stage_changed":
        move = f"{(data.get('from_stage') or {}).get('label', '')} → {(data.get('to_stage') or {}).get('label', '')}"
        lines += [_line("企业", firm), _line("进度", move), _line("日期", data.get("occurred_on"))]
    elif event == "member.joined":
        lines += [_line("群体", data.get("group_label")), _line("日期", data.get("joined_on"))]
    elif event == PING:
        lines += ["> 一企一档推送接口已连通，这是一条测试消息。"]
    lines.append(_line("单位", unit))
    text = "\n".join(line for line in lines if line)
    while len(text.encode("utf-8")) > WECOM_LIMIT:
        text = text[:-100]
    return text


def body(fmt: str, payload_text: str) -> str:
    """What is sent: the envelope itself, or for a 企业微信 robot its markdown message."""
    if fmt != "wecom":
        return payload_text
    content = wecom_text(json.loads(payload_text))
    return json.dumps({"msgtype": "markdown", "markdown": {"content": content}}, ensure_ascii=False,
                      separators=(",", ":"))
