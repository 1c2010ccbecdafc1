"""批量操作 on a portrait tablet (768×1024): a supervisor ticks two files in the enterprise list,
moves them to another unit (批量操作 → the target → 预览 → 确认), sees them moved, and undoes it
from the flash's 撤销."""
import re

import pytest
from playwright.sync_api import expect

from crm.enterprises.models import BulkAction, Enterprise, EnterpriseChange
from tests.browser.conftest import login
from tests.browser.test_field_work_journey import SMALL_CONTROLS

pytestmark = pytest.mark.browser

FIRMS = ["北京瀛海兴业机械制造有限公司", "瀛海镇鑫源物流有限公司", "北京南海子餐饮管理有限公司"]


def test_tick_two_files_move_them_preview_confirm_and_undo(portrait, server, make):
    town = make.org("瀛海镇总工会")
    station = make.org("瀛海镇第一服务站", "station", parent=town)
    make.user("supervisor", username="zhangh", name="张红", org=town)
    firms = {name: make.enterprise(org=town, name=name) for name in FIRMS}
    picked = FIRMS[:2]

    page = portrait
    login(page, server, "zhangh")
    page.goto(f"{server}/enterprises/")
    page.wait_for_load_state("load")
    bulk_button = page.get_by_role("button", name="批量操作", exact=True)
    expect(bulk_button).to_be_disabled()
    expect(page.get_by_role("link", name="全选符合筛选条件的 3 家")).to_be_visible()
    for name in picked:
        box = page.get_by_label(f"选择 {name}", exact=True)
        page.locator("label.check-hit", has=box).click(position={"x": 3, "y": 3})
        expect(box).to_be_checked()
    expect(page.locator("#bulk-assign [data-bulk-count]")).to_have_text("已选 2 家企业")
    bulk_button.click()

    page.wait_for_url(re.compile(r"/enterprises/bulk\?"))
    expect(page.get_by_role("heading", name="批量操作", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text("已选 2 家企业")
    assert page.evaluate(SMALL_CONTROLS) == []
    page.get_by_role("button", name="预览：变更所属单位").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("请选择目标单位")  # nothing chosen yet
    page.get_by_label("目标单位").select_option(label="　瀛海镇第一服务站")
    page.get_by_role("button", name="预览：变更所属单位").click()

    page.wait_for_url(re.compile(r"/enterprises/bulk/\d+$"))
    expect(page.locator("main")).to_contain_text("将变更 2 家企业：所属单位变更为 瀛海镇第一服务站")
    table = page.locator("main table")
    for name in picked:
        expect(table).to_contain_text(name)
    expect(table).not_to_contain_text(FIRMS[2])
    assert {e.org_unit_id for e in Enterprise.select()} == {town.id}  # a preview writes nothing
    assert page.evaluate(SMALL_CONTROLS) == []
    page.get_by_role("button", name="确认（变更 2 家企业）").click()

    page.wait_for_url(re.compile(r"/enterprises/$"))
    flash = page.locator(".alert-success")
    expect(flash).to_contain_text("已完成批量操作：变更所属单位，共 2 家企业。")
    assert {Enterprise.get_by_id(firms[n].id).org_unit_id for n in picked} == {station.id}
    assert Enterprise.get_by_id(firms[FIRMS[2]].id).org_unit_id == town.id
    row = page.locator("tbody tr", has_text=picked[0])
    expect(row).to_contain_text("瀛海镇第一服务站")
    action = BulkAction.get()
    assert EnterpriseChange.select().where(EnterpriseChange.source == f"bulk:move:{action.id}").count() == 2

    flash.get_by_role("link", name="撤销").click()
    page.wait_for_url(re.compile(rf"/enterprises/bulk/{action.id}$"))
    expect(page.locator("main")).to_contain_text("已完成：所属单位变更为 瀛海镇第一服务站，共变更 2 家企业。")
    page.once("dialog", lambda dialog: dialog.accept())  # 确定撤销？
    page.get_by_role("button", name="撤销这次批量操作").click()

    page.wait_for_url(re.compile(r"/enterprises/$"))
    expect(page.locator(".alert-success")).to_contain_text("已撤销批量操作：变更所属单位，2 家企业恢复原值")
    assert {e.org_unit_id for e in Enterprise.select()} == {town.id}
    assert BulkAction.get_by_id(action.id).state == "undone"
    assert EnterpriseChange.select().where(EnterpriseChange.source == f"undo:move:{action.id}").count() == 2
    assert page.console_errors == []
