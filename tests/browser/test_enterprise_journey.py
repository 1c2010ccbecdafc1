"""A cadre on a tablet: log in, create a file, find it, edit it; two pages saving in turn conflict."""

import pytest
from playwright.sync_api import expect

from crm.enterprises.models import Enterprise
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_create_find_edit_on_tablet(portrait, server, make):
    page = portrait
    make.user("staff", username="tablet", org=make.org("瀛海镇总工会"))
    login(page, server, "tablet")
    page.get_by_role("link", name="＋ 新建档案").first.click()
    page.locator("#name").fill("北京京东物流瀛海分拣中心有限公司")
    page.locator("#credit_code").fill("91350100M000100Y4Z")  # wrong check character
    page.get_by_label("所在楼宇/商圈").fill("瀛嘉汇")
    page.get_by_label("职工人数", exact=True).fill("120")
    page.get_by_label("联系人姓名").fill("王站长")
    page.get_by_label("联系电话").fill("13812345678")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#credit_code + .invalid-feedback")).to_contain_text("校验位错误")
    expect(page.get_by_label("所在楼宇/商圈")).to_have_value("瀛嘉汇")  # nothing else lost
    page.locator("#credit_code").fill("91350100M000100Y43")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("北京京东物流瀛海分拣中心有限公司")
    expect(page.locator("#contacts")).to_contain_text("13812345678")

    # Find it by a two-character search.
    # Portrait: the menu is folded away; the breadcrumb leads back to the list.
    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="企业档案", exact=True).click()
    page.get_by_label("搜索企业档案").fill("京东")
    page.get_by_role("button", name="搜索").click()
    expect(page.locator("table")).to_contain_text("北京京东物流瀛海分拣中心有限公司")
    expect(page.locator("table")).to_contain_text("138****5678")  # masked in the list
    assert "q=" in page.url  # the filter stays in the URL
    page.get_by_role("link", name="北京京东物流瀛海分拣中心有限公司", exact=True).click()

    # Edit it.
    page.get_by_role("link", name="编辑档案").click()
    page.get_by_label("经营地址").fill("大兴区瀛海镇京福路1号")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("已保存")
    expect(page.locator("#history")).to_contain_text("大兴区瀛海镇京福路1号")
    assert Enterprise.get(Enterprise.name == "北京京东物流瀛海分拣中心有限公司").version == 2

    # Touch targets: every visible button and form control is at least 44 px tall.
    page.get_by_role("link", name="编辑档案").click()
    page.wait_for_url("**/edit")
    page.wait_for_load_state("load")  # stylesheets applied before measuring
    small = page.evaluate("""() => [...document.querySelectorAll('button, .btn, input:not([type=hidden]), select, textarea')]
        .filter(e => e.offsetParent !== null && e.type !== 'checkbox')
        .map(e => [e.name || e.textContent.trim(), e.getBoundingClientRect().height])
        .filter(([_, h]) => h < 44)""")
    assert small == []
    assert page.console_errors == []


def test_two_pages_saving_in_turn_conflict(browser, server, make):
    from tests.browser.conftest import _page
    unit = make.org("高米店街道总工会", "street")
    make.user("staff", username="kou", org=unit)
    make.user("staff", username="li", org=unit)
    ent = make.enterprise(org=unit, name="高米店冲突测试有限公司", address="原地址")
    first, second = _page(browser, 1024, 768), _page(browser, 768, 1024)
    try:
        login(first, server, "kou")
        login(second, server, "li")
        for page in (first, second):
            page.goto(f"{server}/enterprises/{ent.id}/edit")
        first.get_by_label("经营地址").fill("甲写的地址")
        first.get_by_role("button", name="保存").click()
        expect(first.locator(".alert-success")).to_contain_text("已保存")

        second.get_by_label("经营地址").fill("乙写的地址")
        second.get_by_role("button", name="保存").click()
        conflict = second.locator("#conflict")
        expect(conflict).to_contain_text("保存冲突")
        expect(conflict).to_contain_text("甲写的地址")
        expect(conflict).to_contain_text("乙写的地址")
        expect(second.get_by_label("经营地址")).to_have_value("乙写的地址")  # the user's work kept
        assert Enterprise.get_by_id(ent.id).address == "甲写的地址"  # nothing overwritten
    finally:
        first.context.close()
        second.context.close()
