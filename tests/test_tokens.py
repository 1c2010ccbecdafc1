"""Personal access tokens: the account page and `crm token create`."""
import re

from crm.tokens.models import ApiToken
from tests.api_helpers import bearer
from tests.conftest import csrf_token, login_as


def test_create_on_the_account_page_shows_the_token_once(app, client, make):
    user = make.user("staff", username="liuxq")
    login_as(client, user)
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "还没有令牌" in page.get_data(as_text=True)
    r = client.post("/account/tokens", data={"csrf_token": csrf_token(client, "/account/tokens"),
                                             "name": "BI 看板", "scope": "read", "days": "30"})
    html = r.get_data(as_text=True)
    token = re.search(r'value="(crm_[A-Za-z0-9_-]+)"', html).group(1)
    assert "离开本页后无法再次查看" in html and r.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/enterprises", headers=bearer(token)).status_code == 200
    again = client.get("/account/tokens").get_data(as_text=True)
    assert token not in again and "BI 看板" in again and token[:10] in again


def test_a_missing_name_gets_a_message_next_to_the_field(app, client, make):
    login_as(client, make.user("staff"))
    r = client.post("/account/tokens", data={"csrf_token": csrf_token(client, "/account/tokens"),
                                             "name": "", "scope": "write", "days": "90"})
    assert r.status_code == 422 and "请填写令牌名称" in r.get_data(as_text=True)
    r = client.post("/account/tokens", data={"csrf_token": csrf_token(client, "/account/tokens"),
                                             "name": "x", "scope": "root", "days": "99999999999999999999"})
    assert r.status_code == 422


def test_a_viewer_is_offered_read_only(app, client, make):
    login_as(client, make.user("viewer"))
    html = client.get("/account/tokens").get_data(as_text=True)
    assert 'value="read"' in html and 'value="write"' not in html
    r = client.post("/account/tokens", data={"csrf_token": csrf_token(client, "/account/tokens"),
                                             "name": "x", "scope": "write", "days": "30"})
    assert r.status_code == 422
    with app.app_context():
        assert ApiToken.select().count() == 0


def test_revoke_own_token_only(app, client, make):
    owner, other = make.user("staff", username="a1"), make.user("staff", username="b1")
    from tests.api_helpers import token_for
    token = token_for(app, owner, "read")
    with app.app_context():
        row = ApiToken.get()
    login_as(client, other)
    assert client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/account/tokens")}).status_code == 404
    assert client.get("/api/v1/enterprises", headers=bearer(token)).status_code == 200
    login_as(client, owner)
    r = client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert r.status_code == 302
    assert client.get("/api/v1/enterprises", headers=bearer(token)).status_code == 401
    assert "已撤销" in client.get("/account/tokens").get_data(as_text=True)


def test_cli_prints_the_token_alone_on_its_last_line(app, make):
    make.user("supervisor", username="kouyj")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["token", "create", "--username", "kouyj", "--scope", "write", "--days", "7"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"crm_[A-Za-z0-9_-]{40}", last)
    client = app.test_client()
    r = client.post("/api/v1/enterprises", json={"name": ""}, headers=bearer(last))
    assert r.status_code == 422  # a write token: the request reached the checks
    listed = runner.invoke(args=["token", "list", "--username", "kouyj"]).output
    assert "有效" in listed and last not in listed
    assert runner.invoke(args=["token", "create", "--username", "nobody"]).exit_code != 0
    assert runner.invoke(args=["token", "create", "--username", "kouyj", "--days", "0"]).exit_code != 0


def test_docs_page_is_served_locally(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html and "https://" not in html
    assert "<script>" not in html  # the CSP allows no inline script
    r = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert r.status_code == 200 and len(r.data) > 100_000
    assert client.get("/api/v1/docs/assets/..%2Fconfig.py").status_code == 404


def test_the_usual_entrances_lead_to_the_docs(client):
    for path in ("/api", "/api/", "/api/v1", "/api/v1/"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/api/v1/docs"), path
    r = client.get("/openapi.json")
    assert r.status_code == 302 and r.headers["Location"].endswith("/api/v1/openapi.json")
