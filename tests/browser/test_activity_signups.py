"""A service activity taking sign-ups, as it happens: the cadre publishes it with one place; a rider
signs up by its link on a phone (375×667) and gets the place; a second one lands on the waiting
list; at the door the cadre (768×1024) checks the first in with one tap and the counts rise
without the page reloading."""
import re

import pytest
from playwright.sync_api import expect

from crm.activities.models import ServiceActivity
from crm.members.models import SignUp
from tests.browser.conftest import _page, login

pytestmark = pytest.mark.browser


def sign_up(browser, link, name, phone):
    """A worker's phone opens the link and signs up; returns what it says."""
    page = _page(browser, 375, 667)
    try:
        page.goto(link)
        expect(page.get_by_role("heading", name="活动报名")).to_be_visible()
        page.get_by_label("姓名").fill(name)
        page.get_by_label("手机号").fill(phone)
        page.get_by_label("职业群体").select_option(label="外卖送餐员")
        page.get_by_label("所在平台或单位").select_option(label="美团")
        page.get_by_label("我已阅读并同意上述说明").check()
        page.get_by_role("button", name="提交报名").click()
        outcome = page.locator("#outcome")
        expect(outcome).to_be_visible()
        page.wait_for_load_state("load")  # measured once the stylesheets apply
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
        assert page.console_errors == []
        return outcome.inner_text(), page.get_by_text("取消报名").first.is_visible()
    finally:
        page.context.close()


def test_publish_sign_up_wait_and_check_in_with_one_tap(browser, portrait, server, make):
    town = make.org("高米店街道总工会")
    make.user("staff", username="gmdcadre", org=town)
    page = portrait
    login(page, server, "gmdcadre")

    page.goto(f"{server}/activities/new")
    page.get_by_label("活动名称").fill("骑手义务理发")
    page.get_by_label("开放报名").check()
    page.get_by_label("名额").fill("1")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name="服务活动：骑手义务理发")).to_be_visible()
    activity = ServiceActivity.get()
    assert activity.signup_open and activity.capacity == 1
    expect(page.locator("#signup-qr svg")).to_be_visible()
    link = page.locator("#signup-url").inner_text()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/join/[\w.-]+", link)

    assert sign_up(browser, link, "张骑手", "13900001111") == ("报名成功", True)
    outcome, _ = sign_up(browser, link, "李骑手", "13900002222")
    assert "候补" in outcome and "第 1 位" in outcome

    page.reload()
    expect(page.locator("#registered-count")).to_have_text("1")
    expect(page.locator("#waitlisted-count")).to_have_text("1")
    expect(page.locator("#participants-total")).to_have_text("0")
    rows = page.locator("#signup-list [data-signup]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("139****1111")
    expect(rows.nth(0)).to_contain_text("新会员")
    expect(rows.nth(1)).to_contain_text("候补 第 1 位")
    tap = page.get_by_role("button", name="签到：张骑手 139****1111")
    box = tap.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    page.screenshot(path="/tmp/activity-signups-before.png", full_page=True)  # looked at while building

    page.evaluate("window.__notReloaded = true")
    tap.click()
    expect(page.locator("#participants-total")).to_have_text("1（签到 1，纸质登记 0）")
    expect(page.locator("#new-members-total")).to_have_text("1（签到 1，纸质登记 0）")
    expect(page.locator("#checked-in-count")).to_have_text("1")
    expect(rows.nth(0)).to_contain_text("已签到")
    expect(page.locator("#signup-status")).to_contain_text("张骑手（139****1111）签到成功")
    assert page.evaluate("window.__notReloaded === true")  # swapped in place, not reloaded
    expect(page.get_by_role("button", name="撤销签到：张骑手 139****1111")).to_be_focused()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 768
    page.screenshot(path="/tmp/activity-signups-after.png", full_page=True)
    first = SignUp.get(SignUp.state == "registered")
    assert first.counted and ServiceActivity.get_by_id(activity.id).participants == 1
    assert page.console_errors == []
