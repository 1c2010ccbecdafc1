"""后台任务 in the browser: a big enterprise export started from the list becomes a job; its page
shows the progress bar, follows the job by itself (crm/static/jobs.js) while a worker runs it and
then offers 下载; on a phone (375×667) and a portrait tablet (768×1024) nothing runs off the side."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import _page, login

pytestmark = pytest.mark.browser


@pytest.fixture
def town(app, make):
    app.config["EXPORT_INLINE_ROWS"] = 2
    unit = make.org("瀛海镇总工会")
    staff = make.user("staff", username="lijw", name="李佳伟", org=unit)
    for i in range(3):
        make.enterprise(org=unit, name=f"瀛海镇物流{i}有限公司")
    return {"staff": staff}


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_big_export_is_followed_on_its_job_page_until_it_can_be_downloaded(app, browser, portrait, server, town):
    page = portrait
    login(page, server, "lijw")
    page.goto(server + "/enterprises/")
    page.get_by_role("link", name="导出 Excel").click()
    expect(page.get_by_text("筛选出的档案超过 2 个")).to_be_visible()
    page.get_by_role("button", name="在后台生成").click()
    page.wait_for_url("**/jobs/*")
    bar = page.locator("[data-job-bar]")
    expect(bar).to_have_text("0%")
    expect(page.locator("[data-job-state]")).to_have_text("排队中")
    expect(page.get_by_role("link", name="下载", exact=False)).to_be_hidden()
    _fits(page)

    app.extensions["jobs"].drain()  # a worker runs it meanwhile; the page notices by itself

    download = page.get_by_role("link", name="下载 企业台账", exact=False)
    expect(download).to_be_visible()
    expect(page.locator("[data-job-state]")).to_have_text("已完成")
    expect(bar).to_have_text("100%")
    assert bar.evaluate("el => el.style.width") == "100%"
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename.startswith("企业台账-")
    assert page.console_errors == []

    phone = _page(browser, 375, 667)
    try:
        login(phone, server, "lijw")
        phone.goto(server + "/jobs/")
        expect(phone.get_by_role("link", name="企业台账导出")).to_be_visible()
        _fits(phone)
        phone.get_by_role("link", name="企业台账导出").click()
        expect(phone.get_by_role("link", name="下载 企业台账", exact=False)).to_be_visible()
        _fits(phone)
        assert phone.console_errors == []
    finally:
        phone.context.close()
