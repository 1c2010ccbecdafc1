"""会员台账 on a tablet (768×1024): a 主管 opens the roster, narrows it to one group, opens a
member and reads the full number once (logged)."""
import pytest
from playwright.sync_api import expect

from crm.audit.models import AuditEvent
from crm.members import links, services
from crm.members.models import Member
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def _join(app, meeting, staff, name, phone, group):
    with app.test_request_context():
        result = services.sign_up(links.token_for("meeting", meeting), {
            "name": name, "phone": phone, "group": group, "platform": "meituan", "consent": "y"},
            "127.0.0.1", staff=staff)
    return result.signup


def test_a_supervisor_filters_the_roster_and_reads_a_members_number(portrait, server, app, make):
    town = make.org("高米店街道总工会")
    boss = make.user("supervisor", org=town, username="kou", name="寇主管")
    staff = make.user("staff", org=town)
    meeting = make.meeting(staff, kind="staff", attendees=0, title="骑手沟通会")
    signups = [_join(app, meeting, staff, "王师傅", "13911112222", "rider"),
               _join(app, meeting, staff, "李师傅", "13722223333", "courier")]
    with app.app_context():
        services.decide([s.id for s in signups], staff, confirm=True)
    page = portrait
    login(page, server, "kou")
    page.get_by_role("button", name="菜单").click()  # (the navigation is folded at this width)
    page.get_by_role("link", name="会员台账").click()
    expect(page.locator("main h1")).to_have_text("会员台账")
    expect(page.locator("#roster-count")).to_contain_text("共 2 人")
    page.get_by_label("职业群体").select_option(label="外卖送餐员")  # submits itself
    page.wait_for_url("**/members/?*group=rider*")
    expect(page.locator("#roster-count")).to_contain_text("共 1 人")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("139****2222")
    expect(page.locator("table")).not_to_contain_text("李师傅")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768  # no sideways scrolling
    page.get_by_role("link", name="王师傅").click()
    expect(page.locator("main h1")).to_contain_text("王师傅")
    expect(page.locator("#phone")).not_to_contain_text("13911112222")
    expect(page.locator("#signups")).to_contain_text("骑手沟通会")
    page.get_by_role("button", name="显示完整号码").click()
    expect(page.locator("#full-phone")).to_have_text("13911112222")
    member = Member.get(Member.name == "王师傅")
    assert AuditEvent.select().where(AuditEvent.kind == "phone_read", AuditEvent.target_id == member.id,
                                     AuditEvent.user == boss.id).count() == 1
    assert page.console_errors == []
