"""Several app servers: every counter that decides a lockout or a rate limit is shared between
them. Two app objects stand for two servers: the same database, the same secrets and, for the
API's rate counts, the same Redis (a key prefix of this test's own)."""
import re
import uuid

import pytest

from config import TestConfig
from crm import create_app
from crm.auth.models import LoginThrottle
from crm.common.errors import ServiceError
from crm.db import db
from crm.members import services as members
from tests.api_helpers import bearer, token_for
from tests.conftest import PASSWORD, login_form, post_form

REDIS = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    try:
        import redis
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except Exception:
        return False


needs_redis = pytest.mark.skipif(not _redis_answers(), reason="Redis does not answer on 127.0.0.1:6379")


def server(db_url, tmp_path, name, overrides=None, **env):
    """One app server: its own instance folder, the database and secrets of the others."""
    environ = {"CRM_DATABASE_URL": db_url, "CRM_INSTANCE_DIR": str(tmp_path / name),
               "CRM_UPLOAD_DIR": str(tmp_path / "uploads"), **env}
    return create_app(TestConfig(environ), **(overrides or {}))


def test_the_api_counts_in_redis_when_there_is_one(db_url, tmp_path):
    assert server(db_url, tmp_path, "a", CRM_REDIS_URL=REDIS).config["RATELIMIT_STORAGE_URI"] == REDIS
    chosen = server(db_url, tmp_path, "b", CRM_REDIS_URL=REDIS, CRM_API_RATE_STORAGE="memory://")
    assert chosen.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert server(db_url, tmp_path, "c").config["RATELIMIT_STORAGE_URI"] == "memory://"


@needs_redis
def test_two_servers_on_one_redis_count_one_api_limit(db_url, tmp_path, app, make):
    own = {"RATELIMIT_KEY_PREFIX": f"crm-test-{uuid.uuid4().hex[:12]}"}  # this test's keys (they expire)
    a = server(db_url, tmp_path, "a", own, CRM_REDIS_URL=REDIS)
    b = server(db_url, tmp_path, "b", own, CRM_REDIS_URL=REDIS)
    for each in (a, b):
        each.config["API_RATE_LIMIT"] = "3/minute"
    user = make.user("supervisor", org=make.org("高米店街道"))
    h = bearer(token_for(a, user, "read"))
    ca, cb = a.test_client(), b.test_client()
    codes = [c.get("/api/v1/enterprises", headers=h).status_code for c in (ca, cb, ca, cb, ca)]
    assert codes == [200, 200, 200, 429, 429]
    refused = cb.get("/api/v1/enterprises", headers=h)
    assert refused.mimetype == "application/problem+json" and int(refused.headers["Retry-After"]) > 0
    assert cb.get("/api/v1/enterprises", headers=bearer(token_for(b, user, "read"))).status_code == 200


def test_two_apps_without_redis_count_apart(db_url, tmp_path, app, make):
    """memory:// is each server's own count (the limiter belongs to the app, not the module)."""
    a, b = server(db_url, tmp_path, "a"), server(db_url, tmp_path, "b")
    for each in (a, b):
        each.config["API_RATE_LIMIT"] = "2/minute"
    user = make.user("supervisor", org=make.org("高米店街道"))
    h = bearer(token_for(a, user, "read"))
    ca, cb = a.test_client(), b.test_client()
    assert [ca.get("/api/v1/enterprises", headers=h).status_code for _ in range(3)] == [200, 200, 429]
    assert [cb.get("/api/v1/enterprises", headers=h).status_code for _ in range(3)] == [200, 200, 429]


def test_the_api_answers_while_redis_is_away(db_url, tmp_path, app, make):
    """Redis unreachable: the counts fall back to the process's memory, no 500."""
    down = server(db_url, tmp_path, "a", CRM_REDIS_URL="redis://127.0.0.1:1/0")
    down.config["API_RATE_LIMIT"] = "2/minute"
    user = make.user("supervisor", org=make.org("高米店街道"))
    h = bearer(token_for(down, user, "read"))
    client = down.test_client()
    assert [client.get("/api/v1/enterprises", headers=h).status_code for _ in range(3)] == [200, 200, 429]


def test_two_servers_on_one_database_share_the_login_lockout(db_url, tmp_path, app, make):
    a, b = server(db_url, tmp_path, "a"), server(db_url, tmp_path, "b")
    make.user("staff", username="zhao")
    ca, cb = a.test_client(), b.test_client()
    for client in (ca, cb, ca, cb, ca):
        assert login_form(client, "zhao", "wrong-password-x").status_code == 401
    # Five in all, across both: locked on each, even with the right password.
    assert login_form(cb, "zhao", PASSWORD).status_code == 401
    assert login_form(ca, "zhao", PASSWORD).status_code == 401
    with a.app_context():
        db.connect(reuse_if_open=True)
        assert LoginThrottle.get(LoginThrottle.key == "ua:zhao|127.0.0.1").failures == 5


def test_a_session_from_one_server_holds_on_the_other_until_logout(db_url, tmp_path, app, make):
    a, b = server(db_url, tmp_path, "a"), server(db_url, tmp_path, "b")
    make.user("staff", username="qian")
    ca = a.test_client()
    assert login_form(ca, "qian").status_code == 302
    cookie = ca.get_cookie("crm_session").value
    cb = b.test_client()
    cb.set_cookie("crm_session", cookie)
    assert cb.get("/").status_code == 200
    assert post_form(cb, "/logout", {}, token_from="/").status_code == 302  # logged out on B
    again = a.test_client()
    again.set_cookie("crm_session", cookie)
    assert again.get("/").status_code == 302  # … ends the session on A too


def test_two_servers_share_the_sign_up_throttle(db_url, tmp_path, app):
    a, b = server(db_url, tmp_path, "a"), server(db_url, tmp_path, "b")
    for each in (a, b):
        each.config["SIGNUP_PER_ADDRESS"] = 3
    for each in (a, b, a):
        with each.app_context():
            members.throttle("198.51.100.4")
    with b.app_context(), pytest.raises(ServiceError):
        members.throttle("198.51.100.4")
    with a.app_context(), pytest.raises(ServiceError):
        members.throttle("198.51.100.4")


def test_behind_one_proxy_the_client_address_is_the_one_nginx_saw(db_url, tmp_path, app, make):
    """CRM_PROXIES=1 with nginx's `X-Forwarded-For $proxy_add_x_forwarded_for`: the last address
    is the one nginx saw; whatever the client put before it is not believed."""
    behind = server(db_url, tmp_path, "a", CRM_PROXIES="1")
    make.user("staff", username="sun")
    client = behind.test_client()
    headers = {"X-Forwarded-For": "203.0.113.9, 198.51.100.23", "X-Forwarded-Proto": "https"}
    page = client.get("/login", headers=headers).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": "sun", "password": "wrong-password-x", "csrf_token": csrf},
                       headers={**headers, "Referer": "https://localhost/login"})
    assert resp.status_code == 401
    with behind.app_context():
        db.connect(reuse_if_open=True)
        keys = {t.key for t in LoginThrottle.select()}
    assert "ua:sun|198.51.100.23" in keys and not any("203.0.113.9" in k for k in keys)
