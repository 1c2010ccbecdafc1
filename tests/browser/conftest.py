"""Browser fixtures: the real app served on a free local port, driven by the system Chromium.

Skips when Chromium or Playwright is missing, unless CRM_REQUIRE_BROWSER=1 (then it fails)."""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, totp_code

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
REQUIRED = os.environ.get("CRM_REQUIRE_BROWSER") == "1"
# Requests a service worker makes are routed too (losing an answer the service worker waits for).
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")


def _unavailable(reason):
    if REQUIRED:
        pytest.fail(f"browser required (CRM_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def server(app):
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


def _page(browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(30000)  # a busy 2-core machine: generous, never a timing assert
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    return page


@pytest.fixture
def portrait(browser):
    page = _page(browser, 768, 1024)
    yield page
    page.context.close()


@pytest.fixture
def landscape(browser):
    page = _page(browser, 1024, 768)
    yield page
    page.context.close()


def login(page, base, username, password=PASSWORD, second_factor=None):
    """Sign in through the form; `second_factor`: the user's TOTP secret, when they have one."""
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    # The password check is deliberately slow (scrypt, N = 2^17): allow for a busy machine.
    page.get_by_role("button", name="登录").click(no_wait_after=True)
    if second_factor:
        page.wait_for_url(base + "/login/code", timeout=60000)
        page.get_by_label("验证码").fill(totp_code(second_factor))
        page.get_by_role("button", name="验证并登录").click()
    page.wait_for_url(base + "/", timeout=60000)
