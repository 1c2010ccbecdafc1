"""会员台账: the members a user may see (scoped by the unit that recruited them), their filters
from the URL, one page of them with what each row shows, and a member's sign-ups.

Void members (whose only sign-up was rejected) are never listed. Phones are matched only by a
full number typed (its keyed hash, crm.members.phones.match_key), never by a part of one: the
stored numbers are encrypted, and a partial match would let a list guess them digit by digit."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from peewee import JOIN

from crm.activities.models import ServiceActivity
from crm.common.numbers import arg_id, arg_page
from crm.common.text import clean, safe_text
from crm.common.timeutil import LOCAL_TZ, fmt_date
from crm.db import db
from crm.enterprises.models import Enterprise
from crm.fieldwork import ledger
from crm.fieldwork.choices import TARGET_GROUPS
from crm.meetings.models import Meeting, OutreachPoint
from crm.members import phones
from crm.members.choices import MEMBER_STATES, PLATFORMS
from crm.members.models import Member, SignUp
from crm.org.models import OrgUnit
from crm.org.queries import subtree_ids
from crm.permissions import get_or_404, in_scope, scoped

LISTED_STATES = ("pending", "active")  # 待确认 and 会员; void ones never
CARD_FILTERS = (("1", "已办理"), ("0", "未办理"))
STATE_FILTERS = tuple((k, MEMBER_STATES.label(k)) for k in LISTED_STATES)
# Sign-ups that did not stand: the member did not come (or was refused) there.
NOT_THERE = ("rejected", "cancelled")


_KEY = re.compile(r"[0-9a-f]{64}")
_MASK = re.compile(r"1\d\d\*{4}\d{4}")


def phone_search(args) -> dict | None:
    """A full number typed in the search box, as the URL arguments that look for it instead: its
    keyed hash and its mask. The roster answers such a search by a redirect to them, so that the
    number itself stays out of the pages, their links, the export's audit entry and the browser's
    history. None when the box holds no full number."""
    number = phones.normalise(args.get("q"))
    if number is None:
        return None
    out = {k: v for k, v in args.to_dict(flat=False).items() if k not in ("q", "page", "phone", "pm")}
    out.update(phone=[phones.match_key(number)], pm=[phones.mask(number)])
    return out


def _day_start(day: date) -> datetime:
    """The first instant of a Beijing day as a stored (naive UTC) time."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(timezone.utc).replace(tzinfo=None)


@dataclass
class RosterArgs:
    """The roster's filters, read from the URL (a filtered roster can be bookmarked and
    exported as shown). A filter that does not parse is left out, with its message in `errors`."""
    q: str = ""
    group: str = ""
    platform: str = ""
    org: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    meeting: int | None = None
    point: int | None = None
    card: str = ""
    state: str = ""
    archived: str = ""  # "" current members, "1" archived only
    page: int = 1
    errors: dict = field(default_factory=dict)
    meeting_record: Meeting | None = None  # the meeting filtered by, when it is in scope
    phone_key: str | None = None  # the keyed hash of a full number looked for (see phone_search)
    phone_mask: str = ""          # and how it is shown (138****5678)

    @classmethod
    def from_request(cls, args, user):
        out = cls()
        out.q = clean(safe_text(args.get("q") or ""))[:50]
        if phones.normalise(out.q) is None and sum(ch.isdigit() for ch in out.q) >= 3:
            out.errors["q"] = "按手机号查找请输入完整的 11 位号码"
        if _KEY.fullmatch(args.get("phone") or ""):
            out.phone_key = args["phone"]
            out.phone_mask = args.get("pm") if _MASK.fullmatch(args.get("pm") or "") else "（已隐藏）"
        out.group = args.get("group", "") if args.get("group") in TARGET_GROUPS else ""
        out.platform = args.get("platform", "") if args.get("platform") in PLATFORMS else ""
        out.org = arg_id(args, "org")
        ledger.read_date_range(args, out)
        out.meeting = arg_id(args, "meeting")
        if out.meeting:
            out.meeting_record = scoped(Meeting, user).where(Meeting.id == out.meeting).first()
            if out.meeting_record is None:
                out.errors["meeting"] = "找不到这场沟通会，或不在您的管辖范围内"
        out.point = arg_id(args, "point")
        out.card = args.get("card", "") if args.get("card") in ("1", "0") else ""
        out.state = args.get("state", "") if args.get("state") in LISTED_STATES else ""
        out.archived = "1" if args.get("archived") == "1" else ""
        out.page = arg_page(args)
        return out

    @property
    def meeting_label(self) -> str:
        m = self.meeting_record
        return f"沟通会：{fmt_date(m.held_on)} {m.title or m.venue or m.org_unit.name}" if m else ""

    def dates_ok(self, name) -> bool:
        return getattr(self, name) is not None and name not in self.errors and "date_from" not in self.errors


def members(user):
    """The members the user may see: those recruited by their unit or a unit below it."""
    return scoped(Member, user).where(Member.state.in_(LISTED_STATES))


def filtered(user, a: RosterArgs):
    """The roster's members under the filters, newest first (a narrow query of Member alone)."""
    query = members(user).where(Member.archived == (a.archived == "1"))
    if a.phone_key:
        query = query.where(Member.phone_key == a.phone_key)
    if a.q and phones.normalise(a.q) is None:  # (a part of a number is looked for in names: it finds nobody)
        query = query.where(Member.name.contains(a.q))
    if a.group:
        query = query.where(Member.group == a.group)
    if a.platform:
        query = query.where(Member.platform == a.platform)
    if a.org:
        unit = OrgUnit.get_or_none(OrgUnit.id == a.org)
        if unit is not None:
            query = query.where(Member.org_unit.in_(subtree_ids(unit)))
    if a.dates_ok("date_from"):
        query = query.where(Member.joined_at >= _day_start(a.date_from))
    if a.dates_ok("date_to"):
        query = query.where(Member.joined_at < _day_start(a.date_to + timedelta(days=1)))
    if a.meeting_record is not None:
        came = SignUp.select(SignUp.member).where(SignUp.meeting == a.meeting_record.id,
                                                  SignUp.state.not_in(NOT_THERE))
        query = query.where(Member.id.in_(came))
    if a.point:
        # At the point itself, or at a meeting held there (a point's sign-up goes to the meeting
        # logged there that day).
        held_there = Meeting.select(Meeting.id).where(Meeting.point == a.point)
        came = SignUp.select(SignUp.member).where((SignUp.point == a.point) | SignUp.meeting.in_(held_there),
                                                  SignUp.state.not_in(NOT_THERE))
        query = query.where(Member.id.in_(came))
    if a.card:
        query = query.where(Member.card_issued == (a.card == "1"))
    if a.state:
        query = query.where(Member.state == a.state)
    return query.order_by(Member.joined_at.desc(), Member.id.desc())


def count(query) -> tuple[int, bool]:
    """(how many, whether more than LIST_COUNT_CAP): counting stops past the cap."""
    cap = current_app.config["LIST_COUNT_CAP"]
    sql, params = query.order_by().select(Member.id).limit(cap + 1).sql()
    total = db.execute_sql(f"SELECT COUNT(*) FROM ({sql}) AS c", params).fetchone()[0]
    return total, total > cap


def with_units(select):
    return select.select(Member, OrgUnit).join(OrgUnit, on=(Member.org_unit == OrgUnit.id))


def page(user, a: RosterArgs) -> ledger.LedgerPage:
    return ledger.page_of(filtered(user, a), a.page, rows_of=with_units)


def point_choices(user) -> list:
    """The outreach points the user may see, for the filter (id, name)."""
    return list(scoped(OutreachPoint, user).select(OutreachPoint.id, OutreachPoint.name)
                .where(OutreachPoint.archived == False)  # noqa: E712
                .order_by(OutreachPoint.name).tuples())


# ---- what a row shows ------------------------------------------------------------------------

@dataclass
class Place:
    """Where a sign-up was: its kind's word, what the reader may read of it, its page."""
    kind: str       # meeting, point, activity
    label: str      # 沟通会 · 固定点位 · 服务活动
    text: str       # its day and title, or the unit's name when outside the reader's scope
    endpoint: str | None
    record_id: int | None
    name: str = ""  # its title alone (what a list beside the day shows)

    def __str__(self):
        return f"{self.label}：{self.text}" if self.text else self.label

    @property
    def short(self) -> str:
        return f"{self.label}：{self.name or self.text}" if (self.name or self.text) else self.label


def _signups_with_records():
    return (SignUp.select(SignUp, Meeting, OutreachPoint, ServiceActivity)
            .join_from(SignUp, Meeting, JOIN.LEFT_OUTER, on=(SignUp.meeting == Meeting.id))
            .join_from(SignUp, OutreachPoint, JOIN.LEFT_OUTER, on=(SignUp.point == OutreachPoint.id))
            .join_from(SignUp, ServiceActivity, JOIN.LEFT_OUTER, on=(SignUp.activity == ServiceActivity.id)))


def place_of(signup: SignUp, user, units: dict) -> Place:
    """The meeting, point or activity of a sign-up; named and linked only when the reader may
    see it (else: the unit it belongs to). `units`: {org unit id: OrgUnit}."""
    if signup.meeting_id:
        record, kind, label, endpoint = signup.meeting, "meeting", "沟通会", "meetings.show"
        name = record.title or record.venue or ""
        text = f"{fmt_date(record.held_on)} {name}".strip()
    elif signup.activity_id:
        record, kind, label, endpoint = signup.activity, "activity", "服务活动", "activities.show"
        name = record.title
        text = f"{fmt_date(record.held_on)} {name}"
    else:
        record, kind, label, endpoint = signup.point, "point", "固定点位", "meetings.point_show"
        name = text = record.name
    unit = units.get(record.org_unit_id)
    if unit is not None and in_scope(user, unit):
        return Place(kind, label, text, endpoint, record.id, name)
    return Place(kind, label, unit.name if unit is not None else "", None, None)


def _units(ids) -> dict:
    ids = list(set(ids))
    return {u.id: u for u in OrgUnit.select().where(OrgUnit.id.in_(ids))} if ids else {}


def _record_unit_ids(signups):
    for s in signups:
        record = s.meeting if s.meeting_id else s.activity if s.activity_id else s.point
        yield record.org_unit_id


@dataclass
class RowInfo:
    joined_at: Place | None
    enterprise: Enterprise | None  # the linked file, when the reader may see it


def row_info(members_, user) -> dict:
    """{member id: RowInfo} for a page (or a batch) of members, in three queries: where each
    joined (the sign-up that made them), the units of those records, the linked files the user
    may see."""
    ids = [m.id for m in members_]
    if not ids:
        return {}
    joined = list(_signups_with_records().where(SignUp.member.in_(ids), SignUp.is_new == True))  # noqa: E712
    units = _units(_record_unit_ids(joined))
    places = {s.member_id: place_of(s, user, units) for s in joined}
    firm_ids = {m.enterprise_id for m in members_ if m.enterprise_id}
    firms = ({e.id: e for e in scoped(Enterprise, user).where(Enterprise.id.in_(list(firm_ids)))}
             if firm_ids else {})
    return {m.id: RowInfo(places.get(m.id), firms.get(m.enterprise_id)) for m in members_}


def platform_text(member: Member) -> str:
    if member.platform == "other":
        return member.employer or PLATFORMS.label("other")
    return PLATFORMS.label(member.platform)


# ---- one member ------------------------------------------------------------------------------

def get_member_or_404(member_id, user) -> Member:
    """A member the user may see (a void one does not exist for anybody)."""
    return get_or_404(Member, member_id, user, query=Member.select().where(Member.state.in_(LISTED_STATES)))


@dataclass
class SignUpRow:
    signup: SignUp
    place: Place


def signups_of(member: Member, user) -> list[SignUpRow]:
    """Every sign-up of the member (meetings, points, activities they came to), newest first."""
    rows = list(_signups_with_records().where(SignUp.member == member.id)
                .order_by(SignUp.signed_at.desc(), SignUp.id.desc()))
    units = _units(_record_unit_ids(rows))
    return [SignUpRow(s, place_of(s, user, units)) for s in rows]
