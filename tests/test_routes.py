"""Walk every route with every role, in and out of scope.

Out of scope → 404; an action the role may not take → 403; anonymous → the login page.
Every endpoint must be classified below, so a new route cannot skip this check.
"""
import pytest

from crm.enterprises.models import Contact
from tests.conftest import csrf_token, login_as

PUBLIC = {"static", "bootstrap.static", "auth.login"}
READ = {"home.index", "auth.change_password", "enterprises.index", "enterprises.show",
        "enterprises.history"}
EDIT = {"enterprises.create", "enterprises.edit", "enterprises.archive", "enterprises.restore",
        "enterprises.contact_new", "enterprises.contact_edit", "enterprises.contact_archive",
        "founding.move"}
SELF = {"auth.logout"}  # any logged-in user, POST only
ROLES = ("staff", "supervisor", "viewer", "admin")
ALLOWED = {"read": set(ROLES), "edit": {"staff", "supervisor", "admin"}, "admin": {"admin"}}


def kind_of(endpoint):
    if endpoint.startswith("admin."):
        return "admin"
    if endpoint in READ:
        return "read"
    if endpoint in EDIT:
        return "edit"
    if endpoint in SELF | PUBLIC:
        return None
    raise AssertionError(f"endpoint {endpoint} is not classified in tests/test_routes.py")


@pytest.fixture
def world(make):
    town_a, town_b = make.org("甲镇总工会"), make.org("乙镇总工会")
    users = {role: make.user(role, org=town_a if role != "admin" else make.root()) for role in ROLES}
    mine = make.enterprise(org=town_a, name="甲镇企业", contact={"name": "甲联系人", "phone": "13800000001"})
    theirs = make.enterprise(org=town_b, name="乙镇企业", contact={"name": "乙联系人", "phone": "13800000002"})
    return {"users": users, "mine": mine, "theirs": theirs, "unit": town_b}


def build(rule, ent, world):
    values = {}
    for arg in rule.arguments:
        if arg == "ent_id":
            values[arg] = ent.id
        elif arg == "contact_id":
            values[arg] = Contact.get(Contact.enterprise == ent).id
        elif "unit" in arg or arg == "org_id":
            values[arg] = world["unit"].id
        elif "user" in arg:
            values[arg] = world["users"]["staff"].id
        elif arg == "filename":
            return None
        else:
            raise AssertionError(f"route {rule.rule} has an unknown argument {arg}")
    path = rule.rule
    for arg, value in values.items():
        path = path.replace(f"<int:{arg}>", str(value)).replace(f"<{arg}>", str(value))
    if rule.endpoint == "founding.move":
        path += "?to=contacted"
    return path


def rules(app):
    return [r for r in app.url_map.iter_rules() if kind_of(r.endpoint)]


def test_every_endpoint_is_classified(app):
    for rule in app.url_map.iter_rules():
        kind_of(rule.endpoint)


def test_anonymous_is_sent_to_login(app, world):
    client = app.test_client()
    for rule in rules(app):
        path = build(rule, world["mine"], world)
        if "GET" in rule.methods:
            resp = client.get(path)
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
        else:
            token = csrf_token(client, "/login")
            resp = client.post(path, data={"csrf_token": token})
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], path


@pytest.mark.parametrize("role", ROLES)
def test_role_in_and_out_of_scope(app, world, role):
    user = world["users"][role]
    client = login_as(app.test_client(), user)
    token = csrf_token(client, "/")
    checked = 0
    for rule in rules(app):
        kind = kind_of(rule.endpoint)
        allowed = role in ALLOWED[kind]
        targets = [("mine", world["mine"])]
        if "ent_id" in rule.arguments:
            targets.append(("theirs", world["theirs"]))
        for where, ent in targets:
            path = build(rule, ent, world)
            if path is None:
                continue
            out_of_scope = where == "theirs" and role != "admin"
            if "GET" in rule.methods:
                status = client.get(path).status_code
                if not allowed:
                    expected = {403}
                elif out_of_scope:
                    expected = {404}
                else:
                    expected = {200}
                assert status in expected, f"{role} GET {path}: {status}, expected {expected}"
                checked += 1
            if "POST" in rule.methods and (not allowed or out_of_scope):
                status = client.post(path, data={"csrf_token": token}).status_code
                expected = {403} if not allowed else {404}
                assert status in expected, f"{role} POST {path}: {status}, expected {expected}"
                checked += 1
    assert checked >= 20


def test_forbidden_buttons_are_absent_for_viewer(app, world):
    client = login_as(app.test_client(), world["users"]["viewer"])
    html = client.get(f"/enterprises/{world['mine'].id}").get_data(as_text=True)
    for label in ("编辑档案", "添加联系人", "推进到", "归档"):
        assert label not in html
    nav = client.get("/").get_data(as_text=True)
    assert "用户管理" not in nav and "新建档案" not in nav
