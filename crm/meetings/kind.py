from peewee import fn

from crm.common.timeutil import fmt_date
from crm.enterprises.models import Enterprise
from crm.fieldwork.choices import (MEETING_FORMATS, MEETING_KINDS, MEETING_LEVELS, PARTNERS, POINT_KINDS,
                                   SERVICES, TARGET_GROUPS, labels)
from crm.fieldwork.registry import Kind, register
from crm.meetings.models import Meeting, MeetingEnterprise, MeetingNewMembers, OutreachPoint
from crm.org.models import OrgUnit
from crm.permissions import get_or_404, in_scope, scoped


def get_meeting_or_404(record_id, user) -> Meeting:
    return get_or_404(Meeting, record_id, user)


def get_point_or_404(record_id, user) -> OutreachPoint:
    return get_or_404(OutreachPoint, record_id, user)


def new_members_text(meeting_id, paper=False) -> str:
    """新入会人数 by group ("快递员 3、外卖送餐员 5"); `paper`: only those typed from paper forms."""
    rows = (MeetingNewMembers.select().where(MeetingNewMembers.meeting == meeting_id)
            .order_by(MeetingNewMembers.id))
    return "、".join(f"{TARGET_GROUPS.label(r.group)} {r.paper if paper else r.count}" for r in rows
                    if (r.paper if paper else r.count))


def enterprise_names(meeting_id) -> str:
    rows = (Enterprise.select(Enterprise.name).join(MeetingEnterprise, on=(MeetingEnterprise.enterprise == Enterprise.id))
            .where(MeetingEnterprise.meeting == meeting_id).order_by(MeetingEnterprise.id).tuples())
    return "、".join(n for (n,) in rows)


def snapshot(m: Meeting) -> dict:
    return {"类型": MEETING_KINDS.label(m.kind), "级别": MEETING_LEVELS.label(m.level),
            "形式": MEETING_FORMATS.label(m.format), "组织单位": m.org_unit.name,
            "日期": fmt_date(m.held_on), "时间": m.start_time.strftime("%H:%M") if m.start_time else "",
            "主题": m.title, "地点": m.venue, "固定点位": m.point.name if m.point_id else "",
            "面向群体": labels(TARGET_GROUPS, m.target_groups), "参加人数（纸质登记）": str(m.paper_attendees),
            "新入会人数（纸质登记）": new_members_text(m.id, paper=True), "会员互助服务卡办理数": str(m.cards),
            "服务内容": labels(SERVICES, m.services), "合作单位": labels(PARTNERS, m.partners),
            "参会企业": enterprise_names(m.id), "内容摘要": m.summary}


def point_snapshot(p: OutreachPoint) -> dict:
    return {"名称": p.name, "地址": p.address, "所属工会": p.org_unit.name,
            "类型": POINT_KINDS.label(p.kind), "活动时间": p.schedule,
            "常见群体": labels(TARGET_GROUPS, p.target_groups), "备注": p.notes}


def timeline_keys(ent_id):
    return (Meeting.select(Meeting.id, Meeting.held_on, Meeting.created_at).join(MeetingEnterprise)
            .where(MeetingEnterprise.enterprise == ent_id, Meeting.archived == False).tuples())  # noqa: E712


def timeline_items(ent, user, ids):
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
                     "who": m.org_unit.name, "endpoint": "meetings.show", "args": {"record_id": m.id}}
    return out


def contact_days(ent_ids):
    return (MeetingEnterprise.select(MeetingEnterprise.enterprise, fn.MAX(Meeting.held_on))
            .join(Meeting).where(MeetingEnterprise.enterprise.in_(ent_ids), Meeting.archived == False)  # noqa: E712
            .group_by(MeetingEnterprise.enterprise).tuples())


def recent(user, limit, among_latest=None):
    """The 沟通会 the user recorded, newest first."""
    query = (scoped(Meeting, user).where(Meeting.created_by == user.id, Meeting.archived == False)  # noqa: E712
             .order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit))
    return [(r.held_on, "沟通会", MEETING_KINDS.label(r.kind) + (f"：{r.title or r.venue}" if (r.title or r.venue) else ""), "meetings.show", r.id) for r in query]


KIND = register(Kind("meeting", "沟通会", Meeting, get_meeting_or_404, "meetings.show", snapshot,
                     timeline_label="沟通会", timeline_keys=timeline_keys, timeline_items=timeline_items,
                     contact_days=contact_days, recent=recent))
POINT = register(Kind("point", "固定点位", OutreachPoint, get_point_or_404, "meetings.point_show",
                      point_snapshot))
