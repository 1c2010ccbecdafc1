"""The printable enterprise file: on a landscape tablet (two columns on screen) a supervisor prints
a firm's file. In print it is one clean A4 document: a header with the firm, its unit, its credit
code, when and by whom it was printed; profile, contacts (phone in full), the founding track,
the field-work history, open needs and follow-ups, one under another; no buttons, forms, pagers,
breadcrumbs or navigation."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.common.timeutil import local_today
from tests.browser.conftest import login

pytestmark = pytest.mark.browser

FIRM = "北京瀛海兴业机械制造有限公司"
PHONE = "13911112222"
SCREENSHOT = "/tmp/print_file.png"
PDF = "/tmp/print_file.pdf"


def _build_file(app, make):
    from crm.followups import services as followups
    from crm.founding import services as founding
    from crm.needs.services import raise_needs
    from crm.visits.services import create_visit

    unit = make.org("瀛海镇总工会")
    sup = make.user("supervisor", username="zhangh", name="张红", org=unit)
    staff = make.user("staff", username="lijw", name="李佳伟", org=unit)
    ent = make.enterprise(org=unit, name=FIRM, credit_code="91110115MA01ABCD2M",
                          address="北京市大兴区瀛海镇瀛海工业区 8 号",
                          contact={"name": "王建国", "phone": PHONE})
    today = local_today()
    with app.app_context():
        founding.move(ent, "contacted", sup, expected_from="not_contacted",
                      occurred_on=today - timedelta(days=30), note="首次上门宣传建会政策")
        # 21 visits: the history runs to two pages of 20, so paper says which page it is.
        for i in range(21):
            create_visit(ent, {"visited_on": today - timedelta(days=21 - i), "kind": "door",
                               "purposes": ["founding"], "summary": f"第 {i + 1} 次走访：宣传建会政策，了解职工情况。",
                               "visitor_ids": [staff.id]},
                         staff, f"{i:02d}" + "v" * 22, {staff.id})
        raise_needs(org_unit=unit.id, enterprise=ent.id, visit=None, raised_on=today, user=sup,
                    categories=["legal"], detail="希望提供劳动合同范本和法律咨询")
        followups.create(sup, followups.Task("走访", ent), staff, today + timedelta(days=3), "medium", "k" * 24)
    return ent


def _section(page, heading):
    return page.locator("section.card").filter(has=page.get_by_role("heading", name=heading, level=2))


def test_enterprise_file_prints_as_one_clean_column(landscape, server, app, make):
    ent = _build_file(app, make)
    page = landscape
    login(page, server, "zhangh")
    page.goto(f"{server}/enterprises/{ent.id}")
    page.wait_for_load_state("load")

    sections = {
        "基本信息": _section(page, "基本信息"),
        "联系人": _section(page, "联系人"),
        "建会进度": _section(page, "建会进度"),
        "工作记录": _section(page, re.compile(r"^工作记录")),
        "需求意见": _section(page, re.compile(r"^待解决的需求意见")),
        "跟进任务": _section(page, re.compile(r"^跟进任务")),
    }
    # On the screen: two columns, buttons, no print header.
    header = page.locator(".print-header")
    expect(header).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    expect(page.locator("#timeline .print-page-note")).to_be_hidden()
    assert sections["跟进任务"].bounding_box()["x"] > sections["基本信息"].bounding_box()["x"] + 100

    page.emulate_media(media="print")

    # Nothing to tap on paper.
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.locator(".breadcrumb")).to_be_hidden()
    expect(page.locator(".pagination")).to_be_hidden()
    controls = page.locator("button, .btn, input:not([type=hidden]), select, textarea, form, .dropdown-menu")
    assert controls.count() > 5
    visible = [c.evaluate("el => el.outerHTML.slice(0, 120)") for c in controls.all() if c.is_visible()]
    assert visible == []

    # The print header: the firm, the unit, the credit code, when and by whom.
    expect(header).to_be_visible()
    expect(header.locator(".print-header-title")).to_have_text(f"企业档案 · {FIRM}")
    expect(header).to_contain_text("瀛海镇总工会")
    expect(header).to_contain_text("91110115MA01ABCD2M")
    expect(header).to_contain_text(f"打印时间{local_today().isoformat()}")
    expect(header).to_contain_text("打印人张红")

    for name, section in sections.items():
        expect(section, name).to_be_visible()
    expect(sections["联系人"]).to_contain_text("王建国")
    expect(sections["联系人"]).to_contain_text(PHONE)
    # Links read as plain text on paper (the phone number included).
    tel = sections["联系人"].locator(f'a[href="tel:{PHONE}"]')
    assert tel.evaluate("el => getComputedStyle(el).textDecorationLine") == "none"
    assert tel.evaluate("el => getComputedStyle(el).color === getComputedStyle(el.parentElement).color")
    expect(sections["建会进度"]).to_contain_text("已走访宣传")
    expect(sections["建会进度"]).to_contain_text("首次上门宣传建会政策")
    expect(sections["工作记录"].get_by_role("heading", level=2)).to_have_text(
        re.compile(r"^工作记录 共 2\d 条，本次打印第 1 页（共 2 页）$"))
    expect(sections["工作记录"]).to_contain_text("第 21 次走访")
    expect(sections["需求意见"]).to_contain_text("法律咨询")
    expect(sections["需求意见"]).to_contain_text("劳动合同范本")
    expect(sections["跟进任务"]).to_contain_text("走访 · 李佳伟")

    # One column: every section starts at the same x and spans the width of the page.
    full = page.locator("main").bounding_box()
    boxes = [s.bounding_box() for s in page.locator(".print-file section.card").all() if s.is_visible()]
    assert len(boxes) >= 8
    assert {round(b["x"]) for b in boxes} == {round(full["x"])}
    assert all(b["width"] >= full["width"] * 0.98 for b in boxes)
    # … and in the order of a paper file.
    order = [sections[n].bounding_box()["y"] for n in ("基本信息", "联系人", "建会进度", "工作记录", "需求意见", "跟进任务")]
    assert order == sorted(order)

    # A look at it at the width of an A4 page (for a human: /tmp/print_file.png).
    page.set_viewport_size({"width": 720, "height": 1000})
    page.screenshot(path=SCREENSHOT, full_page=True)

    # A real PDF on A4 (kept beside the screenshot, to look at).
    data = page.pdf(path=PDF, format="A4", print_background=False)
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", data))
    assert 1 <= pages <= 6
    assert page.console_errors == []
