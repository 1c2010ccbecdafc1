"""Field work on a tablet (768×1024): log a visit with a photo from the enterprise file in three
taps plus typing; half-fill a meeting form, reload, get the draft back, submit, and see the
meeting on the participating enterprise's timeline."""
import pytest
from playwright.sync_api import expect

from crm.enterprises.models import Enterprise
from crm.meetings.models import Meeting
from crm.needs.models import Need
from crm.photos.models import Photo
from crm.visits.models import Visit
from tests.browser.conftest import login
from tests.fieldwork_helpers import jpeg

pytestmark = pytest.mark.browser

SMALL_CONTROLS = """() => [...document.querySelectorAll('button, .btn, input:not([type=hidden]):not(.btn-check):not(.visually-hidden), select, textarea')]
    .filter(e => e.offsetParent !== null && e.type !== 'checkbox')
    .map(e => [e.name || e.textContent.trim(), e.getBoundingClientRect().height])
    .filter(([_, h]) => h < 44)"""


def test_log_a_visit_with_a_photo_in_three_taps(portrait, server, make, tmp_path):
    page = portrait
    unit = make.org("瀛海镇总工会")
    make.user("staff", username="lijw", name="李佳伟", org=unit)
    ent = make.enterprise(org=unit, name="瀛嘉汇老北京炸酱面馆")
    photo = tmp_path / "门店.jpg"
    photo.write_bytes(jpeg(size=(1200, 900)).getvalue())
    login(page, server, "lijw")
    page.goto(f"{server}/enterprises/{ent.id}")

    page.get_by_role("link", name="记录走访").click()                       # tap 1
    expect(page.get_by_label("走访日期")).not_to_have_value("")              # today, prefilled
    expect(page.locator("input[name=visitor_ids]:checked")).to_have_count(1)  # me, prefilled
    page.wait_for_load_state("load")
    assert page.evaluate(SMALL_CONTROLS) == []
    page.get_by_label("内容摘要").fill("上门宣传建会政策，老板同意下周召集职工座谈")  # typing
    page.locator("input[data-photo-input][capture]").set_input_files(str(photo))   # tap 2 (the camera)
    expect(page.locator("[data-photo-preview] img")).to_have_count(1)
    page.get_by_role("button", name="保存").click()                          # tap 3

    expect(page.locator(".alert-success")).to_contain_text("已保存走访记录")
    expect(page.locator("#photos img")).to_have_count(1)
    visit = Visit.get()
    assert Photo.get(Photo.kind == "visit").record_id == visit.id
    assert Enterprise.get_by_id(ent.id).stage == "contacted"
    page.get_by_role("link", name="瀛嘉汇老北京炸酱面馆").first.click()
    expect(page.locator("#timeline")).to_contain_text("上门宣传建会政策")
    expect(page.locator("#timeline")).to_contain_text("未接触 → 已走访宣传")
    assert page.console_errors == []


def test_meeting_draft_survives_a_reload(portrait, server, make):
    page = portrait
    unit = make.org("庞各庄镇总工会")
    make.user("staff", username="yanrb", name="闫瑞波", org=unit)
    ent = make.enterprise(org=unit, name="众美城MIMO公馆物业管理有限公司")
    login(page, server, "yanrb")
    page.goto(f"{server}/meetings/new")
    page.wait_for_load_state("load")
    page.get_by_text("企业沟通会", exact=True).click()
    page.get_by_label("主题").fill("物业企业建会沟通会")
    page.get_by_label("参加人数").fill("12")
    expect(page.get_by_label("新入会人数·快递员")).to_have_value("")  # empty until typed
    page.get_by_label("新入会人数·快递员").fill("3")
    expect(page.get_by_label("需求意见说明·职工培训")).to_be_hidden()  # a need's note once it is ticked
    page.get_by_text("职工培训", exact=True).click()
    page.get_by_label("需求意见说明·职工培训").fill("物业保安消防培训")
    page.locator("[data-picker-input]").fill("众美城")
    page.get_by_role("button", name="众美城MIMO公馆物业管理有限公司").click()
    expect(page.locator("[data-picked]")).to_contain_text("众美城MIMO公馆物业管理有限公司")
    page.wait_for_timeout(600)  # the draft is written 300 ms after the last keystroke

    page.reload()
    expect(page.locator("[data-draft-notice]")).to_be_visible()
    expect(page.get_by_label("主题")).to_have_value("物业企业建会沟通会")
    expect(page.get_by_label("参加人数")).to_have_value("12")
    expect(page.locator("input[name=kind][value=enterprise]")).to_be_checked()
    expect(page.get_by_label("新入会人数·快递员")).to_have_value("3")
    expect(page.get_by_label("需求意见说明·职工培训")).to_have_value("物业保安消防培训")  # back, and shown
    expect(page.get_by_label("需求意见说明·法律咨询")).to_be_hidden()
    expect(page.locator("[data-picked]")).to_contain_text("众美城MIMO公馆物业管理有限公司")
    assert page.evaluate(SMALL_CONTROLS) == []

    page.get_by_label("内容摘要").fill("介绍建会流程，物业公司同意成立筹备组")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_be_visible()
    page.wait_for_load_state("load")  # app.js, which drops the saved draft, has run on this page
    meeting = Meeting.get()
    assert meeting.title == "物业企业建会沟通会" and meeting.attendees == 12 and meeting.new_members == 3
    assert [(n.category, n.detail) for n in Need.select()] == [("training", "物业保安消防培训")]
    # Saved: the draft is gone, a new form starts empty.
    page.goto(f"{server}/meetings/new")
    page.wait_for_load_state("load")
    expect(page.locator("[data-draft-notice]")).to_be_hidden()
    expect(page.get_by_label("主题")).to_have_value("")
    # The meeting is on the participant's file.
    page.goto(f"{server}/enterprises/{ent.id}")
    expect(page.locator("#timeline")).to_contain_text("物业企业建会沟通会")
    assert Enterprise.get_by_id(ent.id).stage == "contacted"
    assert page.console_errors == []
