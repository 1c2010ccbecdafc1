"""/api/v1 for the day's work: follow-ups (my tasks, one task, the board, assign, start, complete,
cancel), the dashboard's figures and the monthly report — the same scope, rules and numbers as
their pages."""
from datetime import timedelta

import pytest

from crm.common.timeutil import last_complete_month, local_today
from crm.fieldwork.models import RecordChange
from crm.followups.models import FollowUp
from tests.api_helpers import bearer, token_for

KEY = "7d1c2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def town(make):
    return make.org("高米店街道")


@pytest.fixture
def other(make):
    return make.org("西红门镇")


@pytest.fixture
def boss(make, town):
    return make.user("supervisor", org=town, username="kou", name="寇主管")


@pytest.fixture
def cadre(make, town):
    return make.user("staff", org=town, username="wang", name="王干部")


def h(app, user, scope="write"):
    return bearer(token_for(app, user, scope))


def due(days=3):
    return (local_today() + timedelta(days=days)).isoformat()


# ---- follow-ups ----------------------------------------------------------------------------

def test_mine_lists_my_open_tasks_by_due_date_with_the_page_filters(app, client, make, boss, cadre, town):
    ent = make.enterprise(org=town, name="京东物流高米店站")
    later = make.followup(boss, ent, assignee=cadre, title="送达换届通知", due_in=20)
    soon = make.followup(boss, ent, assignee=cadre, title="走访了解建会意向", due_in=1, priority="low")
    soon_high = make.followup(boss, None, assignee=cadre, title="电话回访", due_in=1, priority="high")
    make.followup(boss, ent, assignee=boss, title="主管自己的")
    r = client.get("/api/v1/followups/mine", headers=h(app, cadre, "read"))
    assert r.status_code == 200, r.get_json()
    items = r.get_json()["items"]
    assert [i["id"] for i in items] == [soon_high.id, soon.id, later.id]
    assert items[1]["enterprise"] == {"id": ent.id, "name": "京东物流高米店站"}
    assert items[0]["enterprise"] is None and items[0]["assignee"]["name"] == "王干部"
    assert items[2]["due_group"] == "later" and items[0]["org_unit"]["id"] == town.id
    r = client.get("/api/v1/followups/mine", query_string={"priority": "high"}, headers=h(app, cadre, "read"))
    assert [i["id"] for i in r.get_json()["items"]] == [soon_high.id]
    r = client.get("/api/v1/followups/mine", query_string={"q": "换届"}, headers=h(app, cadre, "read"))
    assert [i["id"] for i in r.get_json()["items"]] == [later.id]
    r = client.get("/api/v1/followups/mine", query_string={"due": "later"}, headers=h(app, cadre, "read"))
    assert [i["id"] for i in r.get_json()["items"]] == [later.id]


def test_mine_pages_by_cursor_in_the_page_order(app, client, make, boss, cadre, town):
    ent = make.enterprise(org=town)
    made = [make.followup(boss, ent, assignee=cadre, due_in=d, priority=p).id
            for d, p in ((2, "low"), (2, "high"), (1, "medium"), (5, "medium"), (2, "medium"))]
    headers = h(app, cadre, "read")
    seen, cursor = [], None
    while True:
        q = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/followups/mine", query_string=q, headers=headers).get_json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [made[2], made[1], made[4], made[0], made[3]]
    assert client.get("/api/v1/followups/mine?cursor=abc", headers=headers).status_code == 400


def test_out_of_unit_follow_ups_and_units_are_404(app, client, make, boss, town, other):
    theirs_boss = make.user("supervisor", org=other)
    theirs = make.followup(theirs_boss, make.enterprise(org=other), assignee=theirs_boss)
    mine = make.followup(boss, make.enterprise(org=town), assignee=boss)
    headers = h(app, boss)
    assert client.get(f"/api/v1/followups/{mine.id}", headers=headers).status_code == 200
    for path in (f"/api/v1/followups/{theirs.id}",):
        r = client.get(path, headers=headers)
        assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.post(f"/api/v1/followups/{theirs.id}/complete", json={"version": 1, "note": "办完"}, headers=headers)
    assert r.status_code == 404
    for path in ("/api/v1/followups/board", "/api/v1/followups/mine", "/api/v1/dashboard", "/api/v1/reports/monthly"):
        r = client.get(path, query_string={"org": other.id}, headers=headers)
        assert r.status_code == 404 and r.mimetype == "application/problem+json", (path, r.get_json())
        assert client.get(path, query_string={"org": 999999}, headers=headers).status_code == 404
    with app.app_context():
        assert FollowUp.get_by_id(theirs.id).status == "open"


def test_one_follow_up_has_its_history_and_what_i_may_do(app, client, make, boss, cadre, town):
    fu = make.followup(boss, make.enterprise(org=town), assignee=cadre, title="送达通知")
    body = client.get(f"/api/v1/followups/{fu.id}", headers=h(app, cadre, "read")).get_json()
    assert body["title"] == "送达通知" and body["assigned_by"]["name"] == "寇主管"
    assert (body["may_work"], body["may_cancel"], body["may_manage"]) == (True, False, False)
    assert body["history"][0]["field"] == "分派" and body["history"][0]["via"] == ""
    body = client.get(f"/api/v1/followups/{fu.id}", headers=h(app, boss, "read")).get_json()
    assert (body["may_work"], body["may_cancel"], body["may_manage"]) == (True, True, True)


def test_board_is_for_the_team_leads_with_the_page_numbers(app, client, make, boss, cadre, town):
    ent = make.enterprise(org=town)
    make.followup(boss, ent, assignee=cadre, due_in=0)
    make.followup(boss, ent, assignee=cadre, due_in=30)
    late = make.followup(boss, ent, assignee=cadre, due_in=1)
    with app.app_context():
        FollowUp.update(due_on=local_today() - timedelta(days=2)).where(FollowUp.id == late.id).execute()
    r = client.get("/api/v1/followups/board", headers=h(app, cadre, "read"))
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    r = client.get("/api/v1/followups/board", headers=h(app, boss, "read"))
    assert r.status_code == 200
    rows = {row["user"]["id"]: row for row in r.get_json()}
    assert (rows[cadre.id]["open"], rows[cadre.id]["week"], rows[cadre.id]["overdue"]) == (3, 1, 1)
    assert rows[boss.id]["open"] == 0 and rows[cadre.id]["org_unit"]["name"] == "高米店街道"
    leader = make.user("viewer", org=town)
    assert client.get("/api/v1/followups/board", headers=h(app, leader, "read")).status_code == 200
    # The same rows as the page's query.
    from crm.followups import queries
    with app.app_context():
        page = queries.board(boss, local_today())
    assert [(p.user.id, p.open, p.week, p.overdue, p.done_month) for p in page] == \
        [(row["user"]["id"], row["open"], row["week"], row["overdue"], row["done_month"]) for row in r.get_json()]


def test_assign_is_idempotent_and_checks_the_assignee(app, client, make, boss, cadre, town, other):
    ent = make.enterprise(org=town, name="美团外卖高米店站")
    headers = {**h(app, boss), "Idempotency-Key": KEY}
    body = {"title": "走访了解建会意向", "detail": "带上宣传册", "enterprise": ent.id, "assignee": cadre.id,
            "due_on": due(), "priority": "high"}
    first = client.post("/api/v1/followups", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    made = first.get_json()
    assert made["assignee"]["id"] == cadre.id and made["enterprise"]["id"] == ent.id
    assert made["status"] == "open" and made["priority"] == "high"
    assert first.headers["Location"].endswith(f"/api/v1/followups/{made['id']}")
    again = client.post("/api/v1/followups", json=body, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == made["id"]
    changed = client.post("/api/v1/followups", json={**body, "title": "别的任务"}, headers=headers)
    assert changed.status_code == 422 and "Idempotency-Key" in changed.get_json()["detail"]
    with app.app_context():
        assert FollowUp.select().count() == 1
        change = RecordChange.get(RecordChange.kind == "followup", RecordChange.record_id == made["id"])
        assert change.via == "api" and change.user_id == boss.id

    # The service's checks: someone out of the unit, an out-of-scope file, a date in the past.
    stranger = make.user("staff", org=other)
    r = client.post("/api/v1/followups", json={**body, "assignee": stranger.id}, headers=h(app, boss))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "assignee"
    r = client.post("/api/v1/followups", json={**body, "assignee": 999999}, headers=h(app, boss))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "assignee"
    far = make.enterprise(org=other)
    r = client.post("/api/v1/followups", json={**body, "enterprise": far.id}, headers=h(app, boss))
    assert r.status_code == 404
    r = client.post("/api/v1/followups", json={**body, "due_on": due(-1)}, headers=h(app, boss))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "due_on"
    r = client.post("/api/v1/followups", json={**body, "due_on": "2999-01-01"}, headers=h(app, boss))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "due_on"
    r = client.post("/api/v1/followups", json={**body, "priority": "urgent"}, headers=h(app, boss))
    assert r.status_code == 422
    with app.app_context():
        assert FollowUp.select().count() == 1


def test_staff_assign_only_to_themselves_and_viewers_not_at_all(app, client, make, boss, cadre, town):
    body = {"title": "给自己的任务", "assignee": boss.id, "due_on": due()}
    r = client.post("/api/v1/followups", json=body, headers=h(app, cadre))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "assignee"
    r = client.post("/api/v1/followups", json={**body, "assignee": cadre.id}, headers=h(app, cadre))
    assert r.status_code == 201 and r.get_json()["org_unit"]["id"] == town.id
    assert client.post("/api/v1/followups", json=body, headers=h(app, boss, "read")).status_code == 403
    leader = make.user("viewer", org=town)
    assert client.post("/api/v1/followups", json=body, headers=h(app, leader, "read")).status_code == 403
    from crm.tokens.models import ApiToken
    with app.app_context():
        ApiToken.update(scope="write").execute()
    r = client.post("/api/v1/followups", json=body, headers=h(app, leader, "read"))
    assert r.status_code == 403
    fu = make.followup(boss, None, assignee=boss)
    r = client.post(f"/api/v1/followups/{fu.id}/complete", json={"version": 1, "note": "x"},
                    headers=h(app, leader, "read"))
    assert r.status_code == 403


def test_complete_with_a_note_against_the_version(app, client, make, boss, cadre, town):
    fu = make.followup(boss, make.enterprise(org=town), assignee=cadre)
    headers = h(app, cadre)
    r = client.post(f"/api/v1/followups/{fu.id}/complete", json={"version": 1}, headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "note"
    r = client.post(f"/api/v1/followups/{fu.id}/start", json={"version": 1}, headers=headers)
    assert r.status_code == 200 and r.get_json()["status"] == "in_progress" and r.get_json()["version"] == 2
    stale = client.post(f"/api/v1/followups/{fu.id}/complete", json={"version": 1, "note": "已送达"}, headers=headers)
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert "他人修改" in stale.get_json()["detail"]
    r = client.post(f"/api/v1/followups/{fu.id}/complete", json={"version": 2, "note": "已送达"}, headers=headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["status"] == "done" and body["completion_note"] == "已送达" and body["completed_by"]["id"] == cadre.id
    assert body["due_group"] is None
    assert body["history"][0]["via"] == "api" and "已送达" in body["history"][0]["new_value"]
    # Done: gone from my open tasks, listed under done.
    mine = client.get("/api/v1/followups/mine", headers=headers).get_json()["items"]
    assert mine == []
    done = client.get("/api/v1/followups/mine", query_string={"status": "done"}, headers=headers).get_json()
    assert [i["id"] for i in done["items"]] == [fu.id]


def test_staff_cannot_cancel_a_supervisors_task(app, client, make, boss, cadre, town):
    fu = make.followup(boss, make.enterprise(org=town), assignee=cadre)
    r = client.post(f"/api/v1/followups/{fu.id}/cancel", json={"version": 1, "note": "办不了"}, headers=h(app, cadre))
    assert r.status_code == 422
    r = client.post(f"/api/v1/followups/{fu.id}/cancel", json={"version": 1, "note": "企业已搬走"}, headers=h(app, boss))
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"


# ---- dashboard and report ------------------------------------------------------------------

def test_dashboard_figures_equal_the_pages_query(app, client, make, boss, town, other):
    from crm.dashboard import queries
    make.enterprise(org=town, name="甲", employees=30, is_key=True)
    make.enterprise(org=town, name="乙", initial_stage="contacted")
    make.enterprise(org=other, name="丙")
    make.meeting(boss)
    station = make.org("高米店服务站", "station", parent=town)
    make.enterprise(org=station, name="丁")
    r = client.get("/api/v1/dashboard", headers=h(app, boss, "read"))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["unit"] == {"id": town.id, "name": "高米店街道"} and body["period"]["kind"] == "year"
    today = local_today()
    with app.app_context():
        f = queries.figures(town, queries.period_of("year", today), today)
        t = queries.trends(town, today)
    expected = {name: getattr(f, name) for name in body["figures"]}
    assert body["figures"] == expected
    assert body["figures"]["files"] == 3 and body["figures"]["enterprise_meetings"] == 1
    assert [[p["month"], p["value"]] for p in body["trends"]["staff"]] == [list(x) for x in t["staff"]]
    assert {p["user"]["id"] for p in body["people"]} == {boss.id}
    # A unit below, by month.
    r = client.get("/api/v1/dashboard", query_string={"org": station.id, "period": "month",
                                                       "month": f"{today.year}-{today.month:02d}"},
                   headers=h(app, boss, "read"))
    assert r.status_code == 200 and r.get_json()["figures"]["files"] == 1
    assert r.get_json()["period"]["start"] == today.replace(day=1).isoformat()
    for bad in ("2026-13", "1999-12", f"{today.year + 1}-01", "x"):
        r = client.get("/api/v1/dashboard", query_string={"month": bad}, headers=h(app, boss, "read"))
        assert r.status_code == 422, bad


def test_monthly_report_has_the_compliance_of_the_unit(app, client, make, boss, town, other):
    from crm.reports import monthly
    make.meeting(boss)
    today = local_today()
    r = client.get("/api/v1/reports/monthly", headers=h(app, boss, "read"))
    assert r.status_code == 200, r.get_json()
    year, month = last_complete_month(today)
    body = r.get_json()
    assert (body["year"], body["month"]) == (year, month) and body["scope"]["id"] == town.id
    r = client.get("/api/v1/reports/monthly", query_string={"month": f"{today.year}-{today.month:02d}"},
                   headers=h(app, boss, "read"))
    body = r.get_json()
    with app.app_context():
        report = monthly.build(boss, town, today.year, today.month, today)
    assert [row["unit"]["id"] for row in body["rows"]] == [row.unit.id for row in report.rows] == [town.id]
    row = body["rows"][0]
    checks = {c["rule"]: c for c in row["checks"]}
    half = report.rows[0].checks["enterprise_half_month"]
    assert checks["enterprise_half_month"]["count"] == half.count == 1
    assert checks["enterprise_half_month"]["state"] == half.state
    assert len(checks["enterprise_half_month"]["missing"]) == len(half.missing)
    assert row["enterprise"] == 1 and body["totals"]["meetings"] == report.total("meetings")
    assert body["district"] is None
    admin = make.user("admin")
    body = client.get("/api/v1/reports/monthly", headers=h(app, admin, "read")).get_json()
    assert body["district"]["rule"] == "district_third_thursday"
    assert {row["unit"]["id"] for row in body["rows"]} == {town.id, other.id}


# ---- members and sign-ups ------------------------------------------------------------------

def _join(app, record, staff, phone, kind="meeting", **answers):
    from crm.members import links, services
    from crm.members.models import Member
    data = {"phone": phone, "consent": "y", "name": "王师傅", "group": "rider", "platform": "meituan", **answers}
    with app.test_request_context():
        result = services.sign_up(links.token_for(kind, record), data, "127.0.0.1", staff=staff)
    return Member.get_by_id(result.signup.member_id)


@pytest.fixture
def roster(app, make, boss, cadre, town, other):
    from crm.members import services
    from crm.members.models import SignUp
    meeting = make.meeting(cadre, kind="staff", attendees=0, title="高米店骑手沟通会")
    theirs_staff = make.user("staff", org=other)
    far_meeting = make.meeting(theirs_staff, kind="staff", attendees=0, title="西红门沟通会")
    wang = _join(app, meeting, cadre, "13911112222", name="王师傅")
    li = _join(app, meeting, cadre, "13722223333", name="李师傅", group="courier", platform="sf")
    qian = _join(app, far_meeting, theirs_staff, "15844445555", name="钱师傅")
    with app.app_context():
        services.decide([s.id for s in SignUp.select().where(SignUp.meeting == meeting.id)], boss, confirm=True)
    activity = make.activity(cadre, title="骑手义务理发", signup_open=True, participants=0, new_members=0)
    _join(app, activity, cadre, "13911112222", kind="activity", name="王师傅")
    return {"meeting": meeting, "far_meeting": far_meeting, "activity": activity,
            "wang": wang, "li": li, "qian": qian}


def test_members_list_in_scope_with_the_roster_filters_and_masked_phones(app, client, boss, roster, other):
    headers = h(app, boss, "read")
    r = client.get("/api/v1/members", headers=headers)
    assert r.status_code == 200, r.get_json()
    items = r.get_json()["items"]
    assert [m["name"] for m in items] == ["王师傅", "李师傅"]
    assert items[0]["phone_mask"] == "139****2222" and "13911112222" not in r.get_data(as_text=True)
    assert items[0]["state"] == "active" and items[0]["joined_place"]["kind"] == "meeting"
    assert items[0]["joined_place"]["record_id"] == roster["meeting"].id
    by = lambda **q: [m["name"] for m in client.get("/api/v1/members", query_string=q, headers=headers)
                      .get_json()["items"]]  # noqa: E731
    assert by(group="courier") == ["李师傅"]
    assert by(q="王") == ["王师傅"]
    assert by(q="13722223333") == ["李师傅"]  # a full number: looked for by its keyed hash
    assert by(q="15844445555") == []          # someone else's member
    assert by(meeting=roster["meeting"].id) == ["王师傅", "李师傅"]
    r = client.get("/api/v1/members", query_string={"q": "1372"}, headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "q"
    r = client.get("/api/v1/members", query_string={"meeting": roster["far_meeting"].id}, headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "meeting"
    assert client.get("/api/v1/members", query_string={"org": other.id}, headers=headers).status_code == 404
    # One by one with the cursor.
    first = client.get("/api/v1/members", query_string={"limit": 1}, headers=headers).get_json()
    second = client.get("/api/v1/members", query_string={"limit": 1, "cursor": first["next_cursor"]},
                        headers=headers).get_json()
    assert [first["items"][0]["name"], second["items"][0]["name"]] == ["王师傅", "李师傅"]
    assert second["next_cursor"] is None


def test_one_member_with_their_sign_ups_and_out_of_scope_is_404(app, client, boss, roster):
    headers = h(app, boss, "read")
    r = client.get(f"/api/v1/members/{roster['wang'].id}", headers=headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["phone_mask"] == "139****2222" and "13911112222" not in r.get_data(as_text=True)
    assert sorted(s["place"]["kind"] for s in body["signups"]) == ["activity", "meeting"]
    assert {s["state"] for s in body["signups"]} == {"confirmed", "registered"}
    r = client.get(f"/api/v1/members/{roster['qian'].id}", headers=headers)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_sign_ups_of_a_meeting_or_an_activity_in_scope(app, client, boss, roster):
    headers = h(app, boss, "read")
    r = client.get("/api/v1/signups", query_string={"meeting": roster["meeting"].id}, headers=headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["kind"] == "meeting" and body["counted"] == 2
    assert {(s["member"]["name"], s["state"]) for s in body["items"]} == {("王师傅", "confirmed"), ("李师傅", "confirmed")}
    assert all("****" in s["member"]["phone_mask"] for s in body["items"])
    r = client.get("/api/v1/signups", query_string={"activity": roster["activity"].id}, headers=headers)
    assert [(s["member"]["name"], s["state"]) for s in r.get_json()["items"]] == [("王师傅", "registered")]
    r = client.get("/api/v1/signups", query_string={"meeting": roster["far_meeting"].id}, headers=headers)
    assert r.status_code == 404
    assert client.get("/api/v1/signups", headers=headers).status_code == 422
    r = client.get("/api/v1/signups", query_string={"meeting": roster["meeting"].id,
                                                     "activity": roster["activity"].id}, headers=headers)
    assert r.status_code == 422
