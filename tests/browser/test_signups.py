"""扫码登记 as it happens at a 职工沟通会: the cadre holds up the meeting's QR code; a rider opens its
link on a phone (375×667), signs up and sees what happens next; the sign-up appears on the
cadre's meeting page (768×1024) without a reload, and the cadre confirms it."""
import re

import pytest
from playwright.sync_api import expect

from crm.members.models import Member, SignUp
from tests.browser.conftest import _page, login

pytestmark = pytest.mark.browser


def test_a_rider_signs_up_by_phone_and_the_cadre_confirms(browser, portrait, server, make):
    town = make.org("高米店街道总工会")
    cadre = make.user("staff", username="kouyj2", org=town)
    meeting = make.meeting(cadre, kind="staff", attendees=12, title="快递小哥职工沟通会")
    page = portrait
    login(page, server, "kouyj2")
    page.goto(f"{server}/meetings/{meeting.id}")
    page.get_by_role("link", name="显示登记二维码").click()
    expect(page.locator("#signup-qr svg")).to_be_visible()
    link = page.locator("#signup-url").inner_text()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/join/[\w.-]+", link)
    expect(page.locator("[data-signups-count]")).to_have_text("已登记 0 人")
    page.screenshot(path="/tmp/signup-code.png")  # looked at while building; not compared

    phone = _page(browser, 375, 667)
    try:
        phone.goto(link)
        expect(phone.get_by_role("heading", name="加入工会 · 扫码登记")).to_be_visible()
        assert phone.evaluate("document.scrollingElement.scrollWidth") <= 375
        expect(phone.get_by_label("网址（请留空）")).not_to_be_in_viewport()
        phone.get_by_label("姓名").fill("李骑手")
        phone.get_by_label("手机号").fill("139 1234 5678")
        phone.get_by_label("职业群体").select_option(label="外卖送餐员")
        phone.get_by_label("所在平台或单位").select_option(label="美团")
        phone.get_by_label("站点（选填）").fill("美团高米店站")
        phone.get_by_role("button", name="提交登记").click()
        # Consent not ticked: the message beside it, and everything typed is still there.
        expect(phone.get_by_text("请阅读并勾选同意后再提交")).to_be_visible()
        expect(phone.get_by_label("姓名")).to_have_value("李骑手")
        expect(phone.get_by_label("站点（选填）")).to_have_value("美团高米店站")
        phone.get_by_label("我已阅读并同意上述说明").check()
        phone.get_by_role("button", name="提交登记").click()
        expect(phone.locator("#outcome")).to_have_text("登记成功，欢迎加入工会！")
        expect(phone.get_by_text("现场工作人员核对后，您的入会登记即生效")).to_be_visible()
        phone.wait_for_load_state("load")  # measured once the stylesheets apply
        assert phone.evaluate("document.scrollingElement.scrollWidth") <= 375
        phone.screenshot(path="/tmp/signup-phone.png")
    finally:
        phone.context.close()

    # The QR page counts it; the meeting page lists it without a reload.
    expect(page.locator("[data-signups-count]")).to_have_text("已登记 1 人")
    page.goto(f"{server}/meetings/{meeting.id}")
    row = page.locator("#signups tr[data-signup]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("李骑手")
    expect(row).to_contain_text("139****5678")
    expect(row).to_contain_text("待确认")
    page.get_by_role("button", name="全部确认").click()
    expect(page.locator("#attendees")).to_contain_text("13")
    expect(page.locator("#attendees")).to_contain_text("扫码登记 1，纸质登记 12")
    expect(page.locator("#signups tr[data-signup]")).to_contain_text("已确认")
    assert Member.get().state == "active" and SignUp.get().state == "confirmed"


def test_a_sign_up_appears_on_the_open_meeting_page(browser, portrait, server, make, app):
    town = make.org("瀛海镇总工会")
    make.user("staff", username="yhstaff", org=town)
    cadre = make.user("staff", org=town)
    meeting = make.meeting(cadre, kind="staff", attendees=0)
    page = portrait
    login(page, server, "yhstaff")
    page.goto(f"{server}/meetings/{meeting.id}")
    expect(page.locator("#signups")).to_contain_text("还没有扫码登记")
    link = f"{server}/join/" + _token(app, meeting)
    phone = _page(browser, 375, 667)
    try:
        phone.goto(link)
        phone.get_by_label("姓名").fill("王快递")
        phone.get_by_label("手机号").fill("13700001111")
        phone.get_by_label("职业群体").select_option(label="快递员")
        phone.get_by_label("所在平台或单位").select_option(label="顺丰")
        phone.get_by_label("我已阅读并同意上述说明").check()
        phone.get_by_role("button", name="提交登记").click()
        expect(phone.locator("#outcome")).to_have_text("登记成功，欢迎加入工会！")
    finally:
        phone.context.close()
    expect(page.locator("#signups tr[data-signup]")).to_contain_text("王快递", timeout=30000)
    expect(page.locator("#signups")).to_contain_text("待确认 1")


def _token(app, meeting):
    from crm.members import links
    with app.test_request_context():
        return links.token_for("meeting", meeting)


def _fill(phone, name="赵骑手", number="13655556666"):
    phone.get_by_label("姓名").fill(name)
    phone.get_by_label("手机号").fill(number)
    phone.get_by_label("职业群体").select_option(label="外卖送餐员")
    phone.get_by_label("所在平台或单位").select_option(label="饿了么")
    phone.get_by_label("我已阅读并同意上述说明").check()


def test_no_network_and_a_lost_answer_lose_nothing_and_double_nothing(browser, server, make, app):
    town = make.org("西红门镇总工会")
    cadre = make.user("staff", org=town)
    meeting = make.meeting(cadre, kind="staff", attendees=0)
    link = f"{server}/join/" + _token(app, meeting)
    phone = _page(browser, 375, 667)
    try:
        phone.goto(link)
        _fill(phone)
        # The network drops in the mall's basement: the tap says so, the page and its answers stay.
        phone.context.set_offline(True)
        phone.get_by_role("button", name="提交登记").click()
        expect(phone.locator("#offline-notice")).to_be_visible()
        expect(phone.get_by_label("姓名")).to_have_value("赵骑手")
        assert SignUp.select().count() == 0
        phone.context.set_offline(False)
        # The answer is lost on the way back: the sign-up is saved once, the page shows an error.
        lost = []

        def lose_answer(route):
            if route.request.method == "POST" and not lost:
                route.fetch()
                lost.append(1)
                route.abort()
            else:
                route.continue_()
        phone.route("**/join/*", lose_answer)
        phone.get_by_role("button", name="提交登记").click()
        phone.wait_for_timeout(500)
        assert lost and SignUp.select().count() == 1
        # The worker opens the link again: what was typed is still there; sending it again
        # records nothing twice.
        phone.goto(link)
        expect(phone.get_by_label("姓名")).to_have_value("赵骑手")
        expect(phone.get_by_label("手机号")).to_have_value("13655556666")
        phone.get_by_role("button", name="提交登记").click()
        expect(phone.locator("#outcome")).to_have_text("本次登记已记录，不需要重复提交")
        assert SignUp.select().count() == 1 and Member.select().count() == 1
        # Sent: the tab forgets the answers (once the answer page has run its script).
        phone.wait_for_load_state("load")
        phone.goto(link)
        expect(phone.get_by_label("姓名")).to_have_value("")
    finally:
        phone.context.close()
