"""使用帮助: a page per role made of shared sections; every link on it opens for that role; the
navbar and every form's title link to the section that explains the form."""
import io
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crm.compliance.models import RuleSetting
from crm.help.views import PAGES, SECTIONS
from crm.imports.models import ImportBatch
from tests.job_helpers import run_jobs
from tests.conftest import login_as

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("staff", "supervisor", "viewer", "admin")
LABELS = {"staff": "走访干部", "supervisor": "主管", "viewer": "领导", "admin": "区总工会管理员"}


class Page(HTMLParser):
    """The ids, the links (href, attributes, text) and the headings of a page, in order."""

    def __init__(self, html):
        super().__init__()
        self.ids, self.links, self.headings = set(), [], []
        self._link = self._heading = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self._link = [attrs["href"], attrs, ""]
            self.links.append(self._link)
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), attrs.get("id"), ""]
            self.headings.append(self._heading)

    def handle_endtag(self, tag):
        if tag == "a":
            self._link = None
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = None

    def handle_data(self, data):
        if self._link is not None:
            self._link[2] += data
        if self._heading is not None:
            self._heading[2] += data


def help_body(html):
    """The help page's own content (the part between the navbar and the scripts)."""
    start = html.index('<div class="help-body">')
    return html[start:html.index("</main>")]


@pytest.fixture
def team(make):
    """Every role in one town (the admin at the district), a file, a need, a meeting point and
    follow-ups: what the help pages and the forms need to open."""
    town = make.org("瀛海镇总工会")
    users = {role: make.user(role, org=town if role != "admin" else make.root(), name=f"{LABELS[role]}甲")
             for role in ROLES}
    ent = make.enterprise(org=town, name="京东物流瀛海站", user=users["staff"])
    need = make.need(ent, users["staff"])
    return {"town": town, "users": users, "ent": ent, "need": need}


def client_for(app, team, role):
    return login_as(app.test_client(), team["users"][role])


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_its_own_page_with_its_sections(app, team, role):
    client = client_for(app, team, role)
    resp = client.get("/help/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    page = Page(html)
    assert f"使用帮助：{LABELS[role]}" in html and f"{LABELS[role]}（我的角色）" in html
    sections = PAGES[role].sections
    assert len(sections) >= 5
    for section in sections:
        assert section.key in page.ids, section.key
        assert [1 for level, hid, text in page.headings if hid == f"{section.key}-title" and level == 2
                and text.strip() == section.title], section.key
        assert f'href="#{section.key}"' in html  # in the table of contents
    # A section another role's page has and this one has not is absent.
    absent = set(SECTIONS) - {s.key for s in sections}
    assert absent and not absent & page.ids


def test_each_role_has_what_its_work_needs(app, team):
    keys = {role: {s.key for s in PAGES[role].sections} for role in ROLES}
    assert {"visit", "offline", "meeting", "tasks", "grid", "report"} <= keys["staff"]
    assert {"assign", "tasks", "visit", "import", "grid", "report"} <= keys["supervisor"]
    assert {"find", "dashboard", "grid", "report"} <= keys["viewer"] and "visit" not in keys["viewer"]
    assert {"users", "org-units", "backup", "two-factor", "import", "assign"} <= keys["admin"]
    assert "import" not in keys["staff"] and "assign" not in keys["staff"]


def test_a_section_says_what_the_pages_role_sees(app, team):
    """One text, told for each role: the home page's 外勤记录 is a unit's, an admin's home holds the
    system pages; a cadre cancels only the tasks they gave themselves."""
    pages = {role: help_body(client_for(app, team, role).get("/help/").get_data(as_text=True)) for role in ROLES}
    assert "首页“外勤记录”里的" in pages["staff"] and "首页“外勤记录”里的" in pages["supervisor"]
    assert "首页“外勤记录”" not in pages["admin"] and "沟通会台账里的" in pages["admin"]
    assert "只能取消自己给自己建的任务" in pages["staff"] and "只能取消自己给自己建的任务" not in pages["supervisor"]
    assert "主管点评" in pages["supervisor"] and "主管点评" not in pages["staff"]
    assert "只能查看" in pages["viewer"]


@pytest.mark.parametrize("role", ROLES)
def test_the_other_pages_open_from_the_index(app, team, role):
    client = client_for(app, team, role)
    own = Page(client.get("/help/").get_data(as_text=True))
    index = {text.strip(): href for href, attrs, text in own.links if href.startswith("/help/")}
    for other in ROLES:
        label = f"{LABELS[other]}（我的角色）" if other == role else LABELS[other]
        assert label in index, label
        html = client.get(index[label]).get_data(as_text=True)
        assert f"使用帮助：{LABELS[other]}" in html
        # Another role's page says so, and leads back to the reader's own.
        assert (f"回到{LABELS[role]}的使用帮助" in html) == (other != role)
    # Anything else is the reader's own page, never an error.
    for value in ("nobody", "", "admin'--", "%00"):
        resp = client.get(f"/help/?role={value}")
        assert resp.status_code == 200 and f"使用帮助：{LABELS[role]}" in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_every_link_on_a_page_opens_for_its_role(app, team, role):
    client = client_for(app, team, role)
    html = client.get("/help/").get_data(as_text=True)
    page = Page(help_body(html))
    assert len(page.links) >= 15
    seen = set()
    for href, attrs, text in page.links:
        assert text.strip() or attrs.get("aria-label"), href  # every link has a name
        parts = urlsplit(href)
        assert not parts.netloc and not parts.scheme, href  # the app's own pages only
        if href.startswith("#"):
            assert href[1:] in Page(html).ids, href
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path in seen:
            continue
        seen.add(path)
        status = client.get(path).status_code
        assert status == 200, f"{role}: {href} answers {status}"
    assert len(seen) >= 5


def test_help_pages_link_through_url_for_only():
    for path in (ROOT / "templates/help").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'href="/', text), path  # a hand-written path breaks when a route moves


def test_headings_go_down_one_level_at_a_time(app, team):
    for role in ROLES:
        html = client_for(app, team, role).get("/help/").get_data(as_text=True)
        levels = [level for level, _, _ in Page(html[html.index("<main"):]).headings]
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), (role, levels)
        assert "<nav" in help_body(html) and 'aria-label="各角色的使用帮助"' in html


def test_the_grid_section_shows_the_targets_in_force(app, team, make):
    """The quotas come from the rule settings: a unit's own target is the one its people read."""
    client = client_for(app, team, "staff")
    html = client.get("/help/").get_data(as_text=True)
    assert "每周至少1场，每月至少4场" in html and "每半月至少1场，每月至少2场" in html
    assert "每月第三个星期四召开" in html and "不考核" in html  # 已建会企业每月走访 is off by default
    RuleSetting.create(rule="staff_weekly", org_unit=team["town"].id, enabled=True, target=6,
                       effective_from=date(2000, 1, 1))
    html = client.get("/help/").get_data(as_text=True)
    assert "每周至少1场，每月至少6场" in html and "瀛海镇总工会本月执行的目标" in html
    other = login_as(app.test_client(), make.user("staff", org=make.org("庞各庄镇总工会")))
    assert "每月至少4场" in other.get("/help/").get_data(as_text=True)


def test_the_navbar_links_to_help(app, team):
    for role in ROLES:
        client = client_for(app, team, role)
        page = Page(client.get("/").get_data(as_text=True))
        [link] = [(href, text) for href, attrs, text in page.links if attrs.get("id") == "nav-help"]
        assert link == ("/help/", "使用帮助")
        help_page = client.get("/help/").get_data(as_text=True)
        assert 'id="nav-help" aria-current="page"' in help_page


def _upload(client, town):
    page = client.get("/imports/enterprises/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = "企业名称,职工人数\n帮助导入企业,40\n".encode("utf-8")
    resp = client.post("/imports/enterprises/new", data={"csrf_token": token, "org": str(town.id),
                                                         "on_duplicate": "update",
                                                         "file": (io.BytesIO(data), "台账.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    batch = ImportBatch.get()
    run_jobs(client.application)  # its header read, as a worker would
    client.post(f"/imports/{batch.id}/mapping", data={"csrf_token": token, "col0": "name", "col1": "employees"})
    return batch


def _forms(app, team, make):
    """(path, the roles that open it, the section its 帮助 link must open for each role)."""
    ent, need, users = team["ent"], team["need"], team["users"]
    own_task = make.followup(users["staff"], ent)  # a cadre's task for themselves
    given = make.followup(users["supervisor"], ent, assignee=users["staff"])
    batch = _upload(client_for(app, team, "supervisor"), team["town"])
    edit = ("staff", "supervisor", "admin")
    forms = [
        (f"/enterprises/{ent.id}/visits/new", edit, "visit"),
        ("/meetings/new", edit, "meeting"),
        ("/meetings/new?kind=enterprise", edit, "meeting"),
        ("/meetings/points/new", edit, "meeting"),
        ("/trainings/new", edit, "training"),
        ("/activities/new", edit, "activity"),
        (f"/needs/{need.id}", edit, "need"),
        ("/enterprises/new", edit, "enterprise"),
        (f"/enterprises/{ent.id}/edit", edit, "enterprise"),
        ("/followups/new", ("supervisor", "admin"), "assign"),
        ("/followups/new", ("staff",), "tasks"),
        (f"/followups/new?ent={ent.id}", ("supervisor",), "assign"),
        ("/imports/enterprises/new", ("supervisor", "admin"), "import"),
        (f"/imports/{batch.id}/mapping", ("supervisor", "admin"), "import"),
        (f"/imports/{batch.id}", ("supervisor", "admin"), "import"),
    ]
    forms += [(f"/followups/{own_task.id}/edit", ("staff",), "tasks"),
              (f"/followups/{given.id}/edit", ("supervisor", "admin"), "assign")]
    return forms


def test_every_form_title_links_to_its_section(app, team, make):
    checked = 0
    for path, roles, key in _forms(app, team, make):
        for role in roles:
            client = client_for(app, team, role)
            resp = client.get(path)
            assert resp.status_code == 200, (role, path, resp.status_code)
            html = resp.get_data(as_text=True)
            h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
            [link] = [(href, attrs) for href, attrs, text in Page(h1).links if text.strip() == "帮助"]
            href, attrs = link
            assert href == f"/help/#{key}", (path, role, href)
            assert attrs["aria-label"] == f"帮助：{SECTIONS[key]}（在新标签页打开）"
            assert attrs.get("target") == "_blank" and "noopener" in attrs.get("rel", "")
            own = Page(client.get("/help/").get_data(as_text=True))
            assert key in own.ids, (role, key)  # the anchor exists on the page the link opens
            checked += 1
    assert checked >= 35


def test_a_viewer_reading_a_need_gets_no_help_link_for_a_form_they_cannot_use(app, team):
    client = client_for(app, team, "viewer")
    html = client.get(f"/needs/{team['need'].id}").get_data(as_text=True)
    assert "help-link" not in html


def test_a_help_link_to_a_section_that_does_not_exist_fails_loudly(app):
    with app.test_request_context():
        template = app.jinja_env.from_string('{% from "_macros/help.html" import help_link %}{{ help_link("nowhere") }}')
        with pytest.raises(KeyError):
            template.render()
        assert 'href="/help/#visit"' in app.jinja_env.from_string(
            '{% from "_macros/help.html" import help_link %}{{ help_link("visit") }}').render()


def test_anonymous_readers_are_sent_to_login(app):
    client = app.test_client()
    for path in ("/help/", "/help/?role=admin"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_help_prints(app, team):
    """The page's own print rules: the body is marked, the index and the form links stay off paper."""
    css = (ROOT / "crm/static/print.css").read_text(encoding="utf-8")
    assert ".help-body" in css and ".help-section" in css
    html = client_for(app, team, "staff").get("/help/").get_data(as_text=True)
    assert 'class="help-roles mb-3 d-print-none"' in html
    assert "help-body" in html and 'media="print"' in html
