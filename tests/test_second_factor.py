"""Two-factor sign-in: admins cannot finish signing in without their code, a wrong code counts
against the lockout, a code and a recovery code each work once, a unit can require it, and a
lost phone is reset by an admin or from the command line."""
import re

import pyotp

from crm.audit.models import AuditEvent
from crm.auth.models import LoginThrottle, RecoveryCode, User
from crm.auth.services import CODE_LOCKED, LOGIN_FAILED
from tests.conftest import PASSWORD, csrf_token, enrol_second_factor, login_as, login_form, totp_code


def _signed_in(client) -> bool:
    resp = client.get("/")
    return resp.status_code == 200 and "退出登录" in resp.get_data(as_text=True)


def _send_code(client, code, path="/login/code", token_from=None):
    return client.post(path, data={"code": code, "csrf_token": csrf_token(client, token_from or path)})


def _key(page):
    """The authenticator key a setup page shows (in groups of four)."""
    return re.search(r'id="totp-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")


def _events(kind):
    return list(AuditEvent.select().where(AuditEvent.kind == kind).order_by(AuditEvent.id))


def test_an_enrolled_admin_cannot_finish_signing_in_without_the_code(app, make):
    admin = make.user("admin", username="boss")
    secret, _ = enrol_second_factor(app, admin)
    client = app.test_client()
    token = csrf_token(client)
    resp = client.post("/login?next=/admin/users", data={"username": "boss", "password": PASSWORD,
                                                          "csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/code")
    # The password alone opens nothing.
    assert not _signed_in(client)
    assert client.get("/admin/users").status_code == 302
    page = client.get("/login/code").get_data(as_text=True)
    assert "两步验证" in page and 'autocomplete="one-time-code"' in page
    wrong = _send_code(client, "000000" if totp_code(secret) != "000000" else "111111")
    assert wrong.status_code == 401 and "验证码不正确" in wrong.get_data(as_text=True)
    assert not _signed_in(client)
    # Full-width digits, letters, too long: a message, no error page (two more failures).
    for odd in ["１２３４５６" if totp_code(secret) != "123456" else "６５４３２１", "' OR 1=1 --", "9" * 40]:
        assert _send_code(client, odd).status_code == 401
    right = _send_code(client, totp_code(secret))
    assert right.status_code == 302 and right.headers["Location"].endswith("/admin/users")
    assert _signed_in(client)
    ok = _events("login_ok")[-1]
    assert ok.user_id == admin.id and ok.address == "127.0.0.1" and "验证码" in ok.detail


def test_a_pending_sign_in_expires_and_ends_with_the_users_sessions(app, make):
    admin = make.user("admin", username="boss")
    secret, _ = enrol_second_factor(app, admin)
    client = app.test_client()
    for path in ("/login/code", "/login/recovery", "/login/setup"):  # no password typed
        assert client.get(path).headers["Location"].endswith("/login")
    login_form(client, "boss")
    with client.session_transaction() as sess:
        sess["pending_sign_in"]["at"] -= 601
        sess.modified = True
    assert client.get("/login/code").headers["Location"].endswith("/login")
    resp = _send_code(client, totp_code(secret), token_from="/login")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login") and not _signed_in(client)
    # A password change (or an admin's reset) between the password and the code ends it too.
    login_form(client, "boss")
    User.update(session_version=User.session_version + 1).where(User.id == admin.id).execute()
    assert _send_code(client, totp_code(secret), token_from="/login").headers["Location"].endswith("/login")
    assert not _signed_in(client)


def test_an_admin_without_a_second_factor_sets_one_up_before_signing_in(app, make):
    make.user("admin", username="boss")
    client = app.test_client()
    resp = login_form(client, "boss")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/setup")
    assert not _signed_in(client)
    page = client.get("/login/setup").get_data(as_text=True)
    assert "<svg" in page and "扫描" in page
    key = _key(page)
    # The page opened again shows the same key (a reload does not break a half-done scan).
    assert key in client.get("/login/setup").get_data(as_text=True).replace(" ", "")
    wrong = client.post("/login/setup", data={"code": "12345", "csrf_token": csrf_token(client, "/login/setup")})
    assert wrong.status_code == 200 and "验证码不正确" in wrong.get_data(as_text=True)
    assert not _signed_in(client)
    done = client.post("/login/setup", data={"code": pyotp.TOTP(key).now(),
                                             "csrf_token": csrf_token(client, "/login/setup")})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "只显示这一次" in html
    codes = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4})</li>", html)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert done.headers["Cache-Control"].startswith("no-store")
    assert _signed_in(client)
    boss = User.get(User.username == "boss")
    assert boss.totp_secret == key and boss.totp_pending is None
    # Only hashes are kept.
    stored = {r.code_hash for r in RecoveryCode.select().where(RecoveryCode.user == boss.id)}
    assert len(stored) == 10 and not stored & {c.replace("-", "") for c in codes}
    kinds = [(e.kind, e.user_id, e.address) for e in AuditEvent.select().where(AuditEvent.kind == "second_factor")]
    assert ("second_factor", boss.id, "127.0.0.1") in kinds
    # The next sign-in asks for the code.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert login_form(client, "boss").headers["Location"].endswith("/login/code")


def test_a_wrong_code_counts_against_the_lockout(app, make):
    admin = make.user("admin", username="boss")
    secret, _ = enrol_second_factor(app, admin)
    wrong = "000000" if totp_code(secret) != "000000" and totp_code(secret, 1) != "000000" else "111111"
    client = app.test_client()
    # A known password does not buy more guesses at the code: it counts until the code is right.
    # The right password, two wrong codes, the right password again, one wrong code: five, locked.
    assert login_form(client, "boss").headers["Location"].endswith("/login/code")
    assert _send_code(client, wrong).status_code == 401
    assert _send_code(client, wrong).status_code == 401
    assert login_form(client, "boss").headers["Location"].endswith("/login/code")
    last = _send_code(client, wrong)
    assert last.status_code == 302 and last.headers["Location"].endswith("/login")
    assert CODE_LOCKED in client.get("/login").get_data(as_text=True)
    # The account is locked now: the right password (and then the right code) does not get in.
    refused = login_form(client, "boss")
    assert refused.status_code == 401 and LOGIN_FAILED in refused.get_data(as_text=True)
    assert not _signed_in(client)
    assert any("锁定" in e.detail for e in _events("lockout"))
    assert sum("两步验证码错误" in e.detail for e in _events("login_failed")) == 3
    # The owner, from another address, once the lock is over.
    LoginThrottle.update(locked_until=None, failures=0).execute()
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    login_form(other, "boss")
    assert _send_code(other, totp_code(secret)).status_code == 302 and _signed_in(other)
    assert not LoginThrottle.select().where(LoginThrottle.key.in_(["u:boss", "ua:boss|10.0.0.9"])).exists()


def test_a_code_and_a_recovery_code_each_work_once(app, make):
    admin = make.user("admin", username="boss")
    secret, codes = enrol_second_factor(app, admin)
    first = app.test_client()
    login_form(first, "boss")
    code = totp_code(secret)
    assert _send_code(first, code).status_code == 302
    # The same code again (seen over a shoulder): refused.
    second = app.test_client()
    login_form(second, "boss")
    replay = _send_code(second, code)
    assert replay.status_code == 401 and "刚刚用过" in replay.get_data(as_text=True) and not _signed_in(second)
    # A recovery code signs in once, typed with or without its dash, in capitals.
    third = app.test_client()
    login_form(third, "boss")
    assert "恢复码" in third.get("/login/recovery").get_data(as_text=True)
    used = _send_code(third, codes[0].upper().replace("-", " "), "/login/recovery")
    assert used.status_code == 302 and "还剩 9 个" in third.get("/").get_data(as_text=True)
    fourth = app.test_client()
    login_form(fourth, "boss")
    assert _send_code(fourth, codes[0], "/login/recovery").status_code == 401 and not _signed_in(fourth)
    assert _send_code(fourth, codes[1], "/login/recovery").status_code == 302 and _signed_in(fourth)
    assert RecoveryCode.select().where(RecoveryCode.user == admin.id, RecoveryCode.used_at.is_null()).count() == 8
    assert "恢复码（剩余 8 个）" in _events("login_ok")[-1].detail


def test_a_unit_can_require_it_and_anyone_may_choose_it(app, make):
    town = make.org("瀛海镇总工会")
    staff = make.user("staff", org=town, username="lijw")
    admin = make.user("admin", username="boss")
    assert login_form(app.test_client(), "lijw").headers["Location"] == "/"
    boss = login_as(app.test_client(), admin)
    page = boss.get("/admin/org-units").get_data(as_text=True)
    assert "要求两步验证" in page
    boss.post(f"/admin/org-units/{town.id}/second-factor",
              data={"on": "1", "csrf_token": csrf_token(boss, "/admin/org-units")})
    assert "1 个账号尚未设置" in boss.get("/admin/org-units").get_data(as_text=True)
    assert "必须启用，尚未设置" in boss.get(f"/admin/users/{staff.id}/edit").get_data(as_text=True)
    assert login_form(app.test_client(), "lijw").headers["Location"].endswith("/login/setup")
    assert _events("second_factor")[-1].user_id == admin.id
    boss.post(f"/admin/org-units/{town.id}/second-factor",
              data={"on": "0", "csrf_token": csrf_token(boss, "/admin/org-units")})
    assert login_form(app.test_client(), "lijw").headers["Location"] == "/"
    # Optional: the user turns it on from the account page, and then off again with a code.
    me = login_as(app.test_client(), staff)
    assert "未启用" in me.get("/account/two-factor").get_data(as_text=True)
    page = me.get("/account/two-factor/setup").get_data(as_text=True)
    key = _key(page)
    done = me.post("/account/two-factor/setup", data={"code": pyotp.TOTP(key).now(),
                                                       "csrf_token": csrf_token(me, "/account/two-factor/setup")})
    assert "只显示这一次" in done.get_data(as_text=True)
    assert login_form(app.test_client(), "lijw").headers["Location"].endswith("/login/code")
    path = "/account/two-factor"
    refused = me.post(path + "/off", data={"code": "12345678", "csrf_token": csrf_token(me, path)})
    assert refused.status_code == 200 and "验证码不正确" in refused.get_data(as_text=True)
    User.update(totp_last_step=None).where(User.id == staff.id).execute()
    me.post(path + "/off", data={"code": totp_code(key, 1), "csrf_token": csrf_token(me, path)})
    assert "已关闭两步验证" in me.get(path).get_data(as_text=True)
    assert login_form(app.test_client(), "lijw").headers["Location"] == "/"


def test_an_admin_cannot_turn_it_off_and_can_renew_the_recovery_codes(app, make):
    admin = make.user("admin", username="boss")
    secret, codes = enrol_second_factor(app, admin)
    me = login_as(app.test_client(), admin)
    path = "/account/two-factor"
    page = me.get(path).get_data(as_text=True)
    assert "已启用" in page and "关闭两步验证" not in page and "剩余恢复码 10 个" in page
    me.post(path + "/off", data={"code": totp_code(secret), "csrf_token": csrf_token(me, path)})
    assert User.get_by_id(admin.id).totp_secret == secret
    renewed = me.post(path + "/recovery-codes", data={"code": codes[3], "csrf_token": csrf_token(me, path)})
    fresh = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4})</li>", renewed.get_data(as_text=True))
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    client = app.test_client()
    login_form(client, "boss")
    assert _send_code(client, codes[4], "/login/recovery").status_code == 401
    assert _send_code(client, fresh[0], "/login/recovery").status_code == 302


def test_a_new_phone_replaces_the_authenticator_with_a_code_from_the_old_one(app, make):
    admin = make.user("admin", username="boss")
    old, codes = enrol_second_factor(app, admin)
    me = login_as(app.test_client(), admin)
    path = "/account/two-factor/setup"
    page = me.get(path).get_data(as_text=True)
    new = _key(page)
    assert new != old and "原验证器的验证码" in page
    refused = me.post(path, data={"current": "000001", "code": pyotp.TOTP(new).now(), "csrf_token": csrf_token(me, path)})
    assert refused.status_code == 200 and User.get_by_id(admin.id).totp_secret == old
    done = me.post(path, data={"current": codes[0], "code": pyotp.TOTP(new).now(), "csrf_token": csrf_token(me, path)})
    assert "只显示这一次" in done.get_data(as_text=True)
    assert User.get_by_id(admin.id).totp_secret == new
    assert "更换了身份验证器" in _events("second_factor")[-1].detail


def test_a_lost_phone_is_reset_by_an_admin_or_from_the_command_line(app, make):
    admin = make.user("admin", username="boss")
    other = make.user("admin", username="deputy")
    enrol_second_factor(app, other)
    session = login_as(app.test_client(), other)
    boss = login_as(app.test_client(), admin)
    edit = f"/admin/users/{other.id}/edit"
    assert "重置两步验证" in boss.get(edit).get_data(as_text=True)
    boss.post(f"/admin/users/{other.id}/reset-2fa", data={"csrf_token": csrf_token(boss, edit)})
    assert User.get_by_id(other.id).totp_secret is None
    assert not RecoveryCode.select().where(RecoveryCode.user == other.id).exists()
    assert session.get("/").status_code == 302  # their sessions ended
    assert login_form(app.test_client(), "deputy").headers["Location"].endswith("/login/setup")
    assert "重置了 deputy 的两步验证" in _events("second_factor")[-1].detail
    # From the command line.
    enrol_second_factor(app, User.get_by_id(other.id))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "reset-2fa", "Deputy"])
    assert result.exit_code == 0 and "已重置 deputy 的两步验证" in result.output, result.output
    assert User.get_by_id(other.id).totp_enrolled_at is None
    assert _events("second_factor")[-1].username == "命令行"
    assert "无需重置" in runner.invoke(args=["user", "reset-2fa", "deputy"]).output
    missing = runner.invoke(args=["user", "reset-2fa", "nobody"])
    assert missing.exit_code != 0 and "找不到用户" in missing.output
