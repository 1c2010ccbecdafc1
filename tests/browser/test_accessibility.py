"""Accessibility: axe-core, injected into every main page of every role at both tablet sizes,
finds no serious or critical violation.

The pages are those of the demo data set (as a new district sees it), so they carry what a
real day shows: charts, the 双沟通 grid, suggestions, ledgers full of records. axe-core is
vendored under tests/browser/vendor/axe-core (MPL-2.0, its licence beside it) and added to each
page by the browser itself (an init script), so the pages keep their own Content-Security-Policy.
"""
from pathlib import Path

import pytest
from openpyxl import Workbook

from crm import demo
from crm.activities.models import ServiceActivity
from crm.auth.models import User
from crm.enterprises import bulk
from crm.enterprises.models import Enterprise
from crm.followups.models import FollowUp
from crm.imports import services as imports
from crm.meetings.models import Meeting, OutreachPoint
from crm.members.models import Member
from crm.needs.models import Need
from crm.permissions import scoped
from crm.trainings.models import Training
from crm.visits.models import Visit
from tests.browser.conftest import login
from tests.conftest import enrol_second_factor

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SIZES = ((768, 1024), (1024, 768))
BLOCKING = ("serious", "critical")

# Each role's main pages; {name} is filled from the demo data in that user's scope.
PAGES = {
    "lijw": [  # 走访干部 (staff) of a town
        "/", "/enterprises/", "/enterprises/{ent}", "/enterprises/{ent}/visits/new", "/visits/new",
        "/enterprises/{ent}/contacts/new", "/meetings/new", "/trainings/new", "/activities/new",
        "/followups/", "/followups/{task}", "/visits/", "/visits/{visit}", "/meetings/", "/meetings/{meeting}",
        "/meetings/points", "/meetings/points/{point}", "/trainings/", "/activities/", "/needs/",
        "/needs/{need}", "/sync/outbox", "/account/password", "/help/", "/members/",
    ],
    "kouyj": [  # a town's supervisor
        "/", "/enterprises/", "/enterprises/new", "/enterprises/{ent}/edit", "/enterprises/{ent}/history",
        "/followups/", "/followups/suggestions", "/followups/new", "/dashboard/", "/compliance/",
        "/compliance/units/{unit}", "/reports/monthly", "/imports/", "/imports/enterprises/new",
        "/imports/{batch}", "/enterprises/bulk?ent={ent}", "/enterprises/bulk/{bulk}", "/help/",
        "/members/", "/members/{member}", "/members/{member}/edit",
    ],
    "leader": [  # the district's read-only viewer
        "/", "/enterprises/", "/dashboard/", "/compliance/", "/reports/monthly", "/followups/",
        "/trainings/{training}", "/activities/{activity}", "/help/", "/members/", "/members/{member}",
    ],
    "admin": [
        "/", "/admin/users", "/admin/users/new", "/admin/users/{user}/edit", "/admin/org-units",
        "/admin/org-units/new", "/admin/settings", "/compliance/rules", "/admin/audit/",
        "/account/two-factor", "/help/",
    ],
}


def _first(query):
    row = query.order_by(query.model.id.desc()).first()
    return row.id if row is not None else None


def _ids(app, user, tmp_path):
    """Ids of one record of each kind in the user's scope, and an import batch of theirs."""
    with app.app_context():
        ids = {
            "ent": _first(scoped(Enterprise, user)),
            "visit": _first(scoped(Visit, user)),
            "meeting": _first(scoped(Meeting, user)),
            "point": _first(scoped(OutreachPoint, user)),
            "training": _first(scoped(Training, user)),
            "activity": _first(scoped(ServiceActivity, user)),
            "need": _first(scoped(Need, user)),
            "member": _first(scoped(Member, user).where(Member.state != "void")),
            "task": _first(FollowUp.select().where(FollowUp.assignee == user)),
            "unit": user.org_unit_id,
            "user": _first(User.select().where(User.role == "staff")),
        }
        if user.role == "supervisor":
            sheet = tmp_path / "台账.xlsx"
            wb = Workbook()
            wb.active.append(["单位名称", "统一社会信用代码", "员工人数"])
            wb.active.append(["无障碍测试商贸有限公司", "", "12"])
            wb.active.append(["", "bad", "x"])
            wb.save(sheet)
            ids["batch"] = imports.start(sheet, "台账.xlsx", user, default_org=user.org_unit).id
            ids["bulk"] = bulk.prepare(user, "key", {}, ids=[ids["ent"]]).id  # a preview
    return ids


def _violations(page):
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def _describe(path, size, v):
    nodes = "; ".join(" ".join(n["target"]) + " — " + n["failureSummary"].splitlines()[-1].strip()
                      for n in v["nodes"][:3])
    return f"{path} at {size[0]}×{size[1]}: {v['id']} ({v['impact']}, {len(v['nodes'])} nodes) {nodes}"


@pytest.fixture
def demo_app(app):
    with app.app_context():
        demo.load_demo(enterprises=80)
    return app


def _scan(page, server, paths, ids):
    found, seen = [], []
    for size in SIZES:
        page.set_viewport_size({"width": size[0], "height": size[1]})
        for path in paths:
            url = path.format(**ids)
            response = page.goto(server + url)
            assert response is not None and response.status == 200, f"{url}: {response and response.status}"
            found += [_describe(url, size, v) for v in _violations(page)]
            seen.append(url)
    return found, seen


@pytest.mark.parametrize("username", list(PAGES))
def test_main_pages_have_no_serious_violation(username, browser, demo_app, server, tmp_path):
    with demo_app.app_context():
        user = User.get(User.username == username)
        secret = enrol_second_factor(demo_app, user)[0] if user.role == "admin" else None
    ids = _ids(demo_app, user, tmp_path)
    missing = [k for k, v in ids.items() if v is None and any("{" + k + "}" in p for p in PAGES[username])]
    assert not missing, f"the demo has no {missing} for {username}"
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(30000)
    try:
        login(page, server, username, password=demo.DEMO_PASSWORD, second_factor=secret)
        found, seen = _scan(page, server, PAGES[username], ids)
    finally:
        context.close()
    assert len(seen) == 2 * len(PAGES[username])
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)


def test_login_page_has_no_serious_violation(browser, server):
    context = browser.new_context(locale="zh-CN")
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    try:
        found, seen = _scan(page, server, ["/login"], {})
    finally:
        context.close()
    assert seen == ["/login", "/login"]
    assert not found, "\n".join(found)


def test_the_check_sees_a_violation(browser, server):
    """The scan is not blind: a page with a low-contrast text and an unnamed control fails it."""
    context = browser.new_context()
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    try:
        page.goto(server + "/login")
        page.evaluate("""() => { const p = document.createElement('p'); p.textContent = '看不清的字';
            p.style.color = '#bbb'; p.style.background = '#fff'; document.body.append(p);
            const i = document.createElement('input'); i.type = 'text'; document.body.append(i); }""")
        ids = {v["id"] for v in _violations(page)}
    finally:
        context.close()
    assert {"color-contrast", "label"} <= ids
