"""The monthly report prints as an A4 document: the report itself, no controls, state colours kept."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.common.timeutil import local_today
from crm.meetings.models import Meeting
from tests.browser.conftest import login
from tests.conftest import enrol_second_factor

pytestmark = pytest.mark.browser


def test_monthly_report_prints_clean(portrait, server, app, make, tmp_path):
    root = make.root()
    town = make.org("瀛海镇总工会", parent=root)
    secret, _ = enrol_second_factor(app, make.user("admin", org=root, username="boss", name="管理员"))
    first = local_today().replace(day=1)
    Meeting.create(kind="staff", org_unit=town, held_on=first + timedelta(days=1), summary="会")
    page = portrait
    login(page, server, "boss", second_factor=secret)
    page.goto(f"{server}/reports/monthly")
    expect(page.locator(".report h2")).to_contain_text("工作月度通报")
    page.emulate_media(media="print")
    expect(page.locator(".navbar")).to_be_hidden()
    expect(page.get_by_role("link", name="导出 Excel")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    expect(page.locator("form.card")).to_be_hidden()
    expect(page.locator(".report h2")).to_be_visible()
    cell = page.locator("tr[data-unit='瀛海镇总工会'] td").first
    expect(cell).to_be_visible()
    # The red/amber/green of a cell survives printing (it carries the state).
    assert cell.evaluate("el => getComputedStyle(el).printColorAdjust || getComputedStyle(el).webkitPrintColorAdjust") == "exact"
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert page.console_errors == []
