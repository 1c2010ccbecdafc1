"""Follow-ups on a landscape tablet (1024×768): a supervisor ticks three firms in the enterprise
list and assigns them to a staff member in one go; the staff member finds them under 我的任务 on
the home page and completes one by logging the visit from it."""
import re

import pytest
from playwright.sync_api import expect

from crm.followups.models import FollowUp
from crm.visits.models import Visit
from tests.browser.conftest import _page, login
from tests.browser.test_field_work_journey import SMALL_CONTROLS

pytestmark = pytest.mark.browser

FIRMS = ["北京瀛海兴业机械制造有限公司", "瀛海镇鑫源物流有限公司", "北京南海子餐饮管理有限公司",
         "瀛海镇宏达建材经营部"]


def _tick(page, name):
    """Tap the 44-px hit area around a row's checkbox (its corner, not the box itself)."""
    box = page.get_by_label(f"选择 {name}")
    page.locator("label.check-hit", has=box).click(position={"x": 3, "y": 3})
    expect(box).to_be_checked()


def test_supervisor_assigns_three_firms_and_staff_completes_one_by_visit(landscape, browser, server, make):
    unit = make.org("瀛海镇总工会")
    make.user("supervisor", username="zhangh", name="张红", org=unit)
    staff = make.user("staff", username="lijw", name="李佳伟", org=unit)
    firms = {name: make.enterprise(org=unit, name=name) for name in FIRMS}
    picked = FIRMS[:3]

    # ---- the supervisor: tick three firms in the list, assign them to 李佳伟 ----
    page = landscape
    login(page, server, "zhangh")
    page.goto(f"{server}/enterprises/")
    page.wait_for_load_state("load")
    count = page.locator("#bulk-assign [data-bulk-count]")
    submit = page.get_by_role("button", name="分派跟进任务")
    expect(count).to_have_text("勾选企业后可批量分派跟进任务")
    expect(submit).to_be_disabled()
    for name in picked:
        _tick(page, name)
    expect(count).to_have_text("已选 3 家企业")
    expect(page.get_by_label(f"选择 {FIRMS[3]}")).not_to_be_checked()
    check_all = page.locator("[data-check-all=ent]")
    expect(check_all).not_to_be_checked()
    assert check_all.evaluate("el => el.indeterminate")  # 3 of the 4 on the page
    submit.click()

    page.wait_for_url(re.compile(r"/followups/new\?"))
    expect(page.get_by_role("heading", name="给 3 家企业分派跟进任务")).to_be_visible()
    for name in picked:
        expect(page.locator("form.card")).to_contain_text(name)
    expect(page.locator("form.card")).not_to_contain_text(FIRMS[3])
    expect(page.get_by_label("任务内容")).to_have_value("走访")
    page.wait_for_load_state("load")
    assert page.evaluate(SMALL_CONTROLS) == []
    page.get_by_label("任务内容").fill("走访了解建会意向")
    page.get_by_label("负责人").select_option(label="李佳伟（瀛海镇总工会）")
    # 周五 is the default; tap 下周五 to move the date.
    next_friday = page.locator("[data-set-date]", has_text="下周五")
    due = next_friday.get_attribute("data-date")
    next_friday.click()
    expect(page.get_by_role("textbox", name="到期日")).to_have_value(due)
    page.locator("fieldset", has_text="优先级").get_by_text("高", exact=True).click()
    expect(page.locator("input[name=priority][value=high]")).to_be_checked()
    page.get_by_role("button", name=re.compile(r"^分派 3 条任务")).click()

    expect(page.locator(".alert-success")).to_contain_text("已分派 3 条跟进任务给李佳伟")
    assert re.search(rf"/followups/\?assignee={staff.id}$", page.url)
    assert page.console_errors == []

    rows = list(FollowUp.select().order_by(FollowUp.id))
    assert len(rows) == 3
    assert {fu.enterprise_id for fu in rows} == {firms[n].id for n in picked}
    assert all(fu.assignee_id == staff.id and fu.status == "open" and fu.priority == "high"
               and fu.title == "走访了解建会意向" and fu.due_on.isoformat() == due for fu in rows)

    # ---- the staff member: 我的任务 on the home page, complete one by logging the visit ----
    mine = _page(browser, 1024, 768)
    try:
        login(mine, server, "lijw")
        tasks = mine.locator("#my-tasks")
        expect(tasks).to_contain_text("我的任务")
        for name in picked:
            expect(tasks).to_contain_text(name)
        expect(tasks).not_to_contain_text(FIRMS[3])
        expect(tasks.locator("li[data-task]")).to_have_count(3)
        expect(mine.locator("#nav-tasks .badge").first).to_have_text("3")
        mine.wait_for_load_state("load")
        assert mine.evaluate(SMALL_CONTROLS) == []

        done = next(fu for fu in rows if fu.enterprise_id == firms[picked[1]].id)
        item = tasks.locator(f"li[data-task='{done.id}']")
        expect(item).to_contain_text(picked[1])
        item.get_by_role("link", name="记录走访").click()

        mine.wait_for_url(re.compile(rf"/enterprises/{firms[picked[1]].id}/visits/new\?followup={done.id}"))
        expect(mine.locator("#followup-banner")).to_contain_text("完成跟进任务：走访了解建会意向")
        expect(mine.get_by_label("走访日期")).not_to_have_value("")
        expect(mine.locator("input[name=visitor_ids]:checked")).to_have_count(1)
        mine.get_by_label("内容摘要").fill("上门了解建会意向，负责人同意下月组织职工座谈")
        mine.get_by_role("button", name="保存").click()

        mine.wait_for_url(re.compile(r"/visits/\d+$"))
        expect(mine.locator("#followups")).to_contain_text("这次走访完成了任务")
        expect(mine.locator("#followups")).to_contain_text("走访了解建会意向")
        visit = Visit.get()
        assert mine.url.endswith(f"/visits/{visit.id}")
        assert visit.enterprise_id == firms[picked[1]].id
        completed = FollowUp.get_by_id(done.id)
        assert completed.status == "done" and completed.completed_visit_id == visit.id
        others = FollowUp.select().where(FollowUp.id != done.id)
        assert sorted(fu.status for fu in others) == ["open", "open"]

        mine.goto(server + "/")
        expect(tasks.locator("li[data-task]")).to_have_count(2)
        expect(tasks).not_to_contain_text(picked[1])
        expect(tasks).to_contain_text(picked[0])
        expect(tasks).to_contain_text(picked[2])
        expect(mine.locator("#nav-tasks .badge").first).to_have_text("2")
        assert mine.console_errors == []
    finally:
        mine.context.close()
