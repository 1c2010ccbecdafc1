"""/api/v1 field work: visits, meetings and outreach points, trainings, activities and needs —
their ledgers with the ledger pages' filters, one record through the kind's scoping, creating
through the kind's service once per Idempotency-Key, roles, and the API's mark in the history."""
from datetime import timedelta

import pytest

from crm.common.timeutil import local_today
from crm.enterprises.models import Contact, Enterprise, EnterpriseChange
from crm.meetings.models import Meeting
from crm.needs.models import Need
from crm.visits.models import Visit
from tests.api_helpers import bearer, token_for

KEY = "5d1c2b3a-4e5f-4a6b-9c8d-7e6f5a4b3c2d"
OTHER_KEY = "6e2d3c4b-5f60-4b7c-8d9e-8f7a6b5c4d3e"


@pytest.fixture
def town(make):
    return make.org("高米店街道")


@pytest.fixture
def other(make):
    return make.org("西红门镇")


@pytest.fixture
def staff(make, town):
    return make.user("staff", org=town, username="zhang", name="张干事")


@pytest.fixture
def outsider(make, other):
    return make.user("staff", org=other, username="li", name="李干事")


@pytest.fixture
def firm(make, town):
    return make.enterprise(org=town, name="京东物流高米店站")


@pytest.fixture
def far_firm(make, other):
    return make.enterprise(org=other, name="顺丰速运西红门站")


def h(app, user, scope="write", key=None):
    headers = bearer(token_for(app, user, scope))
    if key:
        headers["Idempotency-Key"] = key
    return headers


def all_items(client, path, headers, **query):
    r = client.get(path, query_string=query, headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


# ---- visits --------------------------------------------------------------------------------

def visit_body(firm, **extra):
    return {"enterprise": firm.id, "visited_on": local_today().isoformat(), "kind": "door",
            "purposes": ["founding", "policy"], "summary": "与站长谈建会", "next_step": "送建会材料",
            "next_step_on": (local_today() + timedelta(days=7)).isoformat(), **extra}


def test_a_visit_is_recorded_read_and_listed(app, client, staff, firm):
    headers = h(app, staff, key=KEY)
    r = client.post("/api/v1/visits", json=visit_body(firm, visit_time="09:30",
                                                      need_categories=["legal"],
                                                      need_notes={"legal": "劳动合同咨询"}), headers=headers)
    assert r.status_code == 201, r.get_json()
    visit = r.get_json()
    assert r.headers["Location"].endswith(f"/api/v1/visits/{visit['id']}")
    assert visit["enterprise"] == {"id": firm.id, "name": "京东物流高米店站"}
    assert visit["enterprises"] == [{"id": firm.id, "name": "京东物流高米店站"}]
    assert visit["unit"]["name"] == "高米店街道" and visit["created_by"] == {"id": staff.id, "name": "张干事"}
    assert visit["visitors"] == ["张干事"] and visit["purposes"] == ["founding", "policy"]
    assert visit["visit_time"] == "09:30:00" and visit["next_step"] == "送建会材料"
    assert visit["version"] == 1 and visit["archived"] is False
    assert [(n["category"], n["detail"]) for n in visit["needs"]] == [("legal", "劳动合同咨询")]

    read = client.get(f"/api/v1/visits/{visit['id']}", headers=h(app, staff, "read"))
    assert read.status_code == 200 and read.get_json() == visit
    assert [v["id"] for v in all_items(client, "/api/v1/visits", h(app, staff, "read"))] == [visit["id"]]
    with app.app_context():
        assert Visit.get_by_id(visit["id"]).summary == "与站长谈建会"


def test_the_visit_ledger_takes_the_pages_filters(app, client, make, staff, firm, town):
    colleague = make.user("staff", org=town)
    day = local_today() - timedelta(days=10)
    door = make.visit(firm, staff, visited_on=day)
    phone = make.visit(firm, staff, kind="phone")
    theirs = make.visit(firm, colleague)
    headers = h(app, staff, "read")

    def listed(**query):
        return {v["id"] for v in all_items(client, "/api/v1/visits", headers, **query)}

    assert listed() == {door.id, phone.id, theirs.id}
    assert listed(kind="phone") == {phone.id}
    assert listed(date_from=local_today().isoformat()) == {phone.id, theirs.id}
    assert listed(date_to=day.isoformat()) == {door.id}
    assert listed(staff=colleague.id) == {theirs.id}  # 走访人
    assert listed(org=town.id) == {door.id, phone.id, theirs.id}
    assert listed(archived="1") == set()
    r = client.get("/api/v1/visits", query_string={"date_from": local_today().isoformat(),
                                                   "date_to": day.isoformat()}, headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "date_to"
    assert client.get("/api/v1/visits?kind=nope", headers=headers).status_code == 422


def test_cursor_pages_walk_every_visit_once(app, client, make, staff, firm):
    ids = {make.visit(firm, staff).id for _ in range(5)}
    headers = h(app, staff, "read")
    seen, cursor = [], None
    while True:
        body = client.get("/api/v1/visits", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=headers).get_json()
        seen += [v["id"] for v in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert client.get("/api/v1/visits?cursor=%%%", headers=headers).status_code == 422  # not base64url
    assert client.get("/api/v1/visits?cursor=abc", headers=headers).status_code == 400  # not one of ours
    assert client.get("/api/v1/visits?cursor=InRleHQi", headers=headers).status_code == 400  # "text"


def test_other_units_visits_are_404_and_not_listed(app, client, make, staff, outsider, far_firm):
    theirs = make.visit(far_firm, outsider)
    headers = h(app, staff)
    r = client.get(f"/api/v1/visits/{theirs.id}", headers=headers)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert all_items(client, "/api/v1/visits", headers) == []
    # Naming their enterprise in a visit is refused beside the field, nothing saved.
    r = client.post("/api/v1/visits", json=visit_body(far_firm), headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "enterprise"
    with app.app_context():
        assert Visit.select().count() == 1


def test_a_visit_is_saved_once_per_key(app, client, staff, firm):
    headers = h(app, staff, key=KEY)
    first = client.post("/api/v1/visits", json=visit_body(firm), headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/visits", json=visit_body(firm), headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    other = client.post("/api/v1/visits", json=visit_body(firm, summary="另一次走访"), headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["detail"]
    with app.app_context():
        assert Visit.select().count() == 1


def test_the_visit_form_checks_apply(app, client, make, staff, firm, town):
    headers = h(app, staff)
    r = client.post("/api/v1/visits", json={"enterprise": firm.id, "visited_on": local_today().isoformat()},
                    headers=headers)
    assert r.status_code == 422 and {e["field"] for e in r.get_json()["errors"]} == {"summary"}
    r = client.post("/api/v1/visits", json=visit_body(firm, visited_on=(local_today() + timedelta(days=1)).isoformat()),
                    headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "visited_on"
    r = client.post("/api/v1/visits", json=visit_body(firm, summary="x" * 5001, kind="fax"), headers=headers)
    assert {e["field"] for e in r.get_json()["errors"]} == {"summary", "kind"}
    r = client.post("/api/v1/visits", json=visit_body(firm, next_step_on="2999-01-01"), headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "next_step_on"
    stranger = make.user("staff", org=make.org("瀛海镇"))
    r = client.post("/api/v1/visits", json=visit_body(firm, visitor_ids=[stranger.id]), headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "visitor_ids"
    with app.app_context():
        assert Visit.select().count() == 0


def test_a_visit_through_the_api_is_in_the_files_history_marked_api(app, client, staff, firm):
    body = visit_body(firm, move_to="contacted", contacts_met="王站长", add_contact=True,
                      new_contact_title="站长", new_contact_phone="13812345678")
    r = client.post("/api/v1/visits", json=body, headers=h(app, staff))
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        assert Enterprise.get_by_id(firm.id).stage == "contacted"
        assert Contact.get(Contact.enterprise == firm.id).name == "王站长"
        changes = list(EnterpriseChange.select().where(EnterpriseChange.enterprise == firm.id,
                                                       EnterpriseChange.field.in_(["stage", "contact"])))
        assert {c.field for c in changes} == {"stage", "contact"}
        assert all(c.via == "api" and c.user_id == staff.id for c in changes)


# ---- roles ---------------------------------------------------------------------------------

def test_read_tokens_and_viewers_write_nothing(app, client, make, staff, town, firm):
    leader = make.user("viewer", org=town)
    bodies = {"/api/v1/visits": visit_body(firm),
              "/api/v1/meetings": {"held_on": local_today().isoformat(), "summary": "沟通会"},
              "/api/v1/outreach-points": {"name": "万达广场", "kind": "business_district"},
              "/api/v1/trainings": {"title": "安全培训", "held_on": local_today().isoformat(), "summary": "内容"},
              "/api/v1/activities": {"title": "送清凉", "held_on": local_today().isoformat()}}
    for token in (token_for(app, staff, "read"), token_for(app, leader, "read")):
        for path, body in bodies.items():
            r = client.post(path, json=body, headers=bearer(token))
            assert r.status_code == 403 and r.mimetype == "application/problem+json", path
    from crm.tokens.models import ApiToken
    with app.app_context():
        ApiToken.update(scope="write").execute()  # a viewer's token that somehow writes: the role refuses
    for path, body in bodies.items():
        assert client.post(path, json=body, headers=bearer(token_for(app, leader, "read"))).status_code == 403
    with app.app_context():
        assert Visit.select().count() == 0 and Meeting.select().count() == 0
    # A viewer reads the ledgers.
    assert client.get("/api/v1/visits", headers=h(app, leader, "read")).status_code == 200


# ---- meetings and outreach points ----------------------------------------------------------

def meeting_body(town, **extra):
    return {"kind": "enterprise", "level": "special", "format": "collective", "org_unit": town.id,
            "held_on": local_today().isoformat(), "title": "骑手专场", "venue": "万达广场",
            "target_groups": ["rider"], "attendees": 30, "new_members": {"rider": 5, "courier": 2},
            "cards": 4, "services": ["haircut"], "partners": ["bank"], "summary": "介绍入会", **extra}


def test_a_meeting_is_recorded_with_its_enterprises_read_and_listed(app, client, staff, town, firm, far_firm):
    headers = h(app, staff, key=KEY)
    r = client.post("/api/v1/meetings", json=meeting_body(town, enterprise_ids=[far_firm.id]), headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "enterprise_ids"
    r = client.post("/api/v1/meetings", json=meeting_body(town, enterprise_ids=[firm.id],
                                                          need_categories=["training"]), headers=headers)
    assert r.status_code == 201, r.get_json()
    m = r.get_json()
    assert m["kind"] == "enterprise" and m["kind_label"] == "企业沟通会" and m["level"] == "special"
    assert m["unit"] == {"id": town.id, "name": "高米店街道"}
    assert m["enterprises"] == [{"id": firm.id, "name": "京东物流高米店站"}]
    assert m["attendees"] == 30 and m["new_members"] == 7
    assert m["new_members_by_group"] == {"rider": 5, "courier": 2}
    assert m["services"] == ["haircut"] and m["target_groups"] == ["rider"] and m["point"] is None
    assert [n["category"] for n in m["needs"]] == ["training"]
    again = client.post("/api/v1/meetings", json=meeting_body(town, enterprise_ids=[firm.id],
                                                              need_categories=["training"]), headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == m["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.post("/api/v1/meetings", json=meeting_body(town), headers=headers).status_code == 422
    read = client.get(f"/api/v1/meetings/{m['id']}", headers=h(app, staff, "read")).get_json()
    assert read == m
    with app.app_context():
        assert Meeting.select().count() == 1


def test_a_meeting_shows_only_the_enterprises_the_reader_may_see(app, client, make, staff, town, firm,
                                                               far_firm):
    admin = make.user("admin")
    meeting = make.meeting(admin, [firm, far_firm], org_unit=town.id)
    body = client.get(f"/api/v1/meetings/{meeting.id}", headers=h(app, staff, "read")).get_json()
    assert body["enterprises"] == [{"id": firm.id, "name": "京东物流高米店站"}]
    listed = all_items(client, "/api/v1/meetings", h(app, staff, "read"))
    assert listed[0]["enterprises"] == [{"id": firm.id, "name": "京东物流高米店站"}]
    names = {e["name"] for e in client.get(f"/api/v1/meetings/{meeting.id}",
                                           headers=h(app, admin, "read")).get_json()["enterprises"]}
    assert names == {"京东物流高米店站", "顺丰速运西红门站"}


def test_the_meeting_ledger_filters_and_scope(app, client, make, staff, outsider, town):
    enterprise = make.meeting(staff, kind="enterprise")
    riders = make.meeting(staff, kind="staff", target_groups=["rider"])
    theirs = make.meeting(outsider)
    headers = h(app, staff, "read")

    def listed(**query):
        return {m["id"] for m in all_items(client, "/api/v1/meetings", headers, **query)}

    assert listed() == {enterprise.id, riders.id}
    assert listed(kind="staff") == {riders.id}
    assert listed(group="rider") == {riders.id}
    assert listed(staff=staff.id) == {enterprise.id, riders.id}
    assert client.get(f"/api/v1/meetings/{theirs.id}", headers=headers).status_code == 404


def test_outreach_points(app, client, make, staff, outsider, town):
    headers = h(app, staff, key=KEY)
    body = {"name": "万达广场", "kind": "business_district", "schedule": "每周四上午", "target_groups": ["rider"]}
    r = client.post("/api/v1/outreach-points", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    point = r.get_json()
    assert point["unit"]["id"] == town.id and point["name"] == "万达广场" and point["kind_label"] == "商圈"
    again = client.post("/api/v1/outreach-points", json=body, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == point["id"]
    assert client.get(f"/api/v1/outreach-points/{point['id']}", headers=headers).get_json() == point
    assert [p["id"] for p in all_items(client, "/api/v1/outreach-points", headers)] == [point["id"]]
    r = client.post("/api/v1/outreach-points", json={**body, "org_unit": outsider.org_unit_id},
                    headers=h(app, staff))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "org_unit"
    theirs = client.post("/api/v1/outreach-points", json=body, headers=h(app, outsider)).get_json()
    assert client.get(f"/api/v1/outreach-points/{theirs['id']}", headers=headers).status_code == 404
    # A meeting held at the point.
    r = client.post("/api/v1/meetings", json={"held_on": local_today().isoformat(), "summary": "点位沟通会",
                                              "point": point["id"]}, headers=h(app, staff))
    assert r.status_code == 201 and r.get_json()["point"] == {"id": point["id"], "name": "万达广场"}
    assert r.get_json()["venue"] == "万达广场" and r.get_json()["kind"] == "staff"
    r = client.post("/api/v1/meetings", json={"held_on": local_today().isoformat(), "summary": "x",
                                              "point": theirs["id"]}, headers=h(app, staff))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "point"


# ---- trainings and activities --------------------------------------------------------------

def test_trainings(app, client, make, staff, outsider, town, firm, far_firm):
    headers = h(app, staff, key=KEY)
    body = {"title": "安全生产知识培训", "held_on": local_today().isoformat(), "category": "safety", "hours": 1.5,
            "participants": 40, "trainer": "赵老师", "enterprise_ids": [firm.id], "summary": "消防"}
    r = client.post("/api/v1/trainings", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    t = r.get_json()
    assert t["hours"] == 1.5 and t["category_label"] == "安全生产" and t["unit"]["id"] == town.id
    assert t["enterprises"] == [{"id": firm.id, "name": "京东物流高米店站"}]
    again = client.post("/api/v1/trainings", json=body, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == t["id"]
    assert client.post("/api/v1/trainings", json={**body, "hours": 2}, headers=headers).status_code == 422
    assert client.get(f"/api/v1/trainings/{t['id']}", headers=headers).get_json() == t
    law = make.training(staff, category="law")
    read = h(app, staff, "read")
    assert {x["id"] for x in all_items(client, "/api/v1/trainings", read, kind="safety")} == {t["id"]}
    assert {x["id"] for x in all_items(client, "/api/v1/trainings", read)} == {t["id"], law.id}
    theirs = make.training(outsider)
    assert client.get(f"/api/v1/trainings/{theirs.id}", headers=read).status_code == 404
    r = client.post("/api/v1/trainings", json={**body, "hours": 25}, headers=h(app, staff))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "hours"
    r = client.post("/api/v1/trainings", json={**body, "enterprise_ids": [far_firm.id]}, headers=h(app, staff))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "enterprise_ids"


def test_activities(app, client, make, staff, outsider, town, firm):
    headers = h(app, staff, key=KEY)
    body = {"title": "夏季送清凉", "held_on": local_today().isoformat(), "services": ["cooling", "haircut"],
            "place": "快递驿站", "target_groups": ["courier"], "participants": 25, "new_members": 3,
            "enterprise_ids": [firm.id]}
    r = client.post("/api/v1/activities", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    a = r.get_json()
    assert a["participants"] == 25 and a["new_members"] == 3 and a["paper_participants"] == 25
    assert a["services"] == ["cooling", "haircut"] and a["signup_open"] is False and a["capacity"] is None
    assert a["enterprises"] == [{"id": firm.id, "name": "京东物流高米店站"}] and a["unit"]["id"] == town.id
    again = client.post("/api/v1/activities", json=body, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == a["id"]
    assert client.get(f"/api/v1/activities/{a['id']}", headers=headers).get_json() == a
    other = make.activity(staff, services=["legal"], target_groups=["rider"])
    read = h(app, staff, "read")
    assert {x["id"] for x in all_items(client, "/api/v1/activities", read, kind="cooling")} == {a["id"]}
    assert {x["id"] for x in all_items(client, "/api/v1/activities", read, group="rider")} == {other.id}
    theirs = make.activity(outsider)
    assert client.get(f"/api/v1/activities/{theirs.id}", headers=read).status_code == 404
    r = client.post("/api/v1/activities", json={**body, "new_members": 30}, headers=h(app, staff))
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "new_members"
    ahead = (local_today() + timedelta(days=3)).isoformat()
    assert client.post("/api/v1/activities", json={**body, "held_on": ahead}, headers=h(app, staff)).status_code == 422
    r = client.post("/api/v1/activities", json={**body, "held_on": ahead, "signup_open": True, "capacity": 20},
                    headers=h(app, staff))
    assert r.status_code == 201 and r.get_json()["capacity"] == 20


# ---- needs ---------------------------------------------------------------------------------

def test_needs_are_read_and_listed_by_the_ledgers_filters(app, client, make, staff, outsider, firm, far_firm):
    legal = make.need(firm, staff, "legal", "劳动合同咨询")
    training = make.need(firm, staff, "training", "技能培训")
    with app.app_context():
        Need.update(status="resolved", resolution="已办").where(Need.id == training.id).execute()
    theirs = make.need(far_firm, outsider)
    read = h(app, staff, "read")
    body = client.get(f"/api/v1/needs/{legal.id}", headers=read).get_json()
    assert body["category"] == "legal" and body["detail"] == "劳动合同咨询" and body["status"] == "open"
    assert body["enterprises"] == [{"id": firm.id, "name": "京东物流高米店站"}]
    assert body["visit"] == legal.visit_id and body["meeting"] is None and body["unit"]["name"] == "高米店街道"
    assert {n["id"] for n in all_items(client, "/api/v1/needs", read)} == {legal.id, training.id}
    assert {n["id"] for n in all_items(client, "/api/v1/needs", read, status="resolved")} == {training.id}
    assert {n["id"] for n in all_items(client, "/api/v1/needs", read, kind="legal")} == {legal.id}
    assert client.get(f"/api/v1/needs/{theirs.id}", headers=read).status_code == 404
    assert client.post("/api/v1/needs", json={}, headers=h(app, staff)).status_code == 405


def test_characters_no_field_keeps_are_dropped_not_a_crash(app, client, staff, town, firm):
    headers = h(app, staff)
    odd = "摘\x00要\ud800\x07"
    r = client.post("/api/v1/visits", headers={**headers, "Content-Type": "application/json"},
                    data='{"enterprise": %d, "visited_on": "%s", "summary": "\\u6458\\u0000\\u8981\\ud800\\u0007\\n\\u4e0b",'
                         ' "next_step": "a\\u0000b"}' % (firm.id, local_today().isoformat()))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["summary"] == "摘要\n下" and r.get_json()["next_step"] == "ab"
    r = client.post("/api/v1/meetings", json={"held_on": local_today().isoformat(), "summary": odd,
                                              "title": odd}, headers=headers)
    assert r.status_code == 201 and r.get_json()["title"] == "摘要"
    r = client.post("/api/v1/visits", json=visit_body(firm, summary="\x00 "), headers=headers)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "summary"
