"""Sign-ups for a service activity: capacity and the waiting list, cancelling (the worker's own
link once, a forged one refused; staff from the page), 签到 by one tap raising 服务人数 and, for a
new member, 新入会人数 on top of the paper counts, the aggregates agreeing, thirty sign-ups at
once against a capacity of ten, publishing ahead of the day, capacity changes, and scope
(SQLite and PostgreSQL)."""
import re
import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from crm.activities import services as activity_services
from crm.activities.models import ServiceActivity
from crm.common import timeutil
from crm.common.timeutil import local_today
from crm.db import db
from crm.fieldwork.models import RecordChange
from crm.members import links, services
from crm.members.models import Member, SignUp
from crm.stats import queries as stats_queries
from tests.conftest import csrf_token, login_as
from tests.test_stats import assert_matches_records

ANSWERS = {"name": "王师傅", "phone": "13911112222", "group": "rider", "platform": "meituan",
           "station": "美团高米店站", "consent": "y"}
_addresses = iter(range(1, 100_000))


@pytest.fixture
def world(make):
    unit, other_unit = make.org("高米店街道总工会"), make.org("瀛海镇总工会")
    return {"unit": unit, "staff": make.user("staff", unit, name="高米店干部"),
            "viewer": make.user("viewer", unit), "other": make.user("staff", other_unit)}


def published(make, user, **data):
    values = {"title": "骑手义务理发", "signup_open": True, "participants": 0, "new_members": 0, **data}
    return make.activity(user, **values)


def token_of(app, activity):
    with app.test_request_context():
        return links.token_for("activity", activity)


def worker(app):
    """A worker's phone: a test client with an address of its own."""
    client = app.test_client()
    n = next(_addresses)
    client.environ_base["REMOTE_ADDR"] = f"10.{n // 250 % 250}.{n % 250}.7"
    return client


def sign(client, token, **answers):
    html = client.get(f"/join/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return client.post(f"/join/{token}", data={"csrf_token": csrf, **ANSWERS, **answers})


def joined(client, token, phone, **answers):
    """A worker signs up; returns (what their phone shows, the confirmation page)."""
    resp = sign(client, token, phone=phone, **answers)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    return re.search(r'id="outcome">([^<]+)<', page).group(1), page


def signup_of(activity, phone_tail):
    return next(s for s in SignUp.select().join(Member).where(SignUp.activity == activity.id)
                if s.member.phone_mask.endswith(phone_tail))


def tap(client, activity, signup, endpoint="check-in", **extra):
    token = csrf_token(client, f"/activities/{activity.id}")
    return client.post(f"/activities/{activity.id}/signups/{endpoint}",
                       data={"csrf_token": token, "signup": str(signup.id), **extra})


def reload(activity):
    return ServiceActivity.get_by_id(activity.id)


# ---- capacity, waiting list, cancelling -----------------------------------------------------------

def test_capacity_two_puts_the_third_on_the_waiting_list_and_a_cancellation_moves_it_up(app, make, world):
    activity = published(make, world["staff"], capacity=2)
    token = token_of(app, activity)
    assert joined(worker(app), token, "13900000001")[0] == "报名成功"
    assert joined(worker(app), token, "13900000002")[0] == "报名成功"
    assert joined(worker(app), token, "13900000003")[0] == "名额已满，您已进入候补名单（第 1 位）"
    assert joined(worker(app), token, "13900000004")[0] == "名额已满，您已进入候补名单（第 2 位）"
    states = {s.member.phone_mask[-4:]: s.state for s in SignUp.select().join(Member)}
    assert states == {"0001": "registered", "0002": "registered", "0003": "waitlisted", "0004": "waitlisted"}

    staff = login_as(app.test_client(), world["staff"])
    page = staff.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert re.search(r'已报名 <strong id="registered-count">2</strong> / 名额 <strong>2</strong>', page)
    assert 'id="waitlisted-count">2<' in page and "候补 第 1 位" in page and "候补 第 2 位" in page
    assert "139****0003" in page and "13900000003" not in page  # phones masked

    first = signup_of(activity, "0001")
    resp = tap(staff, activity, first, "cancel")
    assert resp.status_code == 303
    page = staff.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已取消王师傅（139****0001）的报名；候补的王师傅（139****0003）已递补为已报名" in page
    assert SignUp.get_by_id(first.id).state == "cancelled"
    # Their only sign-up gone, the member they were about to become is erased (the row stays).
    assert Member.get_by_id(first.member_id).state == "void" and Member.get_by_id(first.member_id).phone_mask == ""
    assert signup_of(activity, "0003").state == "registered"
    assert signup_of(activity, "0004").state == "waitlisted"
    with app.app_context():
        assert services.waitlist_position(signup_of(activity, "0004")) == 1
    # A place freed again: the next one moves up; a new sign-up waits behind nobody.
    assert joined(worker(app), token, "13900000005")[0] == "名额已满，您已进入候补名单（第 2 位）"


def test_the_workers_own_cancel_link_works_once_and_a_forged_one_is_refused(app, make, world):
    activity = published(make, world["staff"], capacity=1)
    token = token_of(app, activity)
    phone = worker(app)
    outcome, page = joined(phone, token, "13900000011")
    assert outcome == "报名成功"
    cancel_url = re.search(r'(http://localhost/join/cancel/[^"<]+)', page).group(1).replace("http://localhost", "")
    joined(worker(app), token, "13900000012")  # waiting
    mine = signup_of(activity, "0011")

    form = phone.get(cancel_url)
    assert form.status_code == 200 and "确认取消报名" in form.get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.get_data(as_text=True)).group(1)
    done = phone.post(cancel_url, data={"csrf_token": csrf}).get_data(as_text=True)
    assert "已取消报名" in done
    assert SignUp.get_by_id(mine.id).state == "cancelled" and signup_of(activity, "0012").state == "registered"
    # The same link again changes nothing: no second promotion, no error.
    joined(worker(app), token, "13900000013")  # waiting behind the one promoted
    again = phone.post(cancel_url, data={"csrf_token": csrf})
    assert again.status_code == 200 and "已取消报名" in again.get_data(as_text=True)
    assert signup_of(activity, "0013").state == "waitlisted"
    assert SignUp.select().where(SignUp.state == "registered").count() == 1

    forged = cancel_url[:-3] + ("AAA" if not cancel_url.endswith("AAA") else "BBB")
    resp = phone.get(forged)
    assert resp.status_code == 404 and links.FORGED in resp.get_data(as_text=True)
    assert phone.post(forged, data={"csrf_token": csrf}).status_code == 404
    assert signup_of(activity, "0012").state == "registered"


# ---- 签到 and the counts ----------------------------------------------------------------------------

def test_a_tap_checks_in_and_the_counts_add_the_paper_forms(app, make, world):
    activity = published(make, world["staff"], participants=10, new_members=3)
    assert (activity.participants, activity.new_members) == (10, 3)
    token = token_of(app, activity)
    joined(worker(app), token, "13900000021")  # new to the union
    with app.app_context():  # a member already: their sign-up here is attendance
        Member.update(state="active").execute()
    veteran = make.org("别的镇总工会")
    old = published(make, make.user("staff", veteran))
    joined(worker(app), token_of(app, old), "13900000022")
    joined(worker(app), token, "13900000022")
    new_one, known = signup_of(activity, "0021"), signup_of(activity, "0022")
    assert new_one.is_new and not known.is_new

    staff = login_as(app.test_client(), world["staff"])
    page = staff.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "新会员" in page and "已是会员" in page
    assert page.count('class="btn btn-success btn-lg signup-tap"') == 2

    resp = tap(staff, activity, new_one)
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"#signup-{new_one.id}")
    activity = reload(activity)
    assert (activity.participants, activity.new_members) == (11, 4)
    assert SignUp.get_by_id(new_one.id).checked_in_by_id == world["staff"].id
    page = staff.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "签到成功" in page and 'id="checked-in-count">1<' in page
    assert re.search(r'id="participants-total" data-live>11（签到 1，纸质登记 10）<', page)
    assert re.search(r'id="new-members-total" data-live>4（签到 1，纸质登记 3）<', page)

    tap(staff, activity, known)
    assert (reload(activity).participants, reload(activity).new_members) == (12, 4)
    tap(staff, activity, known)  # a double tap: still one
    assert reload(activity).participants == 12

    # The edit form shows the paper counts, and saving them keeps the check-ins.
    edit = staff.get(f"/activities/{activity.id}/edit").get_data(as_text=True)
    assert re.search(r'id="participants"[^>]*value="10"', edit) and re.search(r'id="new_members"[^>]*value="3"', edit)
    with app.app_context():
        activity_services.update_activity(reload(activity), {
            "title": activity.title, "held_on": activity.held_on, "org_unit": activity.org_unit_id,
            "services": ["legal"], "participants": 20, "new_members": 5, "signup_open": True}, world["staff"],
            activity.version)
    activity = reload(activity)
    assert (activity.participants, activity.new_members) == (22, 6)
    changes = {c.field: (c.old_value, c.new_value) for c in
               RecordChange.select().where(RecordChange.kind == "activity", RecordChange.record_id == activity.id)}
    assert changes == {"服务人数（纸质登记）": ("10", "20"), "新入会人数（纸质登记）": ("3", "5")}

    # Undone: the counts go back; a checked-in sign-up cannot be cancelled.
    resp = tap(staff, activity, new_one, "cancel")
    assert "已签到的报名不能取消" in staff.get(resp.headers["Location"]).get_data(as_text=True)
    tap(staff, activity, new_one, undo="1")
    activity = reload(activity)
    assert (activity.participants, activity.new_members) == (21, 5)
    assert SignUp.get_by_id(new_one.id).checked_in_at is None


def test_a_waiting_person_who_comes_is_checked_in_and_counted(app, make, world):
    activity = published(make, world["staff"], capacity=1)
    token = token_of(app, activity)
    joined(worker(app), token, "13900000031")
    joined(worker(app), token, "13900000032")
    staff = login_as(app.test_client(), world["staff"])
    tap(staff, activity, signup_of(activity, "0032"))
    waiting = signup_of(activity, "0032")
    assert waiting.state == "registered" and waiting.counted
    assert (reload(activity).participants, reload(activity).new_members) == (1, 1)


def test_check_in_waits_for_the_day_and_an_archived_activity_takes_none(app, make, world):
    ahead = published(make, world["staff"], held_on=local_today() + timedelta(days=3))
    joined(worker(app), token_of(app, ahead), "13900000041")
    staff = login_as(app.test_client(), world["staff"])
    page = staff.get(f"/activities/{ahead.id}").get_data(as_text=True)
    assert "当天才能签到" in page and "signup-tap" not in page
    resp = tap(staff, ahead, signup_of(ahead, "0041"))
    assert "当天才能签到" in staff.get(resp.headers["Location"]).get_data(as_text=True)
    assert not signup_of(ahead, "0041").counted and reload(ahead).participants == 0

    today = published(make, world["staff"], title="今天的活动")
    joined(worker(app), token_of(app, today), "13900000042")
    with app.app_context():
        from crm.fieldwork import services as records
        records.set_archived("activity", today, world["staff"], True, "重复录入")
    tap(staff, today, signup_of(today, "0042"))
    assert not signup_of(today, "0042").counted


def test_the_search_finds_a_person_by_phone_tail_name_or_whole_number(app, make, world):
    activity = published(make, world["staff"])
    token = token_of(app, activity)
    joined(worker(app), token, "13900005555", name="李娜")
    joined(worker(app), token, "13900006666", name="张伟")
    staff = login_as(app.test_client(), world["staff"])

    def shown(q):
        html = staff.get(f"/activities/{activity.id}", query_string={"q": q}).get_data(as_text=True)
        return sorted(re.findall(r'data-name="([^"]+)"', html))

    assert shown("") == ["张伟", "李娜"]
    assert shown("5555") == ["李娜"] and shown("张") == ["张伟"]
    assert shown("139 0000 6666") == ["张伟"] and shown("13900007777") == []


# ---- the aggregates ----------------------------------------------------------------------------

def test_the_aggregates_agree_after_check_ins(app, make, world, monkeypatch):
    day = date(2026, 11, 24)
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    unit = world["unit"]
    stats_queries.present([unit.id])
    stats_queries.sums([unit.id], 202601, 202612)  # every cell read once: the writes keep them
    activity = published(make, world["staff"], held_on=day, participants=5, new_members=2)
    token = token_of(app, activity)
    for n in range(3):
        joined(worker(app), token, f"1390000010{n}")
    assert_matches_records("three sign-ups, none checked in")
    staff = login_as(app.test_client(), world["staff"])
    for n in range(3):
        tap(staff, activity, signup_of(activity, f"010{n}"))
    assert_matches_records("three check-ins")
    assert stats_queries.sums([unit.id], 202611, 202611)["activity_members"] == 5 == reload(activity).new_members
    tap(staff, activity, signup_of(activity, "0100"), undo="1")
    assert_matches_records("one undone")
    assert stats_queries.sums([unit.id], 202611, 202611)["activity_members"] == 4


# ---- many at once --------------------------------------------------------------------------------

def test_thirty_sign_ups_at_once_fill_ten_places_and_a_waiting_list_of_twenty(app, make, world):
    activity = published(make, world["staff"], capacity=10)
    token = token_of(app, activity)
    errors, statuses = [], []
    lock = threading.Lock()
    start = threading.Barrier(30)

    def send(n):
        try:
            with app.app_context():
                client = app.test_client()
                client.environ_base["REMOTE_ADDR"] = f"10.30.{n}.1"
                html = client.get(f"/join/{token}").get_data(as_text=True)
                csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
                start.wait(60)
                resp = client.post(f"/join/{token}", data={"csrf_token": csrf, **ANSWERS, "phone": f"137{n:08d}"})
                with lock:
                    statuses.append(resp.status_code)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == [] and statuses == [303] * 30
    rows = list(SignUp.select().where(SignUp.activity == activity.id))
    assert sum(1 for s in rows if s.state == "registered") == 10
    waiting = [s for s in rows if s.state == "waitlisted"]
    assert len(waiting) == 20
    with app.app_context():
        assert sorted(services.waitlist_position(s) for s in waiting) == list(range(1, 21))
    page = login_as(app.test_client(), world["staff"]).get(f"/activities/{activity.id}").get_data(as_text=True)
    assert sorted(int(n) for n in re.findall(r"候补 第 (\d+) 位", page)) == list(range(1, 21))


# ---- publishing ----------------------------------------------------------------------------------

def form_data(world, **over):
    data = {"title": "夏季送清凉", "held_on": local_today().isoformat(), "services": ["cooling"],
            "org_unit": str(world["unit"].id), "participants": "", "new_members": "", "summary": "",
            "form_key": f"activity-signup-key-{next(_addresses):06d}"}
    data.update(over)
    return data


def post(client, path, data):
    token = csrf_token(client, path)
    return client.post(path, data={**data, "csrf_token": token}, content_type="multipart/form-data")


def test_an_activity_taking_sign_ups_may_be_published_ahead_of_its_day(app, world):
    staff = login_as(app.test_client(), world["staff"])
    ahead = (local_today() + timedelta(days=30)).isoformat()
    resp = post(staff, "/activities/new", form_data(world, held_on=ahead, capacity="20"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and activity_services.NOT_AHEAD in html and 'value="20"' in html
    assert ServiceActivity.select().count() == 0
    too_far = (local_today() + timedelta(days=activity_services.SIGNUP_AHEAD_DAYS + 1)).isoformat()
    resp = post(staff, "/activities/new", form_data(world, held_on=too_far, signup_open="y"))
    assert activity_services.TOO_FAR in resp.get_data(as_text=True) and ServiceActivity.select().count() == 0
    for capacity, message in (("0", "名额应为 1 到"), ("abc", "请填写整数"), ("100000", "名额应为 1 到"),
                              ("9" * 400, "数值太大，请检查")):
        resp = post(staff, "/activities/new", form_data(world, held_on=ahead, signup_open="y", capacity=capacity))
        assert resp.status_code == 200 and message in resp.get_data(as_text=True), capacity
    resp = post(staff, "/activities/new", form_data(world, participants="9" * 400))
    assert resp.status_code == 200 and "数值太大，请检查" in resp.get_data(as_text=True)

    resp = post(staff, "/activities/new", form_data(world, held_on=ahead, signup_open="y", capacity="20"))
    assert resp.status_code == 302
    activity = ServiceActivity.get()
    assert activity.signup_open and activity.capacity == 20 and activity.held_on.isoformat() == ahead
    page = staff.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "<svg" in page and 'id="signup-url"' in page and "（未开始）" in page
    url = re.search(r'id="signup-url">([^<]+)<', page).group(1)
    assert outcome_of(app, url) == "报名成功"
    assert "未开始" in staff.get("/activities/").get_data(as_text=True)  # in the ledger, marked
    code = staff.get(f"/activities/{activity.id}/signup").get_data(as_text=True)
    poster = staff.get(f"/activities/{activity.id}/signup/poster").get_data(as_text=True)
    assert url in code and url in poster and "<svg" in poster and "名额 20 人" in poster
    assert f"报名截止：{ahead} 23:59" in code


def outcome_of(app, url):
    return joined(worker(app), url.rsplit("/join/", 1)[1], "13900000051")[0]


def test_capacity_is_never_cut_below_the_registered_and_a_rise_moves_the_waiting_up(app, make, world):
    activity = published(make, world["staff"], capacity=2)
    token = token_of(app, activity)
    for n in range(5):
        joined(worker(app), token, f"1390000060{n}")
    staff = login_as(app.test_client(), world["staff"])
    base = form_data(world, title=activity.title, signup_open="y", version=str(activity.version),
                     form_key="activity-signup-edit-key-0001")
    resp = post(staff, f"/activities/{activity.id}/edit", {**base, "capacity": "1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "已有 2 人报名，名额不能少于已报名人数" in html
    assert reload(activity).capacity == 2 and reload(activity).version == activity.version
    resp = post(staff, f"/activities/{activity.id}/edit", {**base, "capacity": "4"})
    assert resp.status_code == 302 and reload(activity).capacity == 4
    states = [signup_of(activity, f"060{n}").state for n in range(5)]
    assert states == ["registered"] * 4 + ["waitlisted"]
    with app.app_context():
        assert services.waitlist_position(signup_of(activity, "0604")) == 1
    resp = post(staff, f"/activities/{activity.id}/edit",
                {**base, "capacity": "", "version": str(reload(activity).version)})
    assert resp.status_code == 302 and reload(activity).capacity is None
    assert signup_of(activity, "0604").state == "registered"
    # Closed: the link stops, the list stays.
    post(staff, f"/activities/{activity.id}/edit", {**base, "signup_open": "", "version": str(reload(activity).version)})
    assert not reload(activity).signup_open
    assert worker(app).get(f"/join/{token}").status_code == 410
    page = staff.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "报名已关闭" in page and page.count("data-signup=") == 5


# ---- scope and roles -----------------------------------------------------------------------------

def test_out_of_scope_is_404_everywhere_and_a_viewer_sees_but_cannot_post(app, make, world):
    activity = published(make, world["staff"])
    joined(worker(app), token_of(app, activity), "13900000071")
    signup = signup_of(activity, "0071")
    other = login_as(app.test_client(), world["other"])
    for path in (f"/activities/{activity.id}", f"/activities/{activity.id}/signup",
                 f"/activities/{activity.id}/signup/poster"):
        assert other.get(path).status_code == 404, path
    for endpoint in ("check-in", "cancel"):
        assert tap_with(other, activity, signup, endpoint).status_code == 404
    viewer = login_as(app.test_client(), world["viewer"])
    page = viewer.get(f"/activities/{activity.id}").get_data(as_text=True)
    assert "139****0071" in page and "signup-tap" not in page and "取消报名" not in page
    for endpoint in ("check-in", "cancel"):
        assert tap_with(viewer, activity, signup, endpoint).status_code == 403
    # A sign-up of another activity through this one's page: not found.
    elsewhere = published(make, world["staff"], title="另一个活动")
    staff = login_as(app.test_client(), world["staff"])
    assert tap_with(staff, elsewhere, signup, "check-in").status_code == 404
    assert tap_with(staff, activity, None, "check-in").status_code == 404
    assert not SignUp.get_by_id(signup.id).counted and SignUp.get_by_id(signup.id).state == "registered"


def tap_with(client, activity, signup, endpoint):
    """A POST with a token from a page the client may open (the home page)."""
    token = csrf_token(client, "/")
    return client.post(f"/activities/{activity.id}/signups/{endpoint}",
                       data={"csrf_token": token, "signup": str(signup.id) if signup else "x"})
