"""Lists and ledgers print as their table and a heading saying which filters they show: no
navbar, no checkboxes, no buttons, no filter form or any other form control, no pagination."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.conftest import enrol_second_factor

pytestmark = pytest.mark.browser

# Whatever a reader cannot use on paper: none of it may be visible in print.
CONTROLS = ("input:not([type=hidden]), select, textarea, button, .btn, .pagination, .navbar, "
            "form[method=get], .nav-pills")
VISIBLE = """sel => Array.from(document.querySelectorAll(sel))
    .filter(el => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}))
    .map(el => el.outerHTML.slice(0, 120))"""


def _prints_clean(page, url, heading, filters, tmp_path, boxes=False):
    page.emulate_media(media="screen")
    page.goto(url)
    on_screen = page.evaluate(VISIBLE, CONTROLS)
    assert on_screen, f"{url}: the screen has its controls (the check below would be empty anyway)"
    if boxes:  # a list one selects rows of: its checkboxes are there on the screen
        assert page.evaluate(VISIBLE, "input[type=checkbox]"), url
    page.emulate_media(media="print")
    assert page.evaluate(VISIBLE, CONTROLS) == [], url
    expect(page.locator("main h1")).to_contain_text(heading)
    line = page.locator("p.print-filters")
    if filters:
        expect(line).to_be_visible()
        for text in filters:
            expect(line).to_contain_text(text)
    assert page.locator("main table:visible, main .card:visible").count() > 0, url  # the list itself
    pdf = tmp_path / "list.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes().startswith(b"%PDF")
    page.emulate_media(media="screen")
    expect(line).to_be_hidden()  # the line is for paper only


def test_lists_and_ledgers_print_without_controls(portrait, server, app, make, tmp_path):
    root = make.root()
    town = make.org("瀛海镇总工会", parent=root)
    sup = make.user("supervisor", org=town, username="sup", name="主管")
    for i in range(3):
        ent = make.enterprise(org=town, name=f"瀛海企业{i}有限公司", contact={"name": f"联系人{i}", "phone": "13800000000"})
    make.visit(ent, sup)
    make.followup(sup, ent)  # (the two never contacted are 待跟进建议, with their checkboxes)
    from crm.meetings.models import OutreachPoint
    OutreachPoint.create(name="瀛海商场", org_unit=town, kind="supermarket", created_by=sup)
    page = portrait
    login(page, server, "sup")
    for path, heading, filters, boxes in [
            (f"/enterprises/?org={town.id}&is_key=0", "企业档案", ["所属工会：瀛海镇总工会", "非重点企业"], True),
            ("/visits/?kind=door", "走访台账", ["上门走访", "记录：有效记录"], False),
            ("/followups/suggestions?rule=never", "待跟进建议", ["从未联系"], True),
            ("/followups/", "团队任务", ["状态："], True),
            ("/compliance/", "达标情况", [], False),
            (f"/compliance/units/{town.id}", "考核日历", [], False),
            ("/meetings/points", "固定点位", [], False),
            ("/dashboard/?period=month", "工作概况", ["统计期间：本月"], False)]:
        _prints_clean(page, server + path, heading, filters, tmp_path, boxes)
    assert page.console_errors == []


def test_the_user_list_prints_without_its_actions(portrait, server, app, make, tmp_path):
    root = make.root()
    secret, _ = enrol_second_factor(app, make.user("admin", org=root, username="boss", name="管理员"))
    make.user("staff", org=make.org("瀛海镇总工会", parent=root), username="zhang", name="张三")
    page = portrait
    login(page, server, "boss", second_factor=secret)
    _prints_clean(page, server + "/admin/users?role=staff", "用户管理", ["角色：走访干部"], tmp_path)
    page.emulate_media(media="print")
    expect(page.locator("table th", has_text="最近登录")).to_be_visible()  # hidden on a portrait screen
    expect(page.locator("table th", has_text="操作")).to_be_hidden()
