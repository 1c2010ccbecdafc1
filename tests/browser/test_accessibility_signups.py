"""Accessibility of the sign-up pages: the worker's (at 375×667, before and after sending, with
its messages, and a dead link) and the cadre's (the meeting's sign-ups, the QR page, a point's
QR page, the poster, at both tablet sizes). axe-core finds no serious or critical violation."""
import pytest

from crm.members import links
from crm.meetings.models import OutreachPoint
from tests.browser.conftest import login
from tests.browser.test_accessibility import AXE, _describe, _violations

pytestmark = pytest.mark.browser


def _context(browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(30000)
    return context, page


def _check(page, label, found):
    found += [_describe(label, (page.viewport_size["width"], page.viewport_size["height"]), v)
              for v in _violations(page)]


def test_the_sign_up_pages_have_no_serious_violation(browser, server, make, app):
    town = make.org("高米店街道总工会")
    make.user("staff", username="a11ycadre", org=town)
    cadre = make.user("staff", org=town)
    meeting = make.meeting(cadre, kind="staff", attendees=5, title="骑手入会专场")
    point = OutreachPoint.create(name="高米店北快递驿站", org_unit=town, kind="express_station", created_by=cadre)
    with app.test_request_context():
        token = links.token_for("meeting", meeting)
    found = []
    context, page = _context(browser, 375, 667)
    try:
        page.goto(f"{server}/join/{token}")
        _check(page, "/join (form)", found)
        page.get_by_role("button", name="提交登记").click()
        page.wait_for_selector(".invalid-feedback")
        _check(page, "/join (messages)", found)
        page.get_by_label("姓名").fill("无障碍")
        page.get_by_label("手机号").fill("13800001234")
        page.get_by_label("职业群体").select_option(label="快递员")
        page.get_by_label("所在平台或单位").select_option(label="顺丰")
        page.get_by_label("我已阅读并同意上述说明").check()
        page.get_by_role("button", name="提交登记").click()
        page.wait_for_selector("#outcome")
        _check(page, "/join/done", found)
        page.goto(f"{server}/join/not-a-token")
        _check(page, "/join (dead link)", found)
    finally:
        context.close()
    for width, height in ((768, 1024), (1024, 768)):
        context, page = _context(browser, width, height)
        try:
            login(page, server, "a11ycadre")
            for path in (f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/signup",
                         f"/meetings/points/{point.id}", f"/meetings/points/{point.id}/signup",
                         f"/meetings/{meeting.id}/signup/poster"):
                assert page.goto(server + path).status == 200, path
                _check(page, path, found)
        finally:
            context.close()
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)
