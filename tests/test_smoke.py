import re

from tests.conftest import login_as


def test_login_page_renders(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    assert "登录" in resp.get_data(as_text=True)


def test_home_requires_login(client):
    resp = client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_home_for_staff(client, make):
    user = make.user("staff")
    make.enterprise(org=user.org_unit, user=user, name="北京京东世纪贸易有限公司")
    login_as(client, user)
    resp = client.get("/")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    assert "在档企业" in resp.get_data(as_text=True)


def test_the_navbar_names_the_user_once(app, make):
    """The demo's admin is called 区总工会管理员, like the role: the navbar says it once."""
    admin = make.user("admin", name="区总工会管理员")
    html = login_as(app.test_client(), admin).get("/admin/users").get_data(as_text=True)
    toggle = re.search(r'<a class="nav-link dropdown-toggle" href="#" role="button"[^>]*>(.*?)</a>', html.split("navbar-nav")[-1], re.S)
    assert toggle and toggle.group(1).count("区总工会管理员") == 1
    staff = make.user("staff", name="刘晓晴")
    html = login_as(app.test_client(), staff).get("/").get_data(as_text=True)
    assert "走访干部 · " in html.split('data-bs-toggle="dropdown"')[-1].split("</a>")[0]
