"""Login, lockout, session rotation and ending, CSRF, headers: the security baseline."""
from datetime import timedelta

from werkzeug.security import check_password_hash

from config import Config
from crm.auth.models import LoginThrottle, User
from crm.common.timeutil import utcnow
from tests.conftest import PASSWORD, csrf_token, login_as, login_form, post_form


def test_production_hash_is_scrypt_n_2_17(tmp_path):
    """Production hashes with scrypt, N = 2^17 (the tests' config with a cheaper N)."""
    from config import TestConfig
    from crm import create_app
    from crm.auth.services import hash_password
    assert Config.PASSWORD_HASH_METHOD.startswith("scrypt:")
    n = int(Config.PASSWORD_HASH_METHOD.split(":")[1])
    assert n >= 2 ** 17
    production = create_app(Config({"CRM_DATABASE_URL": f"sqlite:///{tmp_path}/p.db", "CRM_SECRET_KEY": "x" * 32,
                                    "CRM_DATA_KEY": "y" * 32, "CRM_INSTANCE_DIR": str(tmp_path / "i")}))
    with production.app_context():
        assert hash_password("Some-Long-Pass-1").startswith("scrypt:131072:8:1$")
    assert TestConfig.PASSWORD_HASH_METHOD != Config.PASSWORD_HASH_METHOD


def test_login_and_logout(client, make):
    user = make.user("staff", username="wang")
    resp = login_form(client, "wang")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    resp = post_form(client, "/logout", {}, token_from="/")
    assert resp.status_code == 302
    assert client.get("/").status_code == 302
    assert User.get_by_id(user.id).last_login_at is not None


def test_same_message_for_unknown_user_and_wrong_password(client, make):
    make.user("staff", username="li")
    wrong_pw = login_form(client, "li", "Not-The-Password").get_data(as_text=True)
    no_user = login_form(client, "nobody", "Not-The-Password").get_data(as_text=True)
    from crm.auth.services import LOGIN_FAILED
    assert LOGIN_FAILED in wrong_pw and LOGIN_FAILED in no_user


def test_lockout_after_five_failures(client, make):
    make.user("staff", username="zhao")
    for _ in range(5):
        assert login_form(client, "zhao", "wrong-password-x").status_code == 401
    # Even the right password is refused while locked.
    resp = login_form(client, "zhao", PASSWORD)
    assert resp.status_code == 401
    throttle = LoginThrottle.get(LoginThrottle.key == "ua:zhao|127.0.0.1")
    assert throttle.failures == 5 and throttle.locked_until > utcnow() + timedelta(minutes=14)
    # After 15 minutes it works again.
    LoginThrottle.update(locked_until=utcnow() - timedelta(seconds=1)).where(LoginThrottle.locked_until.is_null(False)).execute()
    assert login_form(client, "zhao", PASSWORD).status_code == 302
    assert not LoginThrottle.select().where(LoginThrottle.key.contains("zhao")).exists()


def test_four_failures_do_not_lock(client, make):
    make.user("staff", username="qian")
    for _ in range(4):
        login_form(client, "qian", "wrong-password-x")
    assert login_form(client, "qian", PASSWORD).status_code == 302


def test_unknown_usernames_are_locked_too(client, make):
    for _ in range(5):
        login_form(client, "ghost", "wrong-password-x")
    assert LoginThrottle.get(LoginThrottle.key == "ua:ghost|127.0.0.1").locked_until is not None


def test_session_rotated_at_login(client, make):
    make.user("staff", username="sun")
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker-value"
    login_form(client, "sun")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"].startswith(str(User.get(User.username == "sun").id) + ":")


def test_copied_cookie_refused_after_logout(app, make):
    make.user("staff", username="zhou")
    browser = app.test_client()
    login_form(browser, "zhou")
    stolen = browser.get_cookie("crm_session").value
    post_form(browser, "/logout", {}, token_from="/")
    thief = app.test_client()
    thief.set_cookie("crm_session", stolen)
    resp = thief.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_password_change_ends_other_sessions(app, make):
    user = make.user("staff", username="wu")
    other = login_as(app.test_client(), user)
    me = app.test_client()
    login_form(me, "wu")
    resp = post_form(me, "/account/password", {"current": PASSWORD, "new": "Brand-New-Pass-77",
                                               "confirm": "Brand-New-Pass-77"})
    assert resp.status_code == 302
    assert other.get("/").status_code == 302
    assert check_password_hash(User.get_by_id(user.id).password_hash, "Brand-New-Pass-77")


def test_weak_new_password_refused(client, make):
    user = make.user("staff")
    login_as(client, user)
    resp = post_form(client, "/account/password", {"current": PASSWORD, "new": "short",
                                                   "confirm": "short"})
    assert resp.status_code == 200 and "至少需要 10 个字符" in resp.get_data(as_text=True)


def test_session_expires_after_absolute_lifetime(client, make):
    user = make.user("staff")
    login_as(client, user)
    with client.session_transaction() as sess:
        sess["login_at"] -= 13 * 3600
    assert client.get("/").status_code == 302


def test_deactivated_user_is_logged_out(client, make):
    user = make.user("staff")
    login_as(client, user)
    User.update(active=False).where(User.id == user.id).execute()
    assert client.get("/").status_code == 302


def test_post_without_csrf_is_400(client, make):
    user = make.user("staff")
    login_as(client, user)
    resp = client.post("/enterprises/new", data={"name": "无令牌企业", "org_unit": user.org_unit_id})
    assert resp.status_code == 400
    assert "安全令牌" in resp.get_data(as_text=True)
    resp = client.post("/login", data={"username": "x", "password": "y"})
    assert resp.status_code == 400


def test_logout_is_not_a_get(client, make):
    login_as(client, make.user("staff"))
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_security_headers_on_404_and_pages(client, make):
    for resp in (client.get("/no-such-page"), client.get("/login")):
        csp = resp.headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"]
    assert client.get("/no-such-page").status_code == 404


def test_security_headers_on_500(app, make):
    @app.route("/_boom")
    def boom():
        raise RuntimeError("boom")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    resp = app.test_client().get("/_boom")
    assert resp.status_code == 500
    assert "object-src 'none'" in resp.headers["Content-Security-Policy"]


def test_cookie_flags(client, make):
    make.user("staff", username="feng")
    resp = login_form(client, "feng")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_max_content_length_set(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] and app.config["MAX_CONTENT_LENGTH"] <= 64 * 1024 * 1024
    token = csrf_token(client)
    resp = client.post("/login", data={"csrf_token": token, "username": "x",
                                       "password": "y" * (app.config["MAX_CONTENT_LENGTH"] + 10)})
    assert resp.status_code == 413


def test_open_redirect_blocked(client, make):
    make.user("staff", username="chen")
    token = csrf_token(client)
    resp = client.post("/login?next=//evil.example/x", data={"username": "chen", "password": PASSWORD,
                                                             "csrf_token": token})
    assert resp.headers["Location"] == "/"


def test_password_reset_lifts_lockout(client, make, app):
    from crm.auth.services import set_password
    user = make.user("staff", username="locked")
    for _ in range(5):
        login_form(client, "locked", "wrong-password-x")
    with app.app_context():
        set_password(user, "Fresh-Reset-Pass-9")
    assert login_form(client, "locked", "Fresh-Reset-Pass-9").status_code == 302


def _wrong_logins_at_once(app, username, n, addr="10.0.0.66"):
    """n wrong passwords for one account at once from one address; how many were checked."""
    import threading
    from unittest import mock
    from crm.auth import services
    checked = []
    real = services.check_password_hash

    def counting(hash_, password):
        checked.append(1)
        return real(hash_, password)

    answers = []

    def attempt():
        with app.app_context():
            answers.append(services.authenticate(username, "wrong-password-x", addr).error)

    with mock.patch.object(services, "check_password_hash", counting):
        threads = [threading.Thread(target=attempt) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    return len(checked), answers


def test_a_burst_of_wrong_passwords_checks_at_most_five_and_the_owner_still_gets_in(app, make):
    make.user("staff", username="zhou")
    checked, answers = _wrong_logins_at_once(app, "zhou", 16)
    assert checked == 5 and len(answers) == 16 and all(answers)
    from crm.auth import services
    with app.app_context():
        # The attacker's address stays locked out of this account, even with the right password …
        assert services.authenticate("zhou", PASSWORD, "10.0.0.66").user is None
        # … while the owner, elsewhere, signs in.
        assert services.authenticate("zhou", PASSWORD, "192.168.1.20").user is not None


def test_one_address_cannot_lock_every_account(app, make):
    """An address that fails on many names is stopped itself (per-address ceiling), and a user
    failed on from many addresses is locked everywhere only past a higher ceiling."""
    from crm.auth import services
    make.user("staff", username="wu")
    cfg = app.config
    cfg.update(LOGIN_MAX_FAILURES_ADDRESS=8, LOGIN_MAX_FAILURES_USER=7)  # the rule, with small ceilings
    with app.app_context():
        for i in range(cfg["LOGIN_MAX_FAILURES_ADDRESS"]):
            services.authenticate(f"name{i}", "x", "10.9.9.9")
        assert services.authenticate("wu", PASSWORD, "10.9.9.9").user is None  # the address is stopped
        assert services.authenticate("wu", PASSWORD, "10.1.1.1").user is not None  # wu is not
        for i in range(cfg["LOGIN_MAX_FAILURES_USER"]):
            services.authenticate("wu", "wrong-password-x", f"172.16.0.{i}")
        assert services.authenticate("wu", PASSWORD, "192.168.7.7").user is None  # a spread attack: locked


def test_counters_of_unknown_names_expire(app):
    from crm.auth import services
    from crm.auth.models import LoginThrottle
    with app.app_context():
        services.authenticate("nobody-at-all", "x", "10.2.2.2")
        assert LoginThrottle.select().where(LoginThrottle.key.contains("nobody-at-all")).count() == 2
        LoginThrottle.update(last_failure_at=utcnow() - timedelta(hours=1)).execute()
        services.authenticate("someone-else", "x", "10.3.3.3")
        assert not LoginThrottle.select().where(LoginThrottle.key.contains("nobody-at-all")).exists()
