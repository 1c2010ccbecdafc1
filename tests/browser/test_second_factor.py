"""An admin's first sign-in on a tablet: the password, then setting up an authenticator from the
QR code, the recovery codes shown once, then the app; the next sign-in asks for the code."""
import pyotp
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, totp_code

pytestmark = pytest.mark.browser


def _password(page, server):
    page.goto(server + "/login")
    page.get_by_label("用户名").fill("boss")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click(no_wait_after=True)


def test_an_admin_sets_up_the_second_factor_at_the_first_sign_in(portrait, server, make):
    make.user("admin", username="boss", name="管理员")
    page = portrait
    _password(page, server)
    page.wait_for_url(server + "/login/setup", timeout=60000)
    qr = page.locator(".qr-code svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 150 and box["x"] + box["width"] <= 768  # big enough to scan, on screen
    key = page.locator("#totp-key").inner_text().replace(" ", "")
    page.get_by_label("验证码").fill("000000" if pyotp.TOTP(key).now() != "000000" else "111111")
    page.get_by_role("button", name="确认").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("验证码不正确")
    assert page.locator("#totp-key").inner_text().replace(" ", "") == key  # the same key again
    page.get_by_label("验证码").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_role("heading", name="请保存你的恢复码")).to_be_visible()
    codes = page.locator(".recovery-codes li")
    expect(codes).to_have_count(10)
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url(server + "/")
    expect(page.locator("form[data-logout]")).to_have_count(1)
    assert page.console_errors == []
    # The next sign-in: password, then the code (the next time step's: this one was used).
    page.context.clear_cookies()
    _password(page, server)
    page.wait_for_url(server + "/login/code", timeout=60000)
    code_field = page.get_by_label("验证码")
    expect(code_field).to_be_focused()
    assert code_field.get_attribute("inputmode") == "numeric"
    code_field.fill(totp_code(key, 1))
    page.get_by_role("button", name="验证并登录").click()
    page.wait_for_url(server + "/")
    expect(page.locator("form[data-logout]")).to_have_count(1)
