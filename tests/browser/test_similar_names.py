"""可能重复的档案 as a cadre types: leave the name field with a near-duplicate name and the similar files
are listed beside it (a file of another town by name and unit only); saving warns once more and
仍然保存 saves with everything typed."""
import pytest
from playwright.sync_api import expect

from crm.enterprises.models import Enterprise
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_a_near_duplicate_name_is_listed_when_the_field_is_left(portrait, server, make):
    page = portrait
    town, other = make.org("瀛海镇总工会"), make.org("旧宫镇总工会")
    make.user("staff", username="typist", org=town)
    mine = make.enterprise(org=town, name="圆通速递宜家站", credit_code="91350100M000100Y43")
    make.enterprise(org=other, name="圆通速递宜家站点（旧宫）")
    login(page, server, "typist")
    page.goto(server + "/enterprises/new")
    box = page.locator("#similar-names")
    expect(box).to_be_empty()

    page.locator("#name").fill("圆通速递 宜家站点")
    page.get_by_label("经营地址").click()  # the name field is left
    expect(box.get_by_role("heading", name="可能重复的档案")).to_be_visible()
    link = box.get_by_role("link", name="圆通速递宜家站")
    expect(link).to_have_attribute("href", f"/enterprises/{mine.id}")
    expect(box).to_contain_text("瀛海镇总工会，91350100M000100Y43")
    outside = box.locator("li", has_text="圆通速递宜家站点（旧宫）")
    expect(outside).to_contain_text("旧宫镇总工会")
    expect(outside).to_contain_text("不在您的管辖范围")
    expect(outside.get_by_role("link")).to_have_count(0)

    # An unrelated name clears the list.
    page.locator("#name").fill("中通快递宜家站")
    page.get_by_label("经营地址").click()
    expect(box).to_be_empty()

    # Saving the near-duplicate warns beside the name; 仍然保存 saves it with what was typed.
    page.locator("#name").fill("圆通速递宜家站点")
    page.get_by_label("经营地址").fill("大兴区瀛海镇宜家1号")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator("#duplicates")).to_contain_text("圆通速递宜家站")
    expect(page.get_by_label("经营地址")).to_have_value("大兴区瀛海镇宜家1号")
    page.get_by_role("button", name="仍然保存").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("圆通速递宜家站点")
    assert Enterprise.get(Enterprise.name == "圆通速递宜家站点").address == "大兴区瀛海镇宜家1号"
    assert page.console_errors == []


def test_editing_a_file_does_not_list_itself(landscape, server, make):
    page = landscape
    town = make.org("瀛海镇总工会")
    make.user("staff", username="editor", org=town)
    ent = make.enterprise(org=town, name="北京安泰包装制品有限公司")
    login(page, server, "editor")
    page.goto(server + f"/enterprises/{ent.id}/edit")
    page.locator("#name").fill("北京安泰包装制品公司")
    with page.expect_response(lambda r: "/enterprises/similar?" in r.url) as answer:
        page.get_by_label("经营地址").click()
    assert f"exclude={ent.id}" in answer.value.url and answer.value.json() == {"items": []}
    expect(page.locator("#similar-names")).to_be_empty()
    assert page.console_errors == []
