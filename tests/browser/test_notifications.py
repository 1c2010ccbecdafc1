"""通知 in the browser: a supervisor assigns a task while the cadre's page is open; the cadre's
bell counts it without a reload, the cadre opens the notifications and the notification, and lands
on the task. The bell on a phone (375×667) and a portrait tablet (768×1024): visible beside the
menu button, a 44-px target, named with its count; the notification pages pass axe-core."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from crm.followups.models import FollowUp
from crm.notifications.models import Notification
from tests.browser.conftest import _page, login

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
FIRM = "瀛海镇鑫源物流有限公司"


@pytest.fixture
def town(app, make):
    app.config["NOTIFICATIONS_REFRESH_SECONDS"] = 1  # the bell asks every second, not every 30
    unit = make.org("瀛海镇总工会")
    return {"sup": make.user("supervisor", username="zhangh", name="张红", org=unit),
            "staff": make.user("staff", username="lijw", name="李佳伟", org=unit),
            "firm": make.enterprise(org=unit, name=FIRM)}


def test_the_bell_counts_a_task_assigned_meanwhile_and_leads_to_it(browser, portrait, landscape, server, town):
    # ---- the cadre, on a portrait tablet: no notification yet ----
    staff = portrait
    login(staff, server, "lijw")
    bell = staff.locator("#nav-notifications")
    badge = bell.locator("[data-notifications-badge]")
    expect(bell).to_have_accessible_name("通知（没有未读）")
    expect(badge).to_be_hidden()

    # ---- the supervisor assigns a task to 李佳伟 through the page, in another browser ----
    sup = landscape
    login(sup, server, "zhangh")
    sup.goto(f"{server}/followups/new?ent={town['firm'].id}")
    sup.get_by_label("任务内容").fill("走访了解建会意向")
    sup.get_by_label("负责人").select_option(label="李佳伟（瀛海镇总工会）")
    sup.get_by_role("button", name="分派", exact=True).click()
    expect(sup.locator(".alert-success")).to_be_visible()
    fu = FollowUp.get()
    assert fu.assignee_id == town["staff"].id

    # ---- the cadre's bell counts it, the page never reloaded ----
    expect(badge).to_have_text("1")
    expect(badge).to_be_visible()
    expect(bell).to_have_accessible_name("通知（1 条未读）")
    staff.get_by_role("link", name="通知（1 条未读）").click()
    staff.wait_for_url(f"{server}/notifications/")
    expect(staff.get_by_role("heading", name="通知")).to_be_visible()
    item = staff.get_by_role("button", name=re.compile("^未读 新的跟进任务：走访了解建会意向"))
    expect(item).to_contain_text(FIRM)
    expect(item).to_contain_text("张红分派给您")
    expect(item).to_contain_text("未读")
    item.click()
    staff.wait_for_url(f"{server}/followups/{fu.id}")
    expect(staff.get_by_role("heading", name=re.compile("走访了解建会意向"))).to_be_visible()
    expect(badge).to_be_hidden()
    expect(bell).to_have_accessible_name("通知（没有未读）")
    assert Notification.get().read_at is not None
    assert staff.console_errors == [] and sup.console_errors == []


def _box(locator):
    box = locator.bounding_box()
    assert box is not None
    return box


def _apart(a, b):
    return a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or \
        a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]


@pytest.mark.parametrize("size", [(375, 667), (768, 1024)])
def test_the_bell_on_a_phone_and_a_tablet(browser, server, town, make, tmp_path, size):
    for i in range(12):  # more than 9: the badge says 9+
        make.followup(town["sup"], town["firm"], assignee=town["staff"], title=f"任务{i + 1}")
    page = _page(browser, *size)
    login(page, server, "lijw")
    bell = page.get_by_role("link", name="通知（12 条未读）")
    expect(bell).to_be_visible()
    expect(bell.locator("[data-notifications-badge]")).to_have_text("9+")
    box, toggler, brand = _box(bell), _box(page.locator(".navbar-toggler")), _box(page.locator(".navbar-brand"))
    assert box["height"] >= 44 and box["width"] >= 44, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= size[0], box  # on the screen, no sideways scroll
    assert _apart(box, toggler) and _apart(box, brand), (box, toggler, brand)
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    page.screenshot(path=str(tmp_path / f"bell-{size[0]}.png"))
    # The list and the settings at this size: no sideways scroll, every control a 44-px target.
    page.context.add_init_script(path=str(AXE))
    for path in ("/notifications/", "/account/notifications"):
        page.goto(server + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0], path
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        serious = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], (path, serious)
        page.screenshot(path=str(tmp_path / f"{path.strip('/').replace('/', '-')}-{size[0]}.png"), full_page=True)
    # Mark all read: the badge goes.
    page.goto(server + "/notifications/")
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.locator(".alert-success")).to_contain_text("已将 12 条通知标为已读")
    expect(page.get_by_role("link", name="通知（没有未读）")).to_be_visible()
    assert page.console_errors == []
    page.context.close()
