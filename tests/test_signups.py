"""Sign-ups by QR code: one member per phone across the district, the links' expiry and
signature, the abuse bounds, phones protected at rest, and the meeting's counts from confirmed
sign-ups plus paper forms (SQLite and PostgreSQL)."""
import re
import threading
from datetime import timedelta

import pytest

from crm.audit.models import AuditEvent
from crm.common.timeutil import local_today, utcnow
from crm.db import db, is_postgres
from crm.meetings.models import Meeting, MeetingNewMembers, OutreachPoint
from crm.members import links, phones, services
from crm.members.models import Member, SignUp
from crm.models import MODELS
from tests.conftest import login_as

ANSWERS = {"name": "王师傅", "phone": "13911112222", "group": "rider", "platform": "meituan",
           "station": "美团高米店站", "consent": "y"}


@pytest.fixture
def unit(make):
    return make.org("高米店街道总工会")


@pytest.fixture
def staff(make, unit):
    return make.user("staff", unit)


def token_of(app, kind, record):
    with app.test_request_context():
        return links.token_for(kind, record)


def open_form(client, token):
    resp = client.get(f"/join/{token}")
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', resp.get_data(as_text=True))
    return resp, (match.group(1) if match else None)


def sign(client, token, **answers):
    """The worker's page opened and sent: the answer to the POST (a 303 to the confirmation)."""
    _, csrf = open_form(client, token)
    return client.post(f"/join/{token}", data={"csrf_token": csrf, **ANSWERS, **answers})


def outcome(client, resp) -> str:
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    return re.search(r'id="outcome">([^<]+)<', page).group(1)


def confirm_all(app, meeting, user):
    with app.app_context():
        ids = [s.id for s in SignUp.select().where(SignUp.meeting == meeting.id)]
        services.decide(ids, user, confirm=True)
    return Meeting.get_by_id(meeting.id)


# ---- the worker's page ----------------------------------------------------------------------

def test_a_worker_joins_and_a_known_phone_is_attendance_across_the_district(app, make, unit, staff):
    other_unit = make.org("瀛海镇总工会")
    other_staff = make.user("staff", other_unit)
    first = make.meeting(staff, kind="staff", attendees=0)
    second = make.meeting(other_staff, kind="staff", attendees=0)
    client = app.test_client()
    assert outcome(client, sign(client, token_of(app, "meeting", first))) == "登记成功，欢迎加入工会！"
    # The same phone, typed differently, at another unit's meeting: the same person.
    resp = sign(app.test_client(), token_of(app, "meeting", second), phone="+86 139-1111-2222", name="别人")
    assert outcome(client, resp) == "您已是会员，本次签到已记录"
    member = Member.get()
    assert Member.select().count() == 1 and member.name == "王师傅" and member.org_unit_id == unit.id
    assert member.state == "pending" and member.phone_mask == "139****2222"
    rows = {s.meeting_id: s for s in SignUp.select()}
    assert rows[first.id].is_new and not rows[second.id].is_new
    first, second = confirm_all(app, first, staff), confirm_all(app, second, other_staff)
    assert (first.attendees, first.new_members, second.attendees, second.new_members) == (1, 1, 1, 0)
    assert Member.get().state == "active"


def test_bad_answers_get_their_message_beside_the_field_and_keep_what_was_typed(app, staff):
    meeting = Meeting.get_by_id(_meeting(app, staff).id)
    client = app.test_client()
    resp = sign(client, token_of(app, "meeting", meeting), phone="1391111", station="顺丰亦庄营业部")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "请填写正确的 11 位手机号" in html and 'id="phone-error"' in html
    assert 'value="王师傅"' in html and 'value="顺丰亦庄营业部"' in html and 'value="1391111"' in html
    for answers, message in (({"name": " "}, "请填写姓名"), ({"group": "pilot"}, "请选择您的职业群体"),
                             ({"platform": ""}, "请选择所在平台或单位"),
                             ({"platform": "other", "employer": ""}, "请填写所在单位名称"),
                             ({"consent": ""}, "请阅读并勾选同意后再提交"),
                             ({"name": "名" * 5000}, "不能超过")):
        resp = sign(client, token_of(app, "meeting", meeting), **answers)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), answers
    assert Member.select().count() == 0 and SignUp.select().count() == 0


def _meeting(app, user, **data):
    from tests.factories import Factory
    return Factory(app).meeting(user, kind="staff", **data)


def test_an_expired_a_forged_and_a_closed_link_are_refused(app, staff, make):
    yesterday = make.meeting(staff, kind="staff", held_on=local_today() - timedelta(days=1))
    client = app.test_client()
    resp = client.get(f"/join/{token_of(app, 'meeting', yesterday)}")
    assert resp.status_code == 410 and links.EXPIRED in resp.get_data(as_text=True)
    today = make.meeting(staff, kind="staff")
    token = token_of(app, "meeting", today)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    resp = client.get(f"/join/{forged}")
    assert resp.status_code == 404 and links.FORGED in resp.get_data(as_text=True)
    assert client.get("/join/" + "x" * 3000).status_code == 404
    # Another record's id in a token signed with another key is forged too.
    from itsdangerous import URLSafeSerializer
    alien = URLSafeSerializer("another-key", salt="crm-member-signup").dumps(["m", today.id])
    assert client.get(f"/join/{alien}").status_code == 404
    Meeting.update(archived=True).where(Meeting.id == today.id).execute()
    resp = client.get(f"/join/{token}")
    assert resp.status_code == 410 and links.CLOSED in resp.get_data(as_text=True)
    # The POST is refused the same way, and nothing is stored.
    assert client.post(f"/join/{token}", data=ANSWERS).status_code in (400, 410)
    assert SignUp.select().count() == 0


def test_a_point_link_lasts_its_days_and_renewing_ends_the_old_one(app, staff, make):
    point = OutreachPoint.create(name="高米店暖心驿站", org_unit=staff.org_unit, kind="warm_station",
                                 created_by=staff, link_issued_at=utcnow())
    old = token_of(app, "point", point)
    client = app.test_client()
    assert outcome(client, sign(client, old)) == "登记成功，欢迎加入工会！"
    with app.app_context():
        services.renew_point_link(OutreachPoint.get_by_id(point.id), staff)
    resp = client.get(f"/join/{old}")
    assert resp.status_code == 410 and links.EXPIRED in resp.get_data(as_text=True)
    new = token_of(app, "point", OutreachPoint.get_by_id(point.id))
    assert client.get(f"/join/{new}").status_code == 200
    OutreachPoint.update(link_issued_at=utcnow() - timedelta(days=app.config["POINT_LINK_DAYS"], seconds=1)) \
        .where(OutreachPoint.id == point.id).execute()
    assert client.get(f"/join/{new}").status_code == 410


def test_a_point_sign_up_goes_to_the_meeting_held_there_today(app, staff, make):
    point = OutreachPoint.create(name="万达广场外卖等餐点", org_unit=staff.org_unit, kind="rider_spot",
                                 created_by=staff)
    token = token_of(app, "point", point)
    client = app.test_client()
    sign(client, token, phone="13700000001")
    alone = SignUp.get()
    assert alone.point_id == point.id and alone.meeting_id is None
    meeting = make.meeting(staff, kind="staff", point=point.id)
    sign(client, token, phone="13700000002")
    at_meeting = SignUp.get(SignUp.meeting == meeting.id)
    assert at_meeting.point_id is None and at_meeting.org_unit_id == meeting.org_unit_id


def test_the_honeypot_and_a_burst_from_one_address_are_refused(app, staff):
    meeting = _meeting(app, staff)
    token = token_of(app, "meeting", meeting)
    client = app.test_client()
    resp = sign(client, token, website="http://spam.example")
    assert resp.status_code == 422 and services.HONEYPOT_REFUSED in resp.get_data(as_text=True)
    assert SignUp.select().count() == 0
    app.config["SIGNUP_PER_ADDRESS"] = 3
    for n in range(2):  # the honeypot hit counted as the first of the window
        assert sign(client, token, phone=f"1360000000{n}").status_code == 303
    resp = sign(client, token, phone="13600000009")
    assert resp.status_code == 422 and services.TOO_MANY in resp.get_data(as_text=True)
    assert 'value="13600000009"' in resp.get_data(as_text=True)  # what was typed stays
    assert SignUp.select().count() == 2
    # Another address is not held back; a cadre entering sign-ups on the tablet is not either.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert sign(other, token, phone="13600000010").status_code == 303
    login_as(client, staff)
    resp = sign(client, token, phone="13600000011")
    assert resp.status_code == 303 and SignUp.get(SignUp.id == SignUp.select().count()).via == "staff"


def test_a_meeting_cap_stops_sign_ups(app, staff):
    meeting = _meeting(app, staff)
    Meeting.update(signup_cap=2).where(Meeting.id == meeting.id).execute()
    token = token_of(app, "meeting", meeting)
    for n in range(2):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = f"10.0.0.{n}"
        assert sign(c, token, phone=f"1350000000{n}").status_code == 303
    resp = sign(app.test_client(), token, phone="13500000009")
    assert resp.status_code == 422 and services.FULL in resp.get_data(as_text=True)


def test_a_recognised_phone_reveals_nothing_about_the_person(app, staff, make):
    meeting = _meeting(app, staff)
    token = token_of(app, "meeting", meeting)
    sign(app.test_client(), token, name="李秘密", station="秘密站点", platform="sf", group="courier")
    holder = app.test_client()
    holder.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    later = token_of(app, "meeting", _meeting(app, staff))  # the number typed at another meeting
    resp = sign(holder, later, name="冒名者", station="", platform="meituan", group="rider")
    page = holder.get(resp.headers["Location"]).get_data(as_text=True)
    assert "您已是会员，本次签到已记录" in page
    for secret in ("李秘密", "秘密站点", "顺丰", "快递员", "139****2222", "2222"):
        assert secret not in page, secret
    assert Member.get().name == "李秘密"  # the second answers changed nothing
    # The same number twice at one meeting: recorded once, and nothing said about membership.
    resp = sign(holder, later, name="冒名者")
    page = holder.get(resp.headers["Location"]).get_data(as_text=True)
    assert "本次登记已记录，不需要重复提交" in page and "会员" not in page.split("<h1", 1)[1].split("</h1>")[0]
    assert SignUp.select().count() == 2


# ---- phones at rest -------------------------------------------------------------------------------

def test_the_database_alone_does_not_contain_a_phone_number(app, staff):
    meeting = _meeting(app, staff)
    token = token_of(app, "meeting", meeting)
    numbers = ["13812345678", "15987654321"]
    for n, number in enumerate(numbers):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = f"10.0.1.{n}"
        assert sign(c, token, phone=number).status_code == 303
    confirm_all(app, meeting, staff)
    db.close()  # checkpoint nothing away: the file and its write-ahead log are both read below
    if is_postgres():
        import io
        dump = io.StringIO()
        conn = db.connection()
        with conn.cursor() as cur:
            for model in MODELS:
                cur.copy_expert(f'COPY "{model._meta.table_name}" TO STDOUT', dump)
        data = dump.getvalue().encode()
    else:
        path = db.database
        data = b"".join(open(p, "rb").read() for p in (path, path + "-wal") if __import__("os").path.exists(p))
    assert data
    for number in numbers:
        for form in (number, number[3:], number.encode("utf-16-le").decode("latin-1")):
            assert form.encode("latin-1") not in data, form
    # And yet the app reads them back with its key.
    with app.app_context():
        assert sorted(phones.decrypt(m.phone_secret) for m in Member.select()) == sorted(numbers)


def test_a_full_number_read_is_logged(app, staff, make):
    meeting = _meeting(app, staff)
    sign(app.test_client(), token_of(app, "meeting", meeting))
    supervisor = make.user("supervisor", staff.org_unit)
    with app.test_request_context():
        assert services.reveal_phone(Member.get(), supervisor) == "13911112222"
    event = AuditEvent.get(AuditEvent.kind == "phone_read")
    assert (event.user_id, event.target_kind, event.target_id) == (supervisor.id, "member", Member.get().id)
    assert "13911112222" not in event.detail


def test_erasure_keeps_the_counts_and_forgets_the_phone(app, staff, make):
    meeting = _meeting(app, staff, attendees=4)
    token = token_of(app, "meeting", meeting)
    sign(app.test_client(), token)
    meeting = confirm_all(app, meeting, staff)
    assert (meeting.attendees, meeting.new_members) == (5, 1)
    admin = make.user("admin")
    with app.test_request_context():
        with pytest.raises(Exception):
            services.erase(Member.get(), admin, "")
        services.erase(Member.get(), admin, "本人 2026-12-01 电话申请删除")
    member = Member.get()
    assert member.name == services.ERASED_NAME and member.phone_key is None and member.phone_secret == ""
    assert member.phone_mask == "" and member.station == "" and member.erased_by_id == admin.id
    assert member.group == "rider" and member.org_unit_id == staff.org_unit_id
    with app.app_context():
        from crm.meetings import services as meetings
        meetings.recount(meeting.id)
    meeting = Meeting.get_by_id(meeting.id)
    assert (meeting.attendees, meeting.new_members) == (5, 1)
    assert SignUp.select().count() == 1
    # The same phone signing up again is a stranger now: a new member.
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "10.7.7.7"
    assert outcome(c, sign(c, token_of(app, "meeting", _meeting(app, staff)))) == "登记成功，欢迎加入工会！"
    assert Member.select().count() == 2


# ---- confirming and rejecting -----------------------------------------------------------------

def test_rejecting_the_joining_sign_up_passes_it_on_or_voids_the_member(app, staff, make):
    first, second = _meeting(app, staff), _meeting(app, staff)
    sign(app.test_client(), token_of(app, "meeting", first))
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "10.3.3.3"
    sign(c, token_of(app, "meeting", second))
    joining = SignUp.get(SignUp.meeting == first.id)
    with app.app_context():
        services.decide([SignUp.get(SignUp.meeting == second.id).id], staff, confirm=True)
        assert Meeting.get_by_id(second.id).new_members == 0
        services.decide([joining.id], staff, confirm=False)  # a test entry at the first meeting
    later = SignUp.get(SignUp.meeting == second.id)
    assert later.is_new and not SignUp.get_by_id(joining.id).is_new
    assert Meeting.get_by_id(second.id).new_members == 1 and Meeting.get_by_id(second.id).attendees == 11
    assert Member.get().state == "active"
    # A joke entry with nothing else: the person goes, and nothing counts.
    joke = _meeting(app, staff)
    c.environ_base["REMOTE_ADDR"] = "10.3.3.4"
    sign(c, token_of(app, "meeting", joke), phone="13000000000", name="测试")
    with app.app_context():
        services.decide([SignUp.get(SignUp.meeting == joke.id).id], staff, confirm=False)
    voided = Member.get(Member.name == services.ERASED_NAME)
    assert voided.state == "void" and voided.phone_key is None
    assert Meeting.get_by_id(joke.id).new_members == 0


def test_the_meeting_page_lists_sign_ups_masked_and_staff_confirm_them(app, staff, make):
    meeting = _meeting(app, staff, attendees=8, new_members={"courier": 2})
    sign(app.test_client(), token_of(app, "meeting", meeting))
    client = login_as(app.test_client(), staff)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "139****2222" in page and "13911112222" not in page and "待确认 1" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post(f"/meetings/{meeting.id}/signups", data={"csrf_token": csrf, "action": "confirm_all"})
    assert resp.status_code == 303
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert re.search(r'id="attendees">9 ', page) and "扫码登记 1，纸质登记 8" in page
    meeting = Meeting.get_by_id(meeting.id)
    assert sorted((r.group, r.count, r.paper) for r in meeting.group_rows) == [("courier", 2, 2), ("rider", 1, 0)]
    # Editing the meeting changes the paper counts only; the form shows them, not the totals.
    form = client.get(f"/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert re.search(r'id="attendees"[^>]*value="8"', form) and re.search(r'id="new_rider"[^>]*value=""', form)
    # Out of scope: another town's staff get 404 on the page, the QR code and the decisions.
    stranger = login_as(app.test_client(), make.user("staff", make.org("瀛海镇总工会")))
    for path in (f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/signup", f"/meetings/{meeting.id}/signup/poster"):
        assert stranger.get(path).status_code == 404, path
    token = re.search(r'name="csrf_token" value="([^"]+)"', stranger.get("/").get_data(as_text=True))
    csrf = token.group(1) if token else ""
    assert stranger.post(f"/meetings/{meeting.id}/signups",
                         data={"csrf_token": csrf, "action": "confirm_all"}).status_code == 404
    # A viewer sees the masked list and cannot decide.
    viewer = login_as(app.test_client(), make.user("viewer", staff.org_unit))
    page = viewer.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "139****2222" in page and "全部确认" not in page
    assert viewer.post(f"/meetings/{meeting.id}/signups", data={"action": "confirm_all"}).status_code in (400, 403)


def test_the_code_page_and_poster_show_the_link(app, staff):
    meeting = _meeting(app, staff)
    client = login_as(app.test_client(), staff)
    page = client.get(f"/meetings/{meeting.id}/signup").get_data(as_text=True)
    url = re.search(r'id="signup-url">([^<]+)<', page).group(1)
    assert "<svg" in page and url.startswith("http://localhost/join/")
    poster = client.get(f"/meetings/{meeting.id}/signup/poster").get_data(as_text=True)
    assert url in poster and staff.org_unit.name in poster and "<svg" in poster
    assert app.test_client().get(url.replace("http://localhost", "")).status_code == 200


# ---- many at once ---------------------------------------------------------------------------------

def test_two_hundred_sign_ups_at_once_make_one_member_per_phone(app, staff, make):
    """200 sign-ups posted concurrently to three meetings, 50 of them a phone already sent (to the
    same or another meeting): exactly one member per phone, the right attendance per meeting."""
    meetings = [_meeting(app, staff, attendees=0) for _ in range(3)]
    tokens = [token_of(app, "meeting", m) for m in meetings]
    sends = [(f"138{n:08d}", n % 3) for n in range(150)]
    sends += [(f"138{n:08d}", (n + n % 2) % 3) for n in range(50)]  # half to the same meeting, half elsewhere
    expected = {i: len({p for p, m in sends if m == i}) for i in range(3)}
    errors, statuses = [], []
    lock = threading.Lock()

    def send(batch):
        try:
            for k, (phone, m) in batch:
                c = app.test_client()
                c.environ_base["REMOTE_ADDR"] = f"10.{k // 250}.{k % 250}.1"
                resp = sign(c, tokens[m], phone=phone, group=("rider", "courier")[k % 2])
                with lock:
                    statuses.append(resp.status_code)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            db.close()

    numbered = list(enumerate(sends))
    numbered = numbered[::2] + numbered[1::2]  # repeats interleave with first sends
    threads = [threading.Thread(target=send, args=(numbered[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == [] and statuses == [303] * 200
    assert Member.select().count() == 150
    assert Member.select(Member.phone_key).distinct().count() == 150
    for i, m in enumerate(meetings):
        assert SignUp.select().where(SignUp.meeting == m.id).count() == expected[i]
    assert SignUp.select().where(SignUp.is_new == True).count() == 150  # noqa: E712
    totals = [confirm_all(app, m, staff) for m in meetings]
    assert [t.attendees for t in totals] == [expected[i] for i in range(3)]
    assert sum(t.new_members for t in totals) == 150
    by_group = {}
    for row in MeetingNewMembers.select():
        by_group[row.group] = by_group.get(row.group, 0) + row.count
    new = SignUp.select().where(SignUp.is_new == True)  # noqa: E712
    assert by_group == {g: new.where(SignUp.group == g).count() for g in ("rider", "courier")}


# ---- the figures that count them --------------------------------------------------------------

def test_dashboard_and_monthly_ranking_count_confirmed_sign_ups_plus_paper(app, make, monkeypatch):
    """Two towns: 甲 with a meeting (paper 3 riders of 10 present) and four sign-ups (three new,
    one rejected, one a member already) plus one at a point alone; 乙 with paper counts only."""
    from datetime import date, datetime, timezone

    from crm.common import timeutil
    from crm.dashboard import queries as dashboard
    from crm.reports import monthly
    from crm.stats import queries as stats_queries
    from tests.test_stats import assert_matches_records
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    today = date(2026, 11, 24)
    root = make.root()
    a, b = make.org("甲镇总工会", parent=root), make.org("乙镇总工会", parent=root)
    admin = make.user("admin", org=root)
    sa, sb = make.user("staff", a), make.user("staff", b)
    stats_queries.present([root.id, a.id, b.id])
    stats_queries.sums([root.id, a.id, b.id], 202601, 202612)  # computed cells, kept by every write below
    mb = make.meeting(sb, kind="staff", attendees=6, new_members={"rider": 2, "courier": 2})
    known = app.test_client()
    known.environ_base["REMOTE_ADDR"] = "10.5.0.1"
    sign(known, token_of(app, "meeting", mb), phone="13100000009", group="courier")
    confirm_all(app, mb, sb)
    m = make.meeting(sa, kind="staff", attendees=10, new_members={"rider": 3})
    token = token_of(app, "meeting", m)
    for n, (phone, group) in enumerate((("13100000001", "rider"), ("13100000002", "courier"),
                                         ("13100000003", "courier"), ("13100000009", "truck"))):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = f"10.5.1.{n}"
        sign(c, token, phone=phone, group=group)
    point = OutreachPoint.create(name="甲镇快递驿站", org_unit=a, kind="express_station", created_by=sa)
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "10.5.2.1"
    sign(c, token_of(app, "point", point), phone="13100000004", group="domestic")
    rows = {s.member.phone_mask: s for s in SignUp.select(SignUp, Member).join(Member).where(SignUp.meeting == m.id)}
    with app.app_context():
        services.decide([rows["131****0001"].id, rows["131****0002"].id, rows["131****0009"].id], sa, True)
        services.decide([rows["131****0003"].id], sa, False)
        services.decide([SignUp.get(SignUp.point == point.id).id], sa, True)
    m = Meeting.get_by_id(m.id)
    # Hand counts: 甲's meeting has paper 10 + 3 confirmed present; new: riders 3 + 1, couriers 1
    # (the truck driver joined at 乙's meeting); at the point, a domestic worker joined. 乙: paper
    # 6 present, riders 2 and couriers 2, and the courier who signed up there.
    assert (m.attendees, m.new_members) == (13, 5)
    assert {r.group: r.count for r in m.group_rows} == {"rider": 4, "courier": 1}
    period = dashboard.period_of("month", today)
    fa, fb = dashboard.figures(a, period, today), dashboard.figures(b, period, today)
    assert fa.new_members == {"rider": 4, "courier": 1, "domestic": 1}
    assert fb.new_members == {"rider": 2, "courier": 3}
    assert dashboard.figures(root, period, today).new_members == {"rider": 6, "courier": 4, "domestic": 1}
    report = monthly.build(admin, root, 2026, 11, today)
    ranked = {row.unit.name: row for row in report.rows}
    assert (ranked["甲镇总工会"].new_members, ranked["乙镇总工会"].new_members) == (6, 5)
    assert (ranked["甲镇总工会"].ranks["new_members"], ranked["乙镇总工会"].ranks["new_members"]) == (1, 2)
    assert_matches_records("after sign-ups confirmed and rejected")


def test_an_admin_sets_a_meeting_cap_others_cannot(app, staff, make):
    meeting = _meeting(app, staff)
    admin = login_as(app.test_client(), make.user("admin"))
    page = admin.get(f"/meetings/{meeting.id}/signup").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert "本场最多登记人数" in page
    for value, message in (("abc", "登记人数上限应为整数"), ("0", "应在 1 到 100000 之间")):
        resp = admin.post(f"/meetings/{meeting.id}/signup/cap", data={"csrf_token": csrf, "cap": value},
                          follow_redirects=True)
        assert message in resp.get_data(as_text=True)
    assert admin.post(f"/meetings/{meeting.id}/signup/cap", data={"csrf_token": csrf, "cap": "40"}).status_code == 303
    assert Meeting.get_by_id(meeting.id).signup_cap == 40
    admin.post(f"/meetings/{meeting.id}/signup/cap", data={"csrf_token": csrf, "cap": ""})
    assert Meeting.get_by_id(meeting.id).signup_cap is None
    cadre = login_as(app.test_client(), staff)
    page = cadre.get(f"/meetings/{meeting.id}/signup").get_data(as_text=True)
    assert "本场最多登记人数" not in page
    own = re.search(r'name="csrf_token" value="([^"]+)"', cadre.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    resp = cadre.post(f"/meetings/{meeting.id}/signup/cap", data={"csrf_token": own.group(1), "cap": "5"})
    assert resp.status_code == 403 and Meeting.get_by_id(meeting.id).signup_cap is None


def test_a_data_key_that_reads_no_phone_is_noticed(app, staff):
    meeting = _meeting(app, staff)
    with app.app_context():
        assert phones.key_matches() is None  # nothing stored yet
    sign(app.test_client(), token_of(app, "meeting", meeting))
    with app.app_context():
        assert phones.key_matches() is True
        app.config["DATA_KEY"] = "another-data-key-after-a-careless-restore"
        assert phones.key_matches() is False
        assert phones.decrypt(Member.get().phone_secret) is None


def test_the_meeting_page_links_to_its_members_on_the_roster(app, staff):
    meeting = _meeting(app, staff)
    sign(app.test_client(), token_of(app, "meeting", meeting))
    client = login_as(app.test_client(), staff)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" id="roster-link"', page).group(1)
    assert link == f"/members/?meeting={meeting.id}"
    assert "王师傅" in client.get(link).get_data(as_text=True)
