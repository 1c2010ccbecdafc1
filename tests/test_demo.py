"""The demo data set: one load (8 production-strength password hashes, ~5 s), checked from every side."""
import csv
from datetime import timedelta
import time

import pytest
from peewee import fn
from werkzeug.security import check_password_hash

from crm import demo
from crm.demo import vocabulary
from crm.auth.models import User
from crm.auth.services import password_problem
from crm.common.errors import ServiceError
from crm.common.timeutil import local_today
from crm.enterprises import creditcode
from crm.enterprises.models import Contact, Enterprise
from crm.enterprises.validation import phone_problem
from crm.founding import stages
from crm.founding.models import FoundingEvent
from crm.org.models import OrgUnit
from crm.org.services import DAXING_CSV

TOWN_LEVEL = ("town", "street", "industrial_park")


def test_demo_password_is_acceptable(app):
    with app.app_context():
        for username, *_ in vocabulary.USERS:
            assert password_problem(demo.DEMO_PASSWORD, username) is None


def test_load_demo(app, capsys):
    with app.app_context():
        _check_load_demo(capsys)


def _check_load_demo(capsys):
    assert demo.is_empty()
    started = time.perf_counter()
    logins = demo.load_demo()
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nload_demo: {elapsed:.2f} s")
    assert not demo.is_empty()

    # The org tree is Daxing's, from the CSV.
    with open(DAXING_CSV, encoding="utf-8-sig") as fh:
        assert OrgUnit.select().count() == len(list(csv.DictReader(fh))) == 29

    # Logins: an admin among them, each one real and working with the demo password.
    assert any(login.role == "admin" for login in logins)
    by_name = {login.username: login for login in logins}
    assert {"admin", "leader", "kouyj", "yanrb", "daimz"} <= set(by_name)
    assert by_name["kouyj"].name == "寇亚娇" and by_name["kouyj"].org_name == "高米店街道总工会服务站"
    assert User.select().count() == len(logins) <= 10
    for login in logins:
        user = User.get(username=login.username)
        assert user.role == login.role and user.org_unit.name == login.org_name
    assert check_password_hash(User.get(username="admin").password_hash, demo.DEMO_PASSWORD)

    # 300 files, valid and unique credit codes, every town-level unit covered.
    ents = list(Enterprise.select())
    assert len(ents) == 300
    codes = [e.credit_code for e in ents if e.credit_code]
    assert len(codes) == len(set(codes)) and len(codes) >= 250
    assert all(creditcode.is_valid(c) for c in codes)
    union_codes = [e.union_credit_code for e in ents if e.union_credit_code]
    assert union_codes and all(c.startswith("81") and creditcode.is_valid(c) for c in union_codes)
    assert len(set(union_codes)) == len(union_codes)
    town_level = OrgUnit.select().where(OrgUnit.kind.in_(TOWN_LEVEL))
    used_units = {e.org_unit_id for e in ents}
    assert all(u.id in used_units for u in town_level)
    assert len({e.name for e in ents}) == 300

    # A believable spread over the founding track.
    used_stages = {e.stage for e in ents}
    assert len(used_stages) >= 5
    statuses = {e.union_status for e in ents}
    assert {"none", "founded"} <= statuses
    founded = [e for e in ents if e.union_status == "founded"]
    assert 0.12 * len(ents) <= len(founded) <= 0.35 * len(ents)
    assert all(e.union_name and e.union_founded_on and e.union_chair and e.member_count
               and e.union_form and e.union_term_end for e in founded)
    assert all(e.union_credit_code for e in ents if e.stage == "registered")
    assert {"on_hold", "declined", "not_eligible"} & used_stages

    # Names people search for in the demo.
    assert any("京东" in e.name for e in ents)
    assert any("众美城" in e.name for e in ents)
    assert {"环宇坊", "瀛嘉汇", "众美城MIMO公馆"} <= {e.area for e in ents}
    assert any(e.category == "delivery" and e.new_form_workers for e in ents)

    # Each file's stage is where its founding track ends; tracks never run into the future.
    latest = {}
    for ev in FoundingEvent.select().order_by(FoundingEvent.occurred_on, FoundingEvent.id):
        latest[ev.enterprise_id] = ev
    assert set(latest) == {e.id for e in ents}
    assert all(latest[e.id].to_stage == e.stage for e in ents)
    for events in _tracks().values():
        assert events[0].kind == "initial"
        for prev, ev in zip(events, events[1:]):
            assert ev.from_stage == prev.to_stage
            assert ev.kind == stages.move_kind(prev.to_stage, ev.to_stage)
            assert prev.occurred_on <= ev.occurred_on
            if ev.kind in stages.NOTE_REQUIRED:
                assert ev.note
    assert FoundingEvent.select(fn.MAX(FoundingEvent.occurred_on)).scalar() <= local_today()

    # Contacts: most files have a primary one, every phone valid.
    with_primary = {c.enterprise_id for c in Contact.select().where(Contact.is_primary == True)}  # noqa: E712
    assert len(with_primary) >= 0.8 * len(ents)
    assert all(phone_problem(c.phone) is None for c in Contact.select())

    _check_field_work()
    _check_followups()
    _check_reports()

    # Loading twice is refused rather than doubling the data.
    with pytest.raises(ServiceError):
        demo.load_demo()
    assert Enterprise.select().count() == 300
    assert demo.existing_logins() == logins


def _tracks():
    tracks = {}
    for ev in FoundingEvent.select().order_by(FoundingEvent.occurred_on, FoundingEvent.id):
        tracks.setdefault(ev.enterprise_id, []).append(ev)
    return tracks


def _check_field_work():
    """A year of field work with the figures of a real unit's year."""
    from crm.compliance.calendar import third_thursday
    from crm.demo.fieldwork import report_span
    from crm.meetings.models import Meeting, MeetingEnterprise, MeetingNewMembers
    from crm.trainings.models import Training
    from crm.visits.models import Visit
    start, end = report_span(local_today())
    units = {u.code: u for u in OrgUnit.select()}

    def meetings_of(code):
        path = units[code].path
        return list(Meeting.select().join(OrgUnit).where(OrgUnit.path.startswith(path), Meeting.held_on >= start,
                                                         Meeting.held_on <= end, Meeting.archived == False))  # noqa: E712

    # 高米店: 26 events, 292 couriers and riders joining.
    gaomidian = meetings_of("gaomidian")
    assert len(gaomidian) == 26
    assert sum(m.new_members for m in gaomidian) == 292
    groups = {r.group for r in MeetingNewMembers.select().where(MeetingNewMembers.meeting.in_([m.id for m in gaomidian]))}
    assert groups <= {"courier", "rider"}
    # ... each of them on the roster, signed up by the meeting's QR code and confirmed; some came
    # back to later meetings (attendance, not new members); the paper forms count the others.
    from crm.members.models import Member, SignUp
    station = units["gaomidian_station"]
    roster = Member.select().where(Member.org_unit == station.id)
    assert roster.count() == 292 and roster.where(Member.state != "active").count() == 0
    assert all(len(m.phone_mask) == 11 and "****" in m.phone_mask for m in roster)
    signups = SignUp.select().where(SignUp.meeting.in_([m.id for m in gaomidian]))
    assert signups.where(SignUp.is_new == True).count() == 292  # noqa: E712
    assert signups.where(SignUp.is_new == False).count() > 0  # noqa: E712
    assert sum(m.attendees for m in gaomidian) == signups.count() + sum(m.paper_attendees for m in gaomidian)
    assert roster.where(Member.card_issued == True).count() > 0  # noqa: E712
    # Its activities take sign-ups: one held with check-ins, one full with a waiting list.
    from crm.activities.models import ServiceActivity
    published = list(ServiceActivity.select().where(ServiceActivity.org_unit == station.id,
                                                    ServiceActivity.signup_open == True))  # noqa: E712
    states = [{s.state for s in SignUp.select().where(SignUp.activity == a.id)} for a in published]
    assert len(published) == 3 and {"waitlisted"} < states[1]
    held = published[0]
    assert held.participants == SignUp.select().where(SignUp.activity == held.id, SignUp.counted == True).count() > 0  # noqa: E712
    # 瀛海: a staff meeting every Thursday, two one-on-one enterprise meetings a month, 15 trainings.
    yinghai = meetings_of("yinghai")
    thursdays = {m.held_on for m in yinghai if m.kind == "staff"}
    day = start + timedelta(days=(3 - start.weekday()) % 7)
    while day <= end:
        assert day in thursdays, day
        day += timedelta(days=7)
    one_on_one = [m for m in yinghai if m.kind == "enterprise" and m.format == "one_on_one"]
    assert len(one_on_one) >= 2 * (end.month - 1)
    assert Training.select().where(Training.org_unit == units["yinghai"].id, Training.held_on >= start).count() == 15
    assert any("bank" in m.partners and m.cards for m in yinghai)
    # 庞各庄 works at 众美城MIMO公馆 with the party office, the Youth League and the Women's Federation.
    assert any(m.point_id and m.point.name == "众美城MIMO公馆" and {"party", "youth", "women"} <= set(m.partners.split(","))
               for m in meetings_of("panggezhuang"))
    # The district meeting on every third Thursday.
    district = {m.held_on for m in Meeting.select().where(Meeting.level == "district", Meeting.held_on >= start)}
    assert all(third_thursday(end.year, mo) in district for mo in range(1, end.month + 1)
               if third_thursday(end.year, mo) <= end)
    # 西红门 visits each unionized enterprise every month.
    xhm = [e for e in Enterprise.select().where(Enterprise.org_unit == units["xihongmen"].id)
           if e.union_status == "founded"]
    assert xhm
    first = {}
    for e in FoundingEvent.select().where(FoundingEvent.to_stage == "contacted").order_by(FoundingEvent.occurred_on):
        first.setdefault(e.enterprise_id, e.occurred_on)
    for ent in xhm:
        months = {v.visited_on.month for v in Visit.select().where(Visit.enterprise == ent.id, Visit.visited_on >= start)}
        since = max(start, first.get(ent.id, start)).month
        assert months >= set(range(since + 1, end.month)), ent.name
    # No field work with a firm before its track's first contact.
    for ent_id, day in first.items():
        assert not Visit.select().where(Visit.enterprise == ent_id, Visit.visited_on < day).exists()
        assert not (MeetingEnterprise.select().join(Meeting)
                    .where(MeetingEnterprise.enterprise == ent_id, Meeting.held_on < day).exists())
    # Contact dates agree with the records; every first-contact move names its record.
    for ent in Enterprise.select():
        days = [v.visited_on for v in Visit.select().where(Visit.enterprise == ent.id)]
        days += [m.held_on for m in Meeting.select().join(MeetingEnterprise).where(MeetingEnterprise.enterprise == ent.id)]
        assert ent.last_contact_on == (max(days) if days else None), ent.name
    moves = FoundingEvent.select().where(FoundingEvent.to_stage == "contacted", FoundingEvent.kind != "initial")
    assert moves.count() and all(e.record_kind in ("visit", "meeting") and e.record_id for e in moves)


def _check_followups():
    """The supervisors' boards and the suggestions show plausible, non-empty work."""
    from crm.followups import queries, suggestions
    from crm.followups.models import FollowUp
    for boss, staff in (("kouyj", "liuxq"), ("zhangh", "lijw")):
        rows = {r.user.username: r for r in queries.board(User.get(username=boss))}
        mine = rows[staff]
        assert mine.open >= 5 and mine.overdue >= 1 and mine.week >= 1 and mine.done_month >= 3, (staff, mine)
        buckets = queries.my_buckets(User.get(username=staff))
        assert buckets["overdue"] and buckets["today"] and buckets["later"]
        counts = suggestions.counts(User.get(username=boss))
        assert sum(1 for n in counts.values() if n) >= 2 and sum(counts.values()) >= 5, (boss, counts)
        for rule, n in counts.items():
            if n:
                items, _ = suggestions.page(User.get(username=boss), rule)
                assert items and all(s.reason for s in items)
    for username in ("yanrb", "daimz"):
        assert queries.nav_counts(User.get(username=username))[0] >= 2
    done = list(FollowUp.select().where(FollowUp.status == "done"))
    assert len(done) >= 6
    assert all(fu.completed_visit_id and fu.completed_visit.enterprise_id == fu.enterprise_id for fu in done)
    assert FollowUp.select().where(FollowUp.source == "need").exists()
    assert FollowUp.select().where(FollowUp.source == "visit").exists()
    assert FollowUp.select().where(FollowUp.status == "cancelled").exists()


def _check_reports():
    """The district grid shows a mix of met and missed months; 高米店's station has the yearly
    totals of a real unit's year on its dashboard; the monthly report builds for the district."""
    from collections import Counter

    from crm.compliance.calendar import Period
    from crm.compliance.views import grid_rows
    from crm.dashboard.queries import figures
    from crm.demo.fieldwork import report_span
    from crm.reports.monthly import build
    today = local_today()
    start, end = report_span(today)
    admin = User.get(username="admin")
    rows = grid_rows(admin, start.year, today)
    states = Counter(state for _, cells in rows for _, state, _ in cells if state != "future")
    assert states["met"] >= 20 and states["missed"] >= 20, states
    towns_mostly_met = [unit.name for unit, cells in rows
                        if sum(1 for _, s, _ in cells if s == "met") >= sum(1 for _, s, _ in cells if s == "missed") > 0]
    assert towns_mostly_met, "some units keep the rules most months"
    station = OrgUnit.get(OrgUnit.code == "gaomidian_station")
    f = figures(station, Period(start, end), today)
    assert (f.staff_meetings + f.enterprise_meetings, f.members_total) == (26, 292)
    from crm.compliance.evaluate import Evaluator
    xihongmen = OrgUnit.get(OrgUnit.code == "xihongmen")
    ev = Evaluator([xihongmen], start.year, today)
    monthly = [ev.check("unionized_monthly", xihongmen, m) for m in range(start.month, end.month + 1)]
    assert all(c.state != "off" and c.total for c in monthly)      # 西红门 chose the rule
    assert sum(1 for c in monthly if c.state == "met") >= len(monthly) // 2
    report = build(admin, OrgUnit.get(OrgUnit.parent.is_null()), end.year, end.month, today)
    assert len(report.rows) >= 20 and report.district
