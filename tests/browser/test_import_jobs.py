"""导入 with its jobs in the browser: upload a ledger, the page follows the reading of its header
until the columns show, confirm them, the page follows the analysis by itself (crm/static/jobs.js polling the batch's .json) until the preview appears, then
确认导入 and the page follows the import until its record shows; a portrait tablet, nothing runs
off the side, no console errors."""
import pytest
from playwright.sync_api import expect

from crm.enterprises.models import Enterprise
from tests.browser.conftest import login
from tests.test_imports import code

pytestmark = pytest.mark.browser


@pytest.fixture
def town(app, make):
    unit = make.org("瀛海镇总工会")
    make.user("supervisor", username="zhuguan", name="主管甲", org=unit)
    return unit


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_an_import_is_followed_through_its_analysis_and_its_commit(app, portrait, server, town, tmp_path):
    page = portrait
    path = tmp_path / "台账.csv"
    lines = ["企业名称,统一社会信用代码"] + [f"瀛海镇导入企业{i:03d},{code(3000 + i)}" for i in range(30)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    login(page, server, "zhuguan")
    page.goto(server + "/imports/enterprises/new")
    page.set_input_files("input[type=file]", str(path))
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/mapping")
    expect(page.get_by_text("正在读取文件")).to_be_visible()
    app.extensions["jobs"].drain()  # its header read; the page notices by itself
    expect(page.get_by_text("第二步：核对每一列")).to_be_visible()
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/imports/*")
    expect(page.get_by_text("正在分析文件")).to_be_visible()
    expect(page.locator("[data-job-state]")).to_have_text("排队中")
    _fits(page)

    app.extensions["jobs"].drain()  # a worker runs it meanwhile; the page notices by itself
    expect(page.get_by_text("新建 30")).to_be_visible()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_text("正在导入")).to_be_visible()

    app.extensions["jobs"].drain()
    expect(page.get_by_role("link", name="查看企业档案")).to_be_visible()
    expect(page.get_by_text("正在导入")).to_be_hidden()
    _fits(page)
    with app.app_context():
        assert Enterprise.select().where(Enterprise.name.startswith("瀛海镇导入企业")).count() == 30
    assert page.console_errors == []
