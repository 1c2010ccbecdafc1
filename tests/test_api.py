"""/api/v1: tokens, scoping, roles, idempotency, optimistic locking, problem+json, rate limit,
and writes in the file's history marked as coming from the API."""
from datetime import timedelta

import pytest

from crm.common.timeutil import utcnow
from crm.enterprises.models import Enterprise, EnterpriseChange
from crm.tokens.models import ApiToken
from tests.api_helpers import bearer, token_for

KEY = "0f8c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def town(make):
    return make.org("高米店街道")


@pytest.fixture
def other(make):
    return make.org("西红门镇")


@pytest.fixture
def supervisor(make, town):
    return make.user("supervisor", org=town, username="kou")


def test_no_token_is_401_problem(client):
    r = client.get("/api/v1/enterprises")
    assert r.status_code == 401
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == 401 and body["title"] == "未认证"
    assert "Bearer" in r.headers["WWW-Authenticate"]


def test_a_session_cookie_opens_nothing(client, make, supervisor):
    from tests.conftest import login_as
    login_as(client, supervisor)
    assert client.get("/api/v1/enterprises").status_code == 401


def test_expired_revoked_and_deactivated_tokens_are_401(app, client, make, supervisor):
    token = token_for(app, supervisor, "read")
    assert client.get("/api/v1/enterprises", headers=bearer(token)).status_code == 200
    with app.app_context():
        ApiToken.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    assert client.get("/api/v1/enterprises", headers=bearer(token)).status_code == 401

    token = token_for(app, supervisor, "read")
    with app.app_context():
        from crm.tokens import services as tokens
        tokens.revoke(ApiToken.get(ApiToken.digest == tokens.digest(token)), supervisor)
    assert client.get("/api/v1/enterprises", headers=bearer(token)).status_code == 401

    token = token_for(app, supervisor, "read")
    assert client.get("/api/v1/enterprises", headers=bearer(token)).status_code == 200
    with app.app_context():
        from crm.auth.models import User
        User.update(active=False).where(User.id == supervisor.id).execute()
    assert client.get("/api/v1/enterprises", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/enterprises", headers=bearer("crm_" + "x" * 40)).status_code == 401


def test_only_the_hash_is_stored_and_last_use_is_kept(app, client, supervisor):
    token = token_for(app, supervisor, "read")
    with app.app_context():
        row = ApiToken.get()
        assert token not in (row.digest, row.prefix, row.name) and row.last_used_at is None
    client.get("/api/v1/enterprises", headers=bearer(token))
    with app.app_context():
        assert ApiToken.get().last_used_at is not None


def test_out_of_unit_ids_are_404_as_on_pages(app, client, make, supervisor, other):
    mine = make.enterprise(org=supervisor.org_unit, name="京东物流高米店站")
    theirs = make.enterprise(org=other, name="顺丰速运西红门站")
    token = token_for(app, supervisor)
    h = bearer(token)
    assert client.get(f"/api/v1/enterprises/{mine.id}", headers=h).status_code == 200
    for path in (f"/api/v1/enterprises/{theirs.id}", f"/api/v1/enterprises/{theirs.id}/contacts",
                 f"/api/v1/enterprises/{theirs.id}/founding"):
        r = client.get(path, headers=h)
        assert r.status_code == 404 and r.mimetype == "application/problem+json", path
    r = client.patch(f"/api/v1/enterprises/{theirs.id}", json={"version": 1, "name": "改名"}, headers=h)
    assert r.status_code == 404
    names = [e["name"] for e in client.get("/api/v1/enterprises", headers=h).get_json()["items"]]
    assert names == ["京东物流高米店站"]
    # The page says the same.
    from tests.conftest import login_as
    login_as(client, supervisor)
    assert client.get(f"/enterprises/{theirs.id}").status_code == 404


def test_viewer_and_read_tokens_cannot_write(app, client, make, supervisor, town):
    leader = make.user("viewer", org=town, username="leader")
    ent = make.enterprise(org=town)
    body = {"name": "新建的企业", "org_unit": town.id}
    with app.app_context():
        from crm.common.errors import ServiceError
        from crm.tokens import services as tokens
        with pytest.raises(ServiceError):
            tokens.create(leader, "x", "write", 30)
    for token in (token_for(app, leader, "read"), token_for(app, supervisor, "read")):
        r = client.post("/api/v1/enterprises", json=body, headers=bearer(token))
        assert r.status_code == 403 and r.mimetype == "application/problem+json"
        r = client.patch(f"/api/v1/enterprises/{ent.id}", json={"version": 1, "name": "x"}, headers=bearer(token))
        assert r.status_code == 403
    # A viewer whose token somehow writes is still refused by the role's rule.
    with app.app_context():
        ApiToken.update(scope="write").execute()
    r = client.post("/api/v1/enterprises", json=body, headers=bearer(token_for(app, leader, "read")))
    assert r.status_code == 403
    with app.app_context():
        assert not Enterprise.select().where(Enterprise.name == "新建的企业").exists()


def test_create_is_idempotent_by_key(app, client, supervisor, town):
    h = {**bearer(token_for(app, supervisor)), "Idempotency-Key": KEY}
    body = {"name": "美团外卖高米店站", "org_unit": town.id, "contact": {"name": "王站长", "phone": "13812345678"}}
    first = client.post("/api/v1/enterprises", json=body, headers=h)
    assert first.status_code == 201, first.get_json()
    again = client.post("/api/v1/enterprises", json=body, headers=h)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    other = client.post("/api/v1/enterprises", json={**body, "name": "饿了么高米店站"}, headers=h)
    assert other.status_code == 422 and other.mimetype == "application/problem+json"
    assert "Idempotency-Key" in other.get_json()["detail"]
    with app.app_context():
        assert Enterprise.select().count() == 1
    bad = client.post("/api/v1/enterprises", json=body, headers={**h, "Idempotency-Key": "short"})
    assert bad.status_code == 422


def test_stale_update_is_409_with_both_versions(app, client, make, supervisor, town):
    ent = make.enterprise(org=town, name="盒马鲜生")
    h = bearer(token_for(app, supervisor))
    r = client.patch(f"/api/v1/enterprises/{ent.id}", json={"version": 1, "employees": 40}, headers=h)
    assert r.status_code == 200 and r.get_json()["version"] == 2 and r.get_json()["employees"] == 40
    stale = client.patch(f"/api/v1/enterprises/{ent.id}", json={"version": 1, "employees": 55}, headers=h)
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    body = stale.get_json()
    assert body["current"]["version"] == 2 and body["current"]["employees"] == 40
    assert body["yours"] == {"version": 1, "employees": 55}
    with app.app_context():
        assert Enterprise.get_by_id(ent.id).employees == 40


def test_a_write_through_the_api_is_in_the_history_marked_api(app, client, make, supervisor, town):
    ent = make.enterprise(org=town, name="叮咚买菜")
    h = bearer(token_for(app, supervisor))
    client.patch(f"/api/v1/enterprises/{ent.id}", json={"version": 1, "address": "兴华大街1号"}, headers=h)
    with app.app_context():
        change = EnterpriseChange.get(EnterpriseChange.enterprise == ent.id, EnterpriseChange.field == "address")
        assert change.via == "api" and change.user_id == supervisor.id
        first = EnterpriseChange.get(EnterpriseChange.enterprise == ent.id, EnterpriseChange.field == "created")
        assert first.via == ""
    from tests.conftest import login_as
    login_as(client, supervisor)
    page = client.get(f"/enterprises/{ent.id}/history").get_data(as_text=True)
    assert "兴华大街1号" in page and "通过 API" in page


def test_validation_errors_are_chinese_and_per_field(app, client, supervisor, town):
    h = bearer(token_for(app, supervisor))
    r = client.post("/api/v1/enterprises", json={"org_unit": town.id, "employees": "many"}, headers=h)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    fields = {e["field"]: e["message"] for e in r.get_json()["errors"]}
    assert fields["name"] == "必填" and fields["employees"] == "应为整数"
    r = client.post("/api/v1/enterprises", json={"name": "某公司", "org_unit": town.id,
                                                 "credit_code": "91110115MA00000000"}, headers=h)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "credit_code"
    r = client.post("/api/v1/enterprises", data="{not json", content_type="application/json", headers=h)
    assert r.status_code in (400, 422) and r.mimetype == "application/problem+json"


def test_out_of_scope_unit_is_refused(app, client, supervisor, other):
    h = bearer(token_for(app, supervisor))
    r = client.post("/api/v1/enterprises", json={"name": "某公司", "org_unit": other.id}, headers=h)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "org_unit"


def test_the_list_takes_the_pages_filters(app, client, make, supervisor, town):
    station = make.org("高米店第一社区", parent=town)
    make.enterprise(org=town, name="京东便利店", is_key=True)
    make.enterprise(org=station, name="京东物流社区站")
    make.enterprise(org=town, name="盒马鲜生")
    h = bearer(token_for(app, supervisor, "read"))

    def names(**query):
        r = client.get("/api/v1/enterprises", query_string=query, headers=h)
        assert r.status_code == 200, r.get_json()
        return sorted(e["name"] for e in r.get_json()["items"])

    assert names(q="京东") == ["京东便利店", "京东物流社区站"]
    assert names(org=str(station.id)) == ["京东物流社区站"]
    assert names(is_key="1") == ["京东便利店"]
    assert client.get("/api/v1/enterprises?org=abc", headers=h).status_code == 422


def test_cursor_pagination_walks_every_file_once(app, client, make, supervisor, town):
    ids = {make.enterprise(org=town).id for _ in range(7)}
    h = bearer(token_for(app, supervisor, "read"))
    seen, cursor = [], None
    while True:
        r = client.get("/api/v1/enterprises", query_string={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=h)
        body = r.get_json()
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 7
    assert client.get("/api/v1/enterprises?cursor=%%%", headers=h).status_code == 400


def test_founding_track_read_and_move(app, client, make, supervisor, town):
    ent = make.enterprise(org=town)
    h = bearer(token_for(app, supervisor))
    track = client.get(f"/api/v1/enterprises/{ent.id}/founding", headers=h).get_json()
    r = client.post(f"/api/v1/enterprises/{ent.id}/founding", headers=h,
                    json={"from_stage": track["stage"], "to_stage": "contacted"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["stage"] == "contacted" and len(r.get_json()["events"]) == 2
    stale = client.post(f"/api/v1/enterprises/{ent.id}/founding", headers=h,
                        json={"from_stage": track["stage"], "to_stage": "contacted"})
    assert stale.status_code == 422


def test_rate_limit_is_429_with_retry_after(app, client, supervisor):
    app.config["API_RATE_LIMIT"] = "3/minute"
    h = bearer(token_for(app, supervisor, "read"))
    codes = [client.get("/api/v1/enterprises", headers=h).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.get("/api/v1/enterprises", headers=h)
    assert r.mimetype == "application/problem+json" and int(r.headers["Retry-After"]) > 0
    # Another token has its own allowance.
    assert client.get("/api/v1/enterprises", headers=bearer(token_for(app, supervisor, "read"))).status_code == 200


def test_unknown_paths_and_methods_are_problems(app, client, supervisor):
    h = bearer(token_for(app, supervisor))
    r = client.get("/api/v1/nothing-here", headers=h)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.delete("/api/v1/enterprises", headers=h)
    assert r.status_code == 405 and r.mimetype == "application/problem+json"


def test_the_description_is_openapi_3_1(client):
    r = client.get("/api/v1/openapi.json")
    spec = r.get_json()
    assert spec["openapi"] == "3.1.0"
    assert "/api/v1/enterprises/{ent_id}" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert "application/problem+json" in default["content"]


def test_the_description_is_written_when_first_read_whole_and_once(app, client):
    """Building the app leaves the description unwritten (most of the time an app takes to
    build); its first reader gets every blueprint's operations under its Chinese tag, and the
    readers after it the same description."""
    from crm.api.endpoints import BLUEPRINTS
    api = app.extensions["crm_api"]
    assert [blp for blp, _ in api._undocumented] == BLUEPRINTS
    first = client.get("/api/v1/openapi.json").get_json()
    assert api._undocumented == []
    tags = [t["name"] for t in first["tags"]]
    assert len(tags) == len(BLUEPRINTS) and "企业档案" in tags
    assert all(not t.isascii() for t in tags)
    operations = [op for path in first["paths"].values() for op in path.values() if isinstance(op, dict)]
    assert operations and all(op.get("tags", [None])[0] in tags for op in operations)
    assert client.get("/api/v1/openapi.json").get_json() == first


def test_control_characters_are_cleaned_as_the_forms_clean_them(app, client, supervisor, town):
    h = bearer(token_for(app, supervisor))
    r = client.post("/api/v1/enterprises", json={"name": "京东\x00物流\u200b站", "org_unit": town.id,
                                                 "notes": "第一行\r\n第二行\x07"}, headers=h)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert "\x00" not in body["name"] and "\x07" not in body["notes"] and "第二行" in body["notes"]
