"""Field work on a bad network, in Chromium at 768×1024 with the service worker on: a lost answer,
Back after a save, a cut network at 保存, a form opened offline, refused items, a second login on
the same tablet, and search → saved visit in four taps.

An answer is lost with context.route(): the request reaches the server (route.fetch()), then the
browser is told the connection failed (route.abort()). The service worker's own requests are
routed too (PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS=1, set in conftest)."""
import pytest
from playwright.sync_api import expect

from crm.enterprises.models import Contact, Enterprise
from crm.enterprises.services import add_contact, set_archived
from crm.followups.services import Task, create
from crm.common.timeutil import local_today
from crm.photos.models import Photo
from crm.needs.models import Need
from crm.visits.models import Visit, VisitContact
from tests.browser.conftest import login
from tests.fieldwork_helpers import jpeg

pytestmark = pytest.mark.browser


@pytest.fixture
def field(make):
    unit = make.org("瀛海镇总工会")
    staff = make.user("staff", username="lijw", name="李佳伟", org=unit)
    firms = [make.enterprise(org=unit, name=n) for n in ("瀛嘉汇老北京炸酱面馆", "圆通速递宜家站", "京东物流瀛海站")]
    return {"unit": unit, "staff": staff, "firms": firms}


def controlled(page, base):
    """Wait until the service worker controls the page (it claims pages once activated)."""
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
    page.wait_for_function("!!navigator.serviceWorker.controller")


def outbox_count(page):
    return int(page.locator("#outbox-badge [data-outbox-count]").text_content() or 0) \
        if page.locator("#outbox-badge").is_visible() else 0


def fill_visit(page, summary):
    expect(page.get_by_label("内容摘要")).to_be_visible()
    page.wait_for_load_state("load")
    page.get_by_label("内容摘要").fill(summary)


def open_form_offline(page, server, ent):
    """The firm's visit form, opened once online (so the device keeps it), then again offline."""
    page.goto(f"{server}/enterprises/{ent.id}/visits/new")
    page.wait_for_load_state("load")
    page.context.set_offline(True)
    page.goto(f"{server}/enterprises/{ent.id}/visits/new")


def visits_of(ent):
    return [v.summary for v in Visit.select().where(Visit.enterprise == ent.id).order_by(Visit.id)]


def lose_next_answer(context, pattern):
    """The next POST matching `pattern` reaches the server; its answer never reaches the browser."""
    state = {"lost": 0}

    def handler(route):
        if route.request.method == "POST" and state["lost"] == 0:
            state["lost"] = 1
            route.fetch()  # the server saves it
            route.abort("connectionreset")
            return
        route.continue_()
    context.route(pattern, handler)
    return state


def test_a_lost_answer_then_a_new_visit_makes_both_once_each(portrait, server, field):
    page, ent = portrait, field["firms"][0]
    login(page, server, "lijw")
    controlled(page, server)
    lost = lose_next_answer(page.context, f"**/enterprises/{ent.id}/visits/new")
    page.goto(f"{server}/enterprises/{ent.id}/visits/new")
    fill_visit(page, "第一次：上门宣传建会政策")
    page.get_by_role("button", name="保存").click()
    # The send failed as far as the browser knows: kept on the device, then sent and recognised.
    page.wait_for_url("**/sync/outbox?queued=*")
    assert lost["lost"] == 1
    expect(page.locator("[data-outbox-landed]")).to_contain_text("已发送到服务器：1 条")
    expect(page.locator("#outbox-badge")).to_be_hidden()
    # Back to the file, 记录走访 again: a fresh form, not the old draft, and a different visit.
    page.goto(f"{server}/enterprises/{ent.id}")
    page.get_by_role("link", name="记录走访").first.click()
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    expect(page.locator("[data-draft-notice]")).to_be_hidden()
    expect(page.get_by_label("内容摘要")).to_have_value("")
    fill_visit(page, "第二次：送去建会材料")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("已保存走访记录")
    assert visits_of(ent) == ["第一次：上门宣传建会政策", "第二次：送去建会材料"]
    assert page.console_errors == []


def test_back_after_a_save_cannot_save_again(portrait, server, field):
    page, ent = portrait, field["firms"][0]
    login(page, server, "lijw")
    page.goto(f"{server}/enterprises/{ent.id}/visits/new")
    fill_visit(page, "走访一次")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("已保存走访记录")
    page.wait_for_load_state("load")
    page.go_back()
    page.wait_for_load_state("load")
    notice = page.locator("#form-saved-notice")
    expect(notice).to_contain_text("已保存")
    expect(notice.get_by_role("link", name="查看已保存的记录")).to_have_attribute("href", f"/visits/{Visit.get().id}")
    save = page.get_by_role("button", name="保存")
    expect(save).to_be_disabled()
    save.scroll_into_view_if_needed()  # the page restored by back may still be scrolling
    save.click(force=True)  # a determined tap
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert visits_of(ent) == ["走访一次"]
    # 再记录一条 opens a fresh form with its own key.
    notice.get_by_role("link", name="再记录一条").click()
    fill_visit(page, "又一次走访")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("已保存走访记录")
    assert visits_of(ent) == ["走访一次", "又一次走访"]
    assert page.console_errors == []


def test_a_cut_network_at_save_keeps_the_visit_and_its_photo_and_sends_it_once(portrait, server, field, tmp_path):
    page, ent = portrait, field["firms"][1]
    manager = add_contact(Enterprise.get_by_id(ent.id), {"name": "赵站长", "phone": "13511112222"}, field["staff"])
    photo = tmp_path / "站点.jpg"
    photo.write_bytes(jpeg(size=(1200, 900)).getvalue())
    login(page, server, "lijw")
    controlled(page, server)
    page.goto(f"{server}/enterprises/{ent.id}/visits/new")
    fill_visit(page, "站点负责人同意张贴入会二维码")
    page.locator("input[data-photo-input][capture]").set_input_files(str(photo))
    # Who was met (a contact, and someone new to add), the needs each with its own note; a need
    # ticked, given a note and ticked off again is not sent.
    page.get_by_text("赵站长", exact=False).click()
    page.get_by_label("其他见到的人").fill("钱师傅")
    page.get_by_text("添加为联系人").click()
    page.get_by_label("联系人职务").fill("分拣组长")
    page.get_by_text("法律咨询", exact=True).click()
    page.get_by_label("需求意见说明·法律咨询").fill("快递员劳动合同咨询")
    page.get_by_text("困难帮扶", exact=True).click()
    page.get_by_label("需求意见说明·困难帮扶").fill("写错了")
    page.get_by_text("困难帮扶", exact=True).click()
    expect(page.get_by_label("需求意见说明·困难帮扶")).to_be_hidden()
    page.context.set_offline(True)
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/sync/outbox?queued=*")
    expect(page.locator("[data-outbox-queued]")).to_contain_text("已保存在这台设备上")
    expect(page.locator("#outbox-badge")).to_contain_text("待同步 1")
    item = page.locator("[data-outbox-list] li")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("走访记录 · 圆通速递宜家站")
    expect(item).to_contain_text("照片 1 张")
    assert Visit.select().count() == 0
    # A page this device has not kept: the app's own offline page, in Chinese.
    page.goto(f"{server}/dashboard/")
    expect(page.get_by_role("heading", name="现在没有网络")).to_be_visible()
    expect(page.locator("[data-outbox-badge]").first).to_contain_text("待同步 1")
    # The CSRF token kept with the item has expired meanwhile: the outbox takes a fresh one.
    page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open('crm-offline');
        open.onsuccess = () => {
            const tx = open.result.transaction('outbox', 'readwrite');
            const store = tx.objectStore('outbox');
            store.getAll().onsuccess = (e) => e.target.result.forEach(item => {
                item.fields = item.fields.map(([n, v]) => [n, n === 'csrf_token' ? 'expired' : v]);
                store.put(item);
            });
            tx.oncomplete = () => resolve(true);
            tx.onerror = () => reject(tx.error);
        };
    })""")
    page.go_back()
    page.context.set_offline(False)
    expect(page.locator("#outbox-badge")).to_be_hidden(timeout=40000)
    expect(page.locator("[data-outbox-landed]")).to_contain_text("已发送到服务器：1 条")
    visit = Visit.get()
    assert visit.summary == "站点负责人同意张贴入会二维码" and Visit.select().count() == 1
    assert Photo.select().where(Photo.kind == "visit", Photo.record_id == visit.id).count() == 1
    newcomer = Contact.get(Contact.enterprise == ent.id, Contact.name == "钱师傅")
    assert newcomer.title == "分拣组长"
    assert [r.contact_id for r in VisitContact.select().order_by(VisitContact.id)] == [manager.id, newcomer.id]
    assert [(n.category, n.detail) for n in Need.select()] == [("legal", "快递员劳动合同咨询")]
    page.reload()
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert Visit.select().count() == 1
    assert page.console_errors == [] or all("ERR_INTERNET_DISCONNECTED" in e for e in page.console_errors)


def test_a_form_on_my_task_list_opens_offline_and_lands_once(portrait, server, field, make):
    page, ent = portrait, field["firms"][2]
    boss = make.user("supervisor", org=field["unit"], name="寇亚娇")
    create(boss, Task(title="走访了解建会意向", enterprise=Enterprise.get_by_id(ent.id)), field["staff"],
           local_today(), "medium", "task-key-0000000001")
    login(page, server, "lijw")
    controlled(page, server)
    page.goto(f"{server}/")  # the home page lists the task: its file and visit form are kept
    expect(page.locator("#my-tasks")).to_contain_text("走访了解建会意向")
    page.wait_for_timeout(1500)
    page.wait_for_function("""async () => {
        const names = await caches.keys();
        for (const n of names.filter(n => n.startsWith('crm-pages-u'))) {
            const keys = await (await caches.open(n)).keys();
            if (keys.some(k => k.url.includes('/visits/new?followup='))) return true;
        }
        return false; }""")
    page.context.set_offline(True)
    page.goto(f"{server}/")  # the kept home page
    page.locator("#my-tasks").get_by_role("link", name="记录走访").click()
    expect(page.locator("#followup-banner")).to_contain_text("走访了解建会意向")
    fill_visit(page, "离线时记录：老板同意召集职工座谈")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/sync/outbox?queued=*")
    expect(page.locator("[data-outbox-badge]").first).to_contain_text("待同步 1")
    assert Visit.select().count() == 0
    page.context.set_offline(False)
    expect(page.locator("[data-outbox-landed]")).to_contain_text("已发送到服务器：1 条", timeout=40000)
    assert visits_of(ent) == ["离线时记录：老板同意召集职工座谈"]
    from crm.followups.models import FollowUp
    assert FollowUp.get().status == "done"  # the visit completed the task, as online


def test_three_queued_one_refused_two_land_and_the_third_stays_with_its_reason(portrait, server, field):
    page = portrait
    login(page, server, "lijw")
    controlled(page, server)
    for ent in field["firms"]:  # opened once online: kept for the field
        page.goto(f"{server}/enterprises/{ent.id}/visits/new")
        page.wait_for_load_state("load")
    page.context.set_offline(True)
    for i, ent in enumerate(field["firms"]):
        page.goto(f"{server}/enterprises/{ent.id}/visits/new")
        fill_visit(page, f"离线走访 {i + 1}")
        page.get_by_role("button", name="保存").click()
        page.wait_for_url("**/sync/outbox?queued=*")
    expect(page.locator("[data-outbox-list] li")).to_have_count(3)
    gone = field["firms"][2]
    set_archived(Enterprise.get_by_id(gone.id), field["staff"], True, "企业已注销")  # meanwhile, elsewhere
    page.context.set_offline(False)
    refused = page.locator("[data-outbox-list] li")
    expect(refused).to_have_count(1, timeout=40000)
    expect(refused).to_contain_text("京东物流瀛海站")
    expect(refused).to_contain_text("服务器拒收")
    expect(refused).to_contain_text("该档案已归档")
    expect(page.locator("#outbox-badge")).to_contain_text("待同步 1")
    assert sorted(v.summary for v in Visit.select()) == ["离线走访 1", "离线走访 2"]
    # It can be opened (here the file says why no visit can be logged) or discarded; never
    # dropped by itself.
    refused.get_by_role("link", name="打开修改").click()
    expect(page.locator(".alert-danger")).to_contain_text("该档案已归档，不能再记录走访")
    page.goto(f"{server}/sync/outbox")
    expect(page.locator("[data-outbox-list] li")).to_have_count(1)
    page.once("dialog", lambda d: d.accept())
    page.locator("[data-outbox-list] li").get_by_role("button", name="丢弃").click()
    expect(page.locator("[data-outbox-list] li")).to_have_count(0)
    expect(page.locator("#outbox-badge")).to_be_hidden()
    assert Visit.select().count() == 2


def test_another_login_on_the_same_tablet_sees_none_of_my_queue(portrait, server, field, make):
    page, ent = portrait, field["firms"][0]
    make.user("staff", username="liuxq", name="刘晓晴", org=field["unit"])
    login(page, server, "lijw")
    controlled(page, server)
    open_form_offline(page, server, ent)
    fill_visit(page, "李佳伟离线记下的走访")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/sync/outbox?queued=*")
    page.context.route("**/sync/state*", lambda route: route.abort())  # keep it queued for now
    page.context.set_offline(False)
    # Logging out asks first; 取消 keeps both the login and the queue.
    page.goto(f"{server}/")
    page.wait_for_load_state("load")  # Bootstrap's script, which opens the menus
    if page.locator(".navbar-toggler").is_visible():  # the portrait tablet's menu
        page.locator(".navbar-toggler").click()
        expect(page.locator(".navbar-collapse.show")).to_be_visible()
    logout = page.get_by_role("button", name="退出登录")
    for _ in range(5):  # a tap while the menu still slides open can close it again
        page.locator(".navbar .dropdown-toggle").last.click()
        try:
            expect(logout).to_be_visible(timeout=2000)
            break
        except AssertionError:
            continue
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    logout.click(no_wait_after=True)
    for _ in range(100):
        if messages:
            break
        page.wait_for_timeout(100)
    assert messages and "1 条记录没有发送" in messages[0]
    page.wait_for_timeout(300)
    expect(page.locator(".navbar .dropdown-toggle").last).to_contain_text("李佳伟")  # still logged in
    expect(page.locator("#outbox-badge")).to_contain_text("待同步 1")
    # Another cadre signs in on this tablet (the first one's session simply ended).
    page.context.clear_cookies()
    page.context.unroute("**/sync/state*")
    login(page, server, "liuxq")
    page.goto(f"{server}/sync/outbox")
    page.wait_for_load_state("load")
    page.wait_for_timeout(1500)
    expect(page.locator("#outbox-badge")).to_be_hidden()
    expect(page.locator("[data-outbox-list] li")).to_have_count(0)
    expect(page.locator("[data-outbox-empty]")).to_be_visible()
    assert Visit.select().count() == 0  # nor was it sent under her login
    # Nor are the first cadre's kept pages on the device any more.
    first = field["staff"].id
    kept = page.evaluate("caches.keys()")
    assert f"crm-pages-u{first}" not in kept


def test_search_to_a_saved_visit_in_four_taps(portrait, server, field):
    page, ent = portrait, field["firms"][1]
    login(page, server, "lijw")
    page.goto(f"{server}/enterprises/")
    taps = 0
    page.get_by_label("搜索").click(); taps += 1                                     # 1: the search box
    page.keyboard.type("圆通")
    page.get_by_role("button", name="搜索", exact=True).click(); taps += 1             # 2: 搜索
    page.get_by_role("link", name="记录走访：圆通速递宜家站").click(); taps += 1         # 3: 记录走访
    page.wait_for_load_state("load")
    expect(page.get_by_label("内容摘要")).to_be_focused()                            # ready to type
    page.keyboard.type("站点负责人愿意组织快递员入会")
    page.get_by_role("button", name="保存").click(); taps += 1                         # 4: 保存
    expect(page.locator(".alert-success")).to_contain_text("已保存走访记录")
    assert taps <= 4
    assert visits_of(ent) == ["站点负责人愿意组织快递员入会"]
    # The home page's 记录走访 is a firm picker too.
    page.goto(f"{server}/")
    page.get_by_role("link", name="记录走访", exact=True).click()
    expect(page.get_by_role("heading", name="记录走访：选择企业")).to_be_visible()
    expect(page.get_by_role("link", name="记录走访：圆通速递宜家站")).to_be_visible()  # visited last
    page.get_by_label("企业名称、信用代码、地址或联系人").fill("炸酱面")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("link", name="记录走访：瀛嘉汇老北京炸酱面馆").click()
    expect(page.get_by_label("内容摘要")).to_be_focused()
    assert page.console_errors == []


def test_a_refused_item_is_opened_corrected_and_sent(portrait, server, field):
    page, ent = portrait, field["firms"][0]
    login(page, server, "lijw")
    controlled(page, server)
    open_form_offline(page, server, ent)
    fill_visit(page, "日期填错的一次走访")
    page.get_by_label("走访日期").fill("2031-05-01")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/sync/outbox?queued=*")
    page.context.set_offline(False)
    item = page.locator("[data-outbox-list] li")
    expect(item).to_contain_text("服务器拒收", timeout=40000)
    expect(item).to_contain_text("日期不能晚于今天")
    item.get_by_role("link", name="打开修改").click()
    expect(page.locator("#outbox-open-notice")).to_contain_text("日期不能晚于今天")
    expect(page.get_by_label("内容摘要")).to_have_value("日期填错的一次走访")
    page.get_by_label("走访日期").fill(local_today().isoformat())
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("已保存走访记录")
    page.wait_for_load_state("load")
    expect(page.locator("#outbox-badge")).to_be_hidden()
    assert visits_of(ent) == ["日期填错的一次走访"]
    page.goto(f"{server}/sync/outbox")
    expect(page.locator("[data-outbox-list] li")).to_have_count(0)
    # Back to the corrected form: it was saved, and says so.
    page.go_back()
    page.go_back()
    page.wait_for_load_state("load")
    expect(page.locator("#form-saved-notice")).to_contain_text("已保存")
    assert visits_of(ent) == ["日期填错的一次走访"]
