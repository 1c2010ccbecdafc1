"""Admin pages: the org-unit tree and user accounts (admin role only)."""
import re

import pytest
from werkzeug.security import check_password_hash

from crm.auth.models import User
from crm.org.models import OrgUnit
from tests.conftest import PASSWORD, csrf_token, login_as, post_form

NEW_PASSWORD = "Another-Strong-2026"


@pytest.fixture
def admin(client, make):
    user = make.user("admin", username="boss")
    login_as(client, user)
    return user


def reload(model_obj):
    return type(model_obj).get_by_id(model_obj.id)


def html(resp):
    return resp.get_data(as_text=True)


# ---- org units ---------------------------------------------------------------------------

def test_tree_lists_units_in_order_with_kind_and_user_counts(client, make, admin):
    town = make.org("青云店镇总工会", "town")
    station = make.org("青云店镇第一服务站", "station", town)
    make.user("staff", station)
    make.user("staff", station, active=False)
    resp = client.get("/admin/org-units")
    assert resp.status_code == 200
    body = html(resp)
    assert body.index("测试区总工会") < body.index("青云店镇总工会") < body.index("青云店镇第一服务站")
    assert "镇总工会" in body and "服务站" in body
    row = body[body.index(f'id="unit-{station.id}"'):]
    row = row[:row.index("</tr>")]
    assert "1 人" in row and "另有停用 1" in row and "org-depth-2" in row


def test_admin_adds_unit(client, make, admin):
    root = make.root()
    resp = post_form(client, "/admin/org-units/new",
                     {"name": "  魏善庄镇总工会 ", "kind": "town", "parent": root.id})
    assert resp.status_code == 302
    unit = OrgUnit.get(OrgUnit.name == "魏善庄镇总工会")
    assert unit.parent_id == root.id and unit.kind == "town" and unit.depth == 1
    assert unit.path.startswith(root.path) and unit.active
    assert "魏善庄镇总工会" in html(client.get("/admin/org-units"))


def test_add_unit_form_preselects_parent(client, make, admin):
    town = make.org("庞各庄镇总工会", "town")
    body = html(client.get(f"/admin/org-units/new?parent={town.id}"))
    assert re.search(rf'<option selected value="{town.id}">', body) or \
        re.search(rf'<option value="{town.id}" selected>', body)


def test_add_unit_duplicate_name_refused_and_form_kept(client, make, admin):
    make.org("礼贤镇总工会", "town")
    before = OrgUnit.select().count()
    resp = post_form(client, "/admin/org-units/new",
                     {"name": "礼贤镇总工会", "kind": "street", "parent": make.root().id},
                     token_from="/admin/org-units/new")
    assert resp.status_code == 200
    body = html(resp)
    assert "单位名称已存在：礼贤镇总工会" in body and "is-invalid" in body
    assert 'value="礼贤镇总工会"' in body
    assert re.search(r'<option selected value="street">', body)
    assert OrgUnit.select().count() == before


def test_add_unit_requires_name(client, make, admin):
    before = OrgUnit.select().count()
    resp = post_form(client, "/admin/org-units/new",
                     {"name": " ", "kind": "town", "parent": make.root().id})
    assert resp.status_code == 200 and "请填写单位名称" in html(resp)
    assert OrgUnit.select().count() == before


def test_second_root_not_offered_nor_accepted(client, make, admin):
    body = html(client.get("/admin/org-units/new"))
    assert "作为顶级单位" not in body
    resp = post_form(client, "/admin/org-units/new",
                     {"name": "第二个区总工会", "kind": "district", "parent": "0"})
    assert resp.status_code == 200 and "is-invalid" in html(resp)
    assert not OrgUnit.select().where(OrgUnit.name == "第二个区总工会").exists()


def test_admin_renames_unit(client, make, admin):
    town = make.org("旧名镇总工会", "town")
    path_before = town.path
    assert 'value="旧名镇总工会"' in html(client.get(f"/admin/org-units/{town.id}/rename"))
    resp = post_form(client, f"/admin/org-units/{town.id}/rename", {"name": "新名镇总工会"})
    assert resp.status_code == 302
    town = reload(town)
    assert town.name == "新名镇总工会" and town.path == path_before


def test_rename_to_existing_name_refused(client, make, admin):
    make.org("甲镇总工会", "town")
    b = make.org("乙镇总工会", "town")
    resp = post_form(client, f"/admin/org-units/{b.id}/rename", {"name": "甲镇总工会"})
    assert resp.status_code == 200
    assert "单位名称已存在：甲镇总工会" in html(resp) and 'value="甲镇总工会"' in html(resp)
    assert reload(b).name == "乙镇总工会"


def test_admin_moves_unit_and_subtree_paths_follow(client, make, admin):
    town_a = make.org("甲镇总工会", "town")
    town_b = make.org("乙镇总工会", "town")
    station = make.org("甲镇服务站", "station", town_a)
    grandchild = make.org("甲镇服务站分站", "station", station)
    resp = post_form(client, f"/admin/org-units/{station.id}/move", {"parent": town_b.id})
    assert resp.status_code == 302
    station, grandchild, town_b = reload(station), reload(grandchild), reload(town_b)
    assert station.parent_id == town_b.id
    assert station.path.startswith(town_b.path)
    assert grandchild.path.startswith(town_b.path) and grandchild.path.startswith(station.path)
    assert grandchild.depth == town_b.depth + 2
    assert not grandchild.path.startswith(reload(town_a).path)


def test_move_under_own_subtree_refused(client, make, admin):
    town = make.org("甲镇总工会", "town")
    station = make.org("甲镇服务站", "station", town)
    form_page = html(client.get(f"/admin/org-units/{town.id}/move"))
    assert f'value="{station.id}"' not in form_page  # not offered
    resp = post_form(client, f"/admin/org-units/{town.id}/move", {"parent": station.id})
    assert resp.status_code == 200 and "is-invalid" in html(resp)
    assert reload(town).parent_id == make.root().id


def test_root_cannot_be_moved_or_deactivated(client, make, admin):
    root = make.root()
    other = make.org("甲镇总工会", "town")
    resp = post_form(client, f"/admin/org-units/{root.id}/move", {"parent": other.id},
                     token_from="/admin/org-units")
    assert resp.status_code == 302
    resp = post_form(client, f"/admin/org-units/{root.id}/deactivate", {},
                     token_from="/admin/org-units")
    assert resp.status_code == 302
    assert "不能停用顶级单位" in html(client.get("/admin/org-units"))
    root = reload(root)
    assert root.parent_id is None and root.active


def test_deactivate_refused_while_unit_has_active_users_then_works(client, make, admin):
    town = make.org("甲镇总工会", "town")
    staff = make.user("staff", town)
    resp = post_form(client, f"/admin/org-units/{town.id}/deactivate", {}, token_from="/admin/org-units")
    assert resp.status_code == 302
    assert reload(town).active
    assert "该单位还有在用的账号" in html(client.get("/admin/org-units"))

    User.update(active=False).where(User.id == staff.id).execute()
    resp = post_form(client, f"/admin/org-units/{town.id}/deactivate", {}, token_from="/admin/org-units")
    assert resp.status_code == 302
    assert not reload(town).active
    body = html(client.get("/admin/org-units"))
    assert "已停用：甲镇总工会" in body
    # Deactivated units are no longer offered as a parent or a user's unit.
    assert f'value="{town.id}"' not in html(client.get("/admin/org-units/new"))
    assert f'value="{town.id}"' not in html(client.get("/admin/users/new"))

    resp = post_form(client, f"/admin/org-units/{town.id}/reactivate", {}, token_from="/admin/org-units")
    assert resp.status_code == 302 and reload(town).active


def test_deactivate_is_post_only(client, make, admin):
    town = make.org("甲镇总工会", "town")
    assert client.get(f"/admin/org-units/{town.id}/deactivate").status_code == 405
    assert reload(town).active


def test_missing_records_404(client, make, admin):
    for path in ("/admin/org-units/9999/rename", "/admin/org-units/9999/move",
                 "/admin/users/9999/edit", "/admin/users/9999/password"):
        assert client.get(path).status_code == 404, path
    resp = post_form(client, "/admin/org-units/9999/deactivate", {}, token_from="/admin/org-units")
    assert resp.status_code == 404


# ---- users ---------------------------------------------------------------------------------

def _new_user_data(org, **changes):
    data = {"username": "zhangsan", "name": "张三", "role": "staff", "org_unit": org.id,
            "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    data.update(changes)
    return data


def test_users_list_and_filters(client, make, admin):
    town = make.org("甲镇总工会", "town")
    station = make.org("甲镇服务站", "station", town)
    other = make.org("乙镇总工会", "town")
    make.user("staff", station, username="in_station", name="站内干部")
    make.user("supervisor", town, username="town_boss", name="镇主管")
    make.user("staff", other, username="elsewhere", name="别处干部")
    body = html(client.get("/admin/users"))
    assert all(n in body for n in ("in_station", "town_boss", "elsewhere", "boss"))
    assert "走访干部" in body and "区总工会管理员" in body and "从未登录" in body

    body = html(client.get(f"/admin/users?org={town.id}"))  # the unit and everything below it
    assert "in_station" in body and "town_boss" in body and "elsewhere" not in body

    body = html(client.get(f"/admin/users?org={town.id}&role=staff"))
    assert "in_station" in body and "town_boss" not in body

    body = html(client.get("/admin/users?role=nonsense&org=abc"))  # junk filters are ignored
    assert "elsewhere" in body


def test_admin_creates_user(client, make, admin):
    town = make.org("甲镇总工会", "town")
    resp = post_form(client, "/admin/users/new", _new_user_data(town, role="supervisor"))
    assert resp.status_code == 302
    user = User.get(User.username == "zhangsan")
    assert user.role == "supervisor" and user.org_unit_id == town.id and user.name == "张三"
    assert user.active and check_password_hash(user.password_hash, NEW_PASSWORD)
    assert "已创建用户" in html(client.get(resp.headers["Location"]))


def test_duplicate_username_refused_and_form_kept(client, make, admin):
    town = make.org("甲镇总工会", "town")
    make.user("staff", town, username="zhangsan")
    resp = post_form(client, "/admin/users/new",
                     _new_user_data(town, username="ZhangSan", name="另一个张三", role="viewer"))
    assert resp.status_code == 200
    body = html(resp)
    assert "用户名已存在：ZhangSan" in body and "is-invalid" in body
    assert 'value="ZhangSan"' in body and 'value="另一个张三"' in body
    assert re.search(r'<option selected value="viewer">', body)
    assert User.select().where(User.name == "另一个张三").count() == 0


@pytest.mark.parametrize("password, message", [
    ("short1A", "密码至少需要 10 个字符"),
    ("1234567890", "密码过于简单"),
    ("zhangsan-2026!", "密码不能包含用户名"),
])
def test_weak_password_refused(client, make, admin, password, message):
    town = make.org("甲镇总工会", "town")
    resp = post_form(client, "/admin/users/new",
                     _new_user_data(town, password=password, confirm=password))
    assert resp.status_code == 200
    assert message in html(resp)
    assert not User.select().where(User.username == "zhangsan").exists()


def test_password_confirmation_must_match(client, make, admin):
    town = make.org("甲镇总工会", "town")
    resp = post_form(client, "/admin/users/new", _new_user_data(town, confirm=NEW_PASSWORD + "x"))
    assert resp.status_code == 200 and "两次输入的密码不一致" in html(resp)
    assert not User.select().where(User.username == "zhangsan").exists()


def test_edit_role_and_org_changes_only_those(client, make, admin):
    town = make.org("甲镇总工会", "town")
    other = make.org("乙镇总工会", "town")
    user = make.user("staff", town, username="lisi", name="李四")
    before = reload(user)
    page = html(client.get(f"/admin/users/{user.id}/edit"))
    assert 'value="李四"' in page
    resp = post_form(client, f"/admin/users/{user.id}/edit",
                     {"name": "李四", "role": "supervisor", "org_unit": other.id, "active": "y"})
    assert resp.status_code == 302
    after = reload(user)
    assert after.role == "supervisor" and after.org_unit_id == other.id
    assert after.name == "李四" and after.username == "lisi" and after.active
    assert after.password_hash == before.password_hash
    assert after.password_changed_at == before.password_changed_at
    assert after.session_version == before.session_version + 1  # their sessions end once


def test_edit_name_only_keeps_sessions(client, make, admin):
    town = make.org("甲镇总工会", "town")
    user = make.user("staff", town, username="lisi", name="李四")
    other_client = client.application.test_client()
    login_as(other_client, user)
    resp = post_form(client, f"/admin/users/{user.id}/edit",
                     {"name": "李四（改）", "role": "staff", "org_unit": town.id, "active": "y"})
    assert resp.status_code == 302
    after = reload(user)
    assert after.name == "李四（改）" and after.session_version == user.session_version
    assert other_client.get("/").status_code == 200


def test_edit_deactivates_user_and_ends_their_session(client, make, admin):
    town = make.org("甲镇总工会", "town")
    user = make.user("staff", town)
    other_client = client.application.test_client()
    login_as(other_client, user)
    assert other_client.get("/").status_code == 200
    resp = post_form(client, f"/admin/users/{user.id}/edit",
                     {"name": user.name, "role": "staff", "org_unit": town.id})  # switch off
    assert resp.status_code == 302
    assert not reload(user).active
    resp = other_client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_admin_cannot_deactivate_self_or_drop_own_admin_role(client, make, admin):
    root = make.root()
    resp = post_form(client, f"/admin/users/{admin.id}/edit",
                     {"name": admin.name, "role": "admin", "org_unit": root.id})
    assert resp.status_code == 200 and "不能停用自己的账号" in html(resp)
    resp = post_form(client, f"/admin/users/{admin.id}/edit",
                     {"name": admin.name, "role": "staff", "org_unit": root.id, "active": "y"})
    assert resp.status_code == 200 and "不能取消自己的管理员角色" in html(resp)
    me = reload(admin)
    assert me.active and me.role == "admin" and me.session_version == admin.session_version
    assert client.get("/admin/users").status_code == 200


def test_admin_edits_own_org_and_stays_logged_in(client, make, admin):
    town = make.org("甲镇总工会", "town")
    resp = post_form(client, f"/admin/users/{admin.id}/edit",
                     {"name": "新名字", "role": "admin", "org_unit": town.id, "active": "y"})
    assert resp.status_code == 302
    me = reload(admin)
    assert me.org_unit_id == town.id and me.name == "新名字"
    assert client.get("/admin/users").status_code == 200


def test_reset_password_typed_ends_sessions(client, make, admin):
    user = make.user("staff", username="wangwu")
    other_client = client.application.test_client()
    login_as(other_client, user)
    assert other_client.get("/").status_code == 200
    resp = post_form(client, f"/admin/users/{user.id}/password",
                     {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert resp.status_code == 200
    body = html(resp)
    assert "密码已重置" in body and NEW_PASSWORD not in body
    after = reload(user)
    assert check_password_hash(after.password_hash, NEW_PASSWORD)
    assert not check_password_hash(after.password_hash, PASSWORD)
    resp = other_client.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_reset_password_generated_is_shown_once(client, make, admin):
    user = make.user("staff", username="zhaoliu")
    other_client = client.application.test_client()
    login_as(other_client, user)
    resp = post_form(client, f"/admin/users/{user.id}/password", {"password": "", "confirm": ""})
    assert resp.status_code == 200
    assert "no-store" in resp.headers["Cache-Control"]
    match = re.search(r'id="generated-password">([^<]+)<', html(resp))
    assert match
    generated = match.group(1)
    assert len(generated) >= 10
    assert check_password_hash(reload(user).password_hash, generated)
    assert other_client.get("/").status_code == 302
    # It is not kept anywhere: the user list does not show it.
    assert generated not in html(client.get("/admin/users"))


def test_reset_password_weak_or_mismatched_refused(client, make, admin):
    user = make.user("staff", username="zhaoliu")
    hash_before = user.password_hash
    resp = post_form(client, f"/admin/users/{user.id}/password",
                     {"password": "1234567890", "confirm": "1234567890"})
    assert resp.status_code == 200 and "密码过于简单" in html(resp)
    resp = post_form(client, f"/admin/users/{user.id}/password",
                     {"password": NEW_PASSWORD, "confirm": "different-one-2026"})
    assert resp.status_code == 200 and "两次输入的密码不一致" in html(resp)
    assert reload(user).password_hash == hash_before


def test_reset_own_password_goes_to_change_password(client, make, admin):
    resp = client.get(f"/admin/users/{admin.id}/password")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/password")
    assert reload(admin).password_hash == admin.password_hash


# ---- access --------------------------------------------------------------------------------

def _routes(make):
    """(GET paths, POST paths with data) for every admin route, on real records."""
    town = make.org("甲镇总工会", "town")
    other = make.org("乙镇总工会", "town")
    victim = make.user("staff", town, username="victim")
    gets = ["/admin/org-units", "/admin/org-units/new", f"/admin/org-units/{town.id}/rename",
            f"/admin/org-units/{town.id}/move", "/admin/users", "/admin/users/new",
            f"/admin/users/{victim.id}/edit", f"/admin/users/{victim.id}/password"]
    posts = [
        ("/admin/org-units/new", {"name": "偷建单位", "kind": "town", "parent": town.id}),
        (f"/admin/org-units/{town.id}/rename", {"name": "被改名"}),
        (f"/admin/org-units/{town.id}/move", {"parent": other.id}),
        (f"/admin/org-units/{other.id}/deactivate", {}),
        (f"/admin/org-units/{other.id}/reactivate", {}),
        ("/admin/users/new", _new_user_data(town, username="intruder")),
        (f"/admin/users/{victim.id}/edit", {"name": "x", "role": "admin", "org_unit": town.id,
                                            "active": "y"}),
        (f"/admin/users/{victim.id}/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    ]
    return gets, posts, town, other, victim


@pytest.mark.parametrize("role", ["staff", "supervisor", "viewer"])
def test_non_admins_get_403_everywhere(client, make, role):
    gets, posts, town, other, victim = _routes(make)
    login_as(client, make.user(role, town))
    for path in gets:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/")
    for path, data in posts:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert reload(town).name == "甲镇总工会" and reload(town).parent_id == make.root().id
    assert reload(other).active
    assert not OrgUnit.select().where(OrgUnit.name == "偷建单位").exists()
    assert not User.select().where(User.username == "intruder").exists()
    v = reload(victim)
    assert v.role == "staff" and v.password_hash == victim.password_hash


def test_anonymous_redirected_to_login(client, make):
    gets, posts, *_ = _routes(make)
    for path in gets:
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    token = csrf_token(client, "/login")
    for path, data in posts:
        resp = client.post(path, data={**data, "csrf_token": token})
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path
    assert not User.select().where(User.username == "intruder").exists()


def test_posts_without_csrf_token_refused(client, make, admin):
    town = make.org("甲镇总工会", "town")
    resp = client.post(f"/admin/org-units/{town.id}/rename", data={"name": "无令牌"})
    assert resp.status_code == 400
    assert reload(town).name == "甲镇总工会"


def test_nav_shows_admin_links_only_to_admins(client, make, admin):
    body = html(client.get("/"))
    assert "/admin/org-units" in body and "/admin/users" in body
    login_as(client, make.user("supervisor"))
    body = html(client.get("/"))
    assert "/admin/org-units" not in body


def test_cannot_reactivate_under_inactive_parent(make):
    import pytest
    from crm.common.errors import ServiceError
    from crm.org.services import set_active
    town = make.org("停用测试镇总工会")
    station = make.org("停用测试服务站", "station", town)
    set_active(station, False)
    set_active(town, False)
    with pytest.raises(ServiceError, match="上级单位已停用"):
        set_active(station, True)
