"""通知: a task given to me and one reassigned away from me, a 点评 on my visit, my task overdue
(once per task and due date, however often the sweep runs), a supervisor's weekly digest; the
settings, marking read, opening (the owner only, to a local path), the bell's count, the lazy
sweep and `crm notifications sweep`."""
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from peewee import IntegrityError

from crm.common import signals, timeutil
from crm.db import db
from crm.enterprises.models import Enterprise
from crm.followups import overdue
from crm.followups import services as followups
from crm.followups.models import FollowUp
from crm.notifications import services
from crm.notifications.models import Notification, NotificationOptOut
from crm.visits import services as visits
from tests.conftest import csrf_token, login_as

TODAY = date(2026, 11, 24)  # a Tuesday (ISO week 48)


@pytest.fixture
def team(make, monkeypatch):
    """Noon in Beijing on TODAY; 甲镇 with a station below it: a supervisor, two cadres, a firm each."""
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 11, 24, 4, 0, tzinfo=timezone.utc))
    town = make.org("甲镇总工会")
    station = make.org("甲一站", "station", parent=town)
    other = make.org("乙镇总工会")
    return {
        "town": town, "station": station, "other": other,
        "sup": make.user("supervisor", org=town, username="sup", name="主管甲"),
        "zhang": make.user("staff", org=town, username="zhang", name="张三"),
        "li": make.user("staff", org=station, username="li", name="李四"),
        "wang": make.user("staff", org=other, username="wang", name="王五"),
        "viewer": make.user("viewer", org=town, username="viewer", name="领导甲"),
        "firm": make.enterprise(org=town, name="甲镇物流有限公司"),
        "station_firm": make.enterprise(org=station, name="甲一站快递网点"),
    }


def notes(user, kind=None):
    query = Notification.select().where(Notification.user == user.id).order_by(Notification.id)
    return list(query if kind is None else query.where(Notification.kind == kind))


def give(make, team, assignee, title="走访了解建会意向", firm=None, actor=None):
    return make.followup(actor or team["sup"], firm or team["firm"], assignee=assignee, title=title, due_in=0)


# ---- the events ----------------------------------------------------------------------------

def test_a_task_given_to_me_is_notified_to_me_and_not_to_whoever_gave_it(app, make, team):
    fu = give(make, team, team["zhang"])
    [note] = notes(team["zhang"])
    assert (note.kind, note.link, note.read_at) == ("assigned", f"/followups/{fu.id}", None)
    assert note.title == "新的跟进任务：走访了解建会意向"
    assert "甲镇物流有限公司" in note.text and "主管甲分派给您" in note.text and "2026-11-24 到期" in note.text
    assert notes(team["sup"]) == []
    # A cadre giving a task to themselves, a supervisor to themselves: nobody is told.
    make.followup(team["zhang"], team["firm"], title="自己的任务")
    make.followup(team["sup"], team["firm"], assignee=team["sup"], title="主管自己的任务")
    assert len(notes(team["zhang"])) == 1 and notes(team["sup"]) == []


def test_a_task_reassigned_away_tells_the_former_assignee_and_the_new_one(app, make, team):
    fu = give(make, team, team["zhang"], firm=team["station_firm"])
    done = followups.update(team["sup"], fu, {"title": fu.title, "due_on": fu.due_on, "priority": fu.priority,
                                             "assignee": team["li"], "note": "李四离得近"}, fu.version)
    [away] = notes(team["zhang"], "reassigned")
    assert away.title == f"任务已转派：{fu.title}" and "主管甲转派给了李四" in away.text
    assert away.link == f"/followups/{fu.id}"
    [given] = notes(team["li"])
    assert given.kind == "assigned" and given.link == f"/followups/{fu.id}"
    assert notes(team["sup"]) == []
    # And back, from the board (several at once): each side told again, once.
    assert followups.reassign_many(team["sup"], [done.id], team["zhang"]) == 1
    assert [n.kind for n in notes(team["zhang"])] == ["assigned", "reassigned", "assigned"]
    assert [n.kind for n in notes(team["li"])] == ["assigned", "reassigned"]
    # A supervisor handing on a task of their own is not told that they did.
    mine = give(make, team, team["sup"])
    followups.reassign_many(team["sup"], [mine.id], team["zhang"])
    assert notes(team["sup"]) == []


def test_a_comment_on_my_visit_is_notified_to_me_but_not_my_own(app, make, team):
    visit = make.visit(team["firm"], team["zhang"])
    comment = visits.add_comment(visit, "走访记录很详细，下周带上建会材料再去一次。", team["sup"])
    [note] = notes(team["zhang"])
    assert (note.kind, note.key, note.link) == ("commented", f"comment:{comment.id}", f"/visits/{visit.id}#comments")
    assert note.title == "主管甲点评了您的走访"
    assert "甲镇物流有限公司" in note.text and "下周带上建会材料" in note.text
    own = make.visit(team["firm"], team["sup"])
    visits.add_comment(own, "自己的备注", team["sup"])
    assert notes(team["sup"]) == []


def test_an_overdue_task_is_notified_once_however_often_the_sweep_runs(app, make, team):
    late = give(make, team, team["zhang"], title="逾期的任务")
    give(make, team, team["zhang"], title="今天到期")  # not late on its own day
    closed = give(make, team, team["zhang"], title="已完成的任务")
    followups.set_status(team["zhang"], closed, "complete", note="办完了")
    Notification.delete().execute()  # (the assignments' notifications)
    FollowUp.update(due_on=TODAY - timedelta(days=1)).where(FollowUp.id.in_([late.id, closed.id])).execute()
    seen = []

    def receiver(_sender, followups=(), **_):
        seen.append(([(fu.id, type(fu).__name__) for fu in followups], db.in_transaction()))
    signals.followups_overdue.connect(receiver)
    try:
        assert services.sweep(TODAY)["overdue"] == 1
        assert services.sweep(TODAY)["overdue"] == 0
        assert overdue.sweep(TODAY) == 0
    finally:
        signals.followups_overdue.disconnect(receiver)
    # The signal carries the rows, sent inside the sweep's transaction (webhooks listen too).
    assert seen == [([(late.id, "FollowUp")], True)]
    [note] = notes(team["zhang"])
    assert (note.kind, note.key, note.link) == ("overdue", f"overdue:{late.id}:2026-11-23", f"/followups/{late.id}")
    assert note.title == "任务已逾期：逾期的任务" and "到期日 2026-11-23" in note.text
    assert FollowUp.get_by_id(late.id).overdue_noticed_on == TODAY - timedelta(days=1)
    # The task due today is late tomorrow; a new due date, once passed, is told again (once).
    assert services.sweep(TODAY + timedelta(days=1))["overdue"] == 1
    fu = FollowUp.get_by_id(late.id)
    followups.update(team["sup"], fu, {"title": fu.title, "due_on": TODAY + timedelta(days=2),
                                      "priority": fu.priority}, fu.version)
    assert services.sweep(TODAY + timedelta(days=2))["overdue"] == 0
    assert services.sweep(TODAY + timedelta(days=3))["overdue"] == 1
    assert services.sweep(TODAY + timedelta(days=4))["overdue"] == 0
    assert [n.key for n in notes(team["zhang"], "overdue") if n.key.startswith(f"overdue:{late.id}:")] == \
        [f"overdue:{late.id}:2026-11-23", f"overdue:{late.id}:2026-11-26"]


def test_the_same_event_twice_makes_one_notification(app, make, team):
    """Two sweeps racing (or an event reported twice) write the same key: the unique index keeps one."""
    note = services.Note(team["zhang"].id, "overdue", "overdue:1:2026-11-23", "任务已逾期：x", "", "/followups/1")
    with db.atomic():
        services.deliver([note, note])
    with db.atomic():
        services.deliver([note])
    assert len(notes(team["zhang"])) == 1
    with pytest.raises(IntegrityError):
        with db.atomic():
            Notification.create(user=team["zhang"].id, kind="overdue", key="overdue:1:2026-11-23", title="again")


def test_a_supervisor_gets_the_weekly_digest_once_a_week_and_staff_never(app, make, team):
    make.enterprise(org=team["town"], name="从未联系的企业")  # 从未联系 (with the two firms above)
    due = make.enterprise(org=team["station"], name="换届到期的工会")
    Enterprise.update(stage="registered", union_term_end=TODAY + timedelta(days=20),
                      last_contact_on=TODAY).where(Enterprise.id == due.id).execute()
    assert services.sweep(TODAY) == {"overdue": 0, "digests": 1}
    [note] = notes(team["sup"])
    assert (note.kind, note.key, note.link) == ("digest", "digest:2026-W48", "/followups/suggestions")
    assert note.title == "本周待跟进建议 4 条" and "换届到期（或即将到期）的工会 1 家" in note.text
    # Later the same week (Sunday included): nothing new. The next Monday: the next digest.
    assert services.sweep(TODAY + timedelta(days=5))["digests"] == 0
    assert services.sweep(TODAY + timedelta(days=6))["digests"] == 1
    assert [n.key for n in notes(team["sup"])] == ["digest:2026-W48", "digest:2026-W49"]
    for who in ("zhang", "li", "viewer"):
        assert notes(team[who]) == []
    # The page the digest opens is the supervisor's suggestions.
    client = login_as(app.test_client(), team["sup"])
    resp = client.post(f"/notifications/{note.id}/open", data={"csrf_token": csrf_token(client, "/notifications/")})
    assert resp.headers["Location"] == "/followups/suggestions"
    assert client.get(resp.headers["Location"]).status_code == 200


def test_no_digest_when_nothing_is_suggested(app, make, team):
    Enterprise.update(last_contact_on=TODAY).execute()
    assert services.sweep(TODAY)["digests"] == 0 and notes(team["sup"]) == []


# ---- settings ------------------------------------------------------------------------------

def test_a_kind_switched_off_is_not_sent_and_the_others_still_are(app, make, team):
    client = login_as(app.test_client(), team["zhang"])
    html = client.get("/account/notifications").get_data(as_text=True)
    for label in ("分派给我的跟进任务", "我的任务转派给了别人", "我的任务逾期", "主管点评了我的走访"):
        assert label in html
    assert "每周待跟进建议汇总" not in html  # supervisors only
    assert html.count('checked') == 4  # every kind on by default
    token = csrf_token(client, "/account/notifications")
    resp = client.post("/account/notifications", data={"csrf_token": token, "kind_reassigned": "y",
                                                       "kind_overdue": "y", "kind_commented": "y"})
    assert resp.status_code == 302
    assert [k for (k,) in NotificationOptOut.select(NotificationOptOut.kind).tuples()] == ["assigned"]
    assert client.get("/account/notifications").get_data(as_text=True).count("checked") == 3
    give(make, team, team["zhang"])
    assert notes(team["zhang"]) == []
    visits.add_comment(make.visit(team["firm"], team["zhang"]), "好", team["sup"])
    assert [n.kind for n in notes(team["zhang"])] == ["commented"]
    # Switched on again.
    client.post("/account/notifications", data={"csrf_token": token, "kind_assigned": "y"})
    give(make, team, team["zhang"], title="第二个任务")
    assert [n.kind for n in notes(team["zhang"])] == ["commented", "assigned"]
    # The supervisor's digest can be switched off too.
    sup = login_as(app.test_client(), team["sup"])
    assert "每周待跟进建议汇总" in sup.get("/account/notifications").get_data(as_text=True)
    sup.post("/account/notifications", data={"csrf_token": csrf_token(sup, "/account/notifications"),
                                             "kind_assigned": "y", "kind_commented": "y"})
    assert services.sweep(TODAY)["digests"] == 0


def test_the_settings_page_is_linked_and_a_viewer_is_told_there_is_nothing_to_set(app, team):
    client = login_as(app.test_client(), team["viewer"])
    home = client.get("/").get_data(as_text=True)
    assert 'href="/account/notifications"' in home  # the account menu
    assert 'href="/account/notifications"' in client.get("/notifications/").get_data(as_text=True)
    assert "没有需要设置的通知" in client.get("/account/notifications").get_data(as_text=True)


# ---- reading -------------------------------------------------------------------------------

def test_mark_one_read_and_open_one(app, make, team):
    first, second = give(make, team, team["zhang"], title="任务一"), give(make, team, team["zhang"], title="任务二")
    client = login_as(app.test_client(), team["zhang"])
    html = client.get("/notifications/").get_data(as_text=True)
    assert "2 条未读" in html and html.index("任务二") < html.index("任务一")  # newest first
    assert html.count(">未读</span>") == 2
    one, two = notes(team["zhang"])
    token = csrf_token(client, "/notifications/")
    resp = client.post(f"/notifications/{one.id}/read", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/notifications/"
    assert Notification.get_by_id(one.id).read_at is not None and Notification.get_by_id(two.id).read_at is None
    assert client.get("/notifications/").get_data(as_text=True).count(">未读</span>") == 1
    resp = client.post(f"/notifications/{two.id}/open", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/followups/{second.id}"
    assert Notification.get_by_id(two.id).read_at is not None
    assert "任务二" in client.get(resp.headers["Location"]).get_data(as_text=True)
    # Opening changes state: GET is not allowed.
    assert client.get(f"/notifications/{two.id}/open").status_code == 405
    assert first.id != second.id


def test_mark_all_read(app, make, team):
    for i in range(3):
        give(make, team, team["zhang"], title=f"任务{i}")
    give(make, team, team["li"], firm=team["station_firm"])
    client = login_as(app.test_client(), team["zhang"])
    resp = client.post("/notifications/read-all", data={"csrf_token": csrf_token(client, "/notifications/")})
    assert resp.status_code == 302
    assert all(n.read_at is not None for n in notes(team["zhang"]))
    assert notes(team["li"])[0].read_at is None  # someone else's stay unread
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已将 3 条通知标为已读" in html and "没有未读的通知" in html and "全部标为已读" not in html


def test_another_users_notification_does_not_exist_for_me(app, make, team):
    give(make, team, team["li"], firm=team["station_firm"])
    [theirs] = notes(team["li"])
    client = login_as(app.test_client(), team["zhang"])
    token = csrf_token(client, "/notifications/")
    for action in ("open", "read"):
        assert client.post(f"/notifications/{theirs.id}/{action}", data={"csrf_token": token}).status_code == 404
    assert client.post("/notifications/999999/open", data={"csrf_token": token}).status_code == 404
    assert Notification.get_by_id(theirs.id).read_at is None
    assert "走访了解建会意向" not in client.get("/notifications/").get_data(as_text=True)
    client.post("/notifications/read-all", data={"csrf_token": token})
    assert Notification.get_by_id(theirs.id).read_at is None


def test_opening_goes_to_a_local_path_only(app, team):
    client = login_as(app.test_client(), team["zhang"])
    token = csrf_token(client, "/notifications/")
    bad = ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "")
    for i, link in enumerate(bad):
        note = Notification.create(user=team["zhang"].id, kind="assigned", key=f"bad:{i}", title="t", link=link)
        resp = client.post(f"/notifications/{note.id}/open", data={"csrf_token": token})
        assert resp.status_code == 302 and resp.headers["Location"] == "/notifications/", link


def test_a_task_i_can_no_longer_see_opens_safely(app, make, team):
    """Reassigned to another town (a task without a firm moves with its assignee): the former
    assignee's notification leads to the task's page, which says it does not exist for them."""
    admin = make.user("admin")
    fu, _ = followups.create(admin, followups.Task(title="无企业的任务", org_unit_id=team["town"].id), team["zhang"],
                             TODAY, "medium", "key-no-firm-000000000000")
    followups.reassign_many(admin, [fu.id], team["wang"])
    [away] = notes(team["zhang"], "reassigned")
    client = login_as(app.test_client(), team["zhang"])
    resp = client.post(f"/notifications/{away.id}/open", data={"csrf_token": csrf_token(client, "/notifications/")})
    assert resp.headers["Location"] == f"/followups/{fu.id}"
    assert client.get(resp.headers["Location"]).status_code == 404


def test_the_list_is_paginated(app, team):
    app.config["PAGE_SIZE"] = 2
    for i in range(3):
        Notification.create(user=team["zhang"].id, kind="assigned", key=f"k:{i}", title=f"通知{i}",
                            link="/followups/", created_at=datetime(2026, 11, 20 + i, 1, 0))
    client = login_as(app.test_client(), team["zhang"])
    first = client.get("/notifications/").get_data(as_text=True)
    assert "通知2" in first and "通知1" in first and "通知0" not in first and "下一页" in first
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert "通知0" in second and "通知2" not in second
    assert client.get("/notifications/?page=999").status_code == 200


# ---- the bell ------------------------------------------------------------------------------

def bell(html):
    return re.search(r'<a [^>]*id="nav-notifications".*?</a>', html, re.S).group(0)


def test_the_unread_count_in_the_bell_and_as_json(app, make, team):
    client = login_as(app.test_client(), team["zhang"])
    assert client.get("/notifications/unread-count").get_json() == {"unread": 0}
    assert "data-notifications-label>通知（没有未读）</span>" in bell(client.get("/").get_data(as_text=True))
    for i in range(3):
        give(make, team, team["zhang"], title=f"任务{i}")
    give(make, team, team["li"], firm=team["station_firm"])
    resp = client.get("/notifications/unread-count")
    assert resp.get_json() == {"unread": 3} and resp.headers["Cache-Control"] == "no-store"
    html = bell(client.get("/").get_data(as_text=True))
    assert "data-notifications-label>通知（3 条未读）</span>" in html and "data-notifications-badge>3</span>" in html
    assert 'data-count-url="/notifications/unread-count"' in html and 'data-refresh-seconds="30"' in html
    for i in range(7):
        give(make, team, team["zhang"], title=f"更多任务{i}")
    html = bell(client.get("/").get_data(as_text=True))
    assert "data-notifications-label>通知（10 条未读）</span>" in html and "data-notifications-badge>9+</span>" in html
    # Signed out: no bell, and the count is not given.
    anonymous = app.test_client()
    assert "nav-notifications" not in anonymous.get("/login").get_data(as_text=True)
    assert anonymous.get("/notifications/unread-count").status_code == 302


def test_the_unread_count_reads_its_index(app, team):
    from crm.db import is_sqlite
    from tests.conftest import statements
    client = login_as(app.test_client(), team["zhang"])
    with statements() as seen:
        client.get("/notifications/unread-count")
    [(sql, params)] = [(s, p) for s, p in seen if 'FROM "notification"' in s]
    if is_sqlite():
        plan = " ".join(r[3] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "notification_user_id_read_at" in plan, plan


# ---- the sweep: `crm worker`'s periodic work (tests/test_periodic.py), and the command line ----

def test_no_request_sweeps(app, make, team):
    late = give(make, team, team["zhang"])
    FollowUp.update(due_on=TODAY - timedelta(days=1)).where(FollowUp.id == late.id).execute()
    app.config["NOTIFICATIONS_SWEEP_SECONDS"] = 1  # (what turned the old per-request sweep on)
    assert login_as(app.test_client(), team["zhang"]).get("/").status_code == 200
    assert notes(team["zhang"], "overdue") == []


def test_the_sweep_command(app, make, team):
    late = give(make, team, team["zhang"])
    FollowUp.update(due_on=TODAY - timedelta(days=1)).where(FollowUp.id == late.id).execute()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notifications", "sweep"])
    assert result.exit_code == 0, result.output
    assert "逾期任务提醒 1 条，每周建议汇总 1 份" in result.output
    result = runner.invoke(args=["notifications", "sweep"])
    assert "逾期任务提醒 0 条，每周建议汇总 0 份" in result.output
    assert len(notes(team["zhang"], "overdue")) == 1 and len(notes(team["sup"], "digest")) == 1


def test_the_help_pages_explain_notifications_to_those_who_get_them(app, team):
    pages = {who: login_as(app.test_client(), team[who]).get("/help/").get_data(as_text=True)
             for who in ("zhang", "sup", "viewer")}
    for who in ("zhang", "sup"):
        assert 'id="notifications-title"' in pages[who] and 'href="/account/notifications"' in pages[who]
        assert "我的任务逾期" in pages[who]
    assert "每周待跟进建议汇总" in pages["sup"] and "每周待跟进建议汇总" not in pages["zhang"]
    assert 'id="notifications-title"' not in pages["viewer"]
