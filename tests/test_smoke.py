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
