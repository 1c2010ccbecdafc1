"""The enterprise file: create, validate, edit with versions, history, archive, contacts."""
import re

from crm.enterprises.models import Contact, Enterprise, EnterpriseChange
from crm.founding.models import FoundingEvent
from tests.conftest import csrf_token, login_as

VALID = "91350100M000100Y43"


def form_data(org, **over):
    data = {"name": "北京顺丰速运大兴营业部", "org_unit": str(org.id), "credit_code": "",
            "address": "大兴区黄村镇兴华大街1号", "area": "", "industry": "G", "kind": "llc",
            "category": "express", "employees": "30", "new_form_workers": "20", "legal_rep": "",
            "party_org": "", "union_name": "", "union_founded_on": "", "union_chair": "",
            "member_count": "", "union_credit_code": "", "union_term_end": "", "union_form": "",
            "status": "normal", "tags": "", "notes": "", "initial_stage": "not_contacted",
            "contact_name": "", "contact_title": "", "contact_phone": ""}
    data.update(over)
    return data


def post(client, path, data, token_path=None):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_path or path)})


def edit_data(ent, **over):
    data = form_data(ent.org_unit, name=ent.name, credit_code=ent.credit_code or "",
                     address=ent.address, industry=ent.industry, kind=ent.kind, category=ent.category,
                     employees="" if ent.employees is None else str(ent.employees),
                     new_form_workers="" if ent.new_form_workers is None else str(ent.new_form_workers),
                     version=str(ent.version))
    for key in ("initial_stage", "contact_name", "contact_title", "contact_phone"):
        data.pop(key)
    data.update(over)
    return data


def test_create_with_contact_records_creation(client, make):
    user = make.user("staff")
    login_as(client, user)
    resp = post(client, "/enterprises/new", form_data(user.org_unit, credit_code=" 91350100m000100y43 ",
                                                      contact_name="张经理", contact_phone="13812341234"))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    ent = Enterprise.get(Enterprise.name == "北京顺丰速运大兴营业部")
    assert ent.credit_code == VALID  # normalised to upper case
    assert ent.employees == 30 and ent.category == "express" and ent.version == 1
    assert Contact.get(Contact.enterprise == ent).is_primary
    assert FoundingEvent.get(FoundingEvent.enterprise == ent).kind == "initial"
    page = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert "变更记录" in page and "建档" in page and "13812341234" in page  # full phone on the file


def test_wrong_credit_code_rejected_next_to_field_and_form_kept(client, make):
    user = make.user("staff")
    login_as(client, user)
    resp = post(client, "/enterprises/new", form_data(user.org_unit, credit_code="91350100M000100Y4Z",
                                                      address="保留的地址123号"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert re.search(r'id="credit_code"[^>]*is-invalid|is-invalid[^>]*id="credit_code"', html)
    assert "校验位错误" in html
    assert 'value="保留的地址123号"' in html and 'value="91350100M000100Y4Z"' in html
    assert Enterprise.select().count() == 0


def test_duplicate_code_refused(client, make):
    user = make.user("staff")
    make.enterprise(org=user.org_unit, credit_code=VALID, name="已有企业")
    login_as(client, user)
    resp = post(client, "/enterprises/new", form_data(user.org_unit, name="另一家企业", credit_code=VALID))
    assert resp.status_code == 200
    assert "已登记在另一份企业档案中" in resp.get_data(as_text=True)
    assert Enterprise.select().count() == 1


def test_bad_numbers_and_missing_name(client, make):
    user = make.user("staff")
    login_as(client, user)
    html = post(client, "/enterprises/new", form_data(user.org_unit, name="", employees="-3",
                                                      new_form_workers="abc")).get_data(as_text=True)
    assert "请填写企业名称" in html and "不能为负数" in html and "请填写整数" in html
    assert Enterprise.select().count() == 0


def test_bad_phone_rejected(client, make):
    user = make.user("staff")
    login_as(client, user)
    html = post(client, "/enterprises/new", form_data(user.org_unit, contact_name="李",
                                                      contact_phone="12345")).get_data(as_text=True)
    assert "请填写有效的手机号" in html


def test_near_duplicate_name_warns_before_saving(client, make):
    user = make.user("staff")
    other = make.org("另一个镇总工会")
    make.enterprise(org=other, name="北京京东世纪贸易有限公司（大兴分公司）")
    login_as(client, user)
    data = form_data(user.org_unit, name="北京京东世纪贸易有限公司 (大兴分公司)")
    html = post(client, "/enterprises/new", data).get_data(as_text=True)
    assert "可能重复的档案" in html and "另一个镇总工会" in html
    assert Enterprise.select().count() == 1
    # Confirming (second save with the same name) creates it.
    resp = post(client, "/enterprises/new", {**data, "confirm_duplicate": data["name"]})
    assert resp.status_code == 302 and Enterprise.select().count() == 2


def test_each_field_change_in_history(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user, name="原名称有限公司", employees=10)
    login_as(client, user)
    resp = post(client, f"/enterprises/{ent.id}/edit",
                edit_data(ent, name="新名称有限公司", employees="12", is_key="y", credit_code=VALID))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    ent = Enterprise.get_by_id(ent.id)
    assert ent.version == 2 and ent.name == "新名称有限公司" and ent.is_key
    changes = {c.field: (c.old_value, c.new_value, c.user_id, c.version)
               for c in EnterpriseChange.select().where(EnterpriseChange.enterprise == ent, EnterpriseChange.version == 2)}
    assert changes == {"name": ("原名称有限公司", "新名称有限公司", user.id, 2),
                       "employees": ("10", "12", user.id, 2),
                       "is_key": ("否", "是", user.id, 2),
                       "credit_code": ("", VALID, user.id, 2)}
    history = client.get(f"/enterprises/{ent.id}/history").get_data(as_text=True)
    for text in ("企业名称", "原名称有限公司", "新名称有限公司", "职工人数", "区级重点企业", user.name):
        assert text in history


def test_stale_edit_shows_conflict_and_overwrites_nothing(app, make):
    a, b = make.user("staff"), None
    b = make.user("staff", org=a.org_unit)
    ent = make.enterprise(org=a.org_unit, user=a, name="冲突测试有限公司", address="旧地址")
    ca, cb = login_as(app.test_client(), a), login_as(app.test_client(), b)
    token_a = csrf_token(ca, f"/enterprises/{ent.id}/edit")
    token_b = csrf_token(cb, f"/enterprises/{ent.id}/edit")
    assert cb.post(f"/enterprises/{ent.id}/edit",
                   data={**edit_data(ent, address="B写的地址"), "csrf_token": token_b}).status_code == 302
    resp = ca.post(f"/enterprises/{ent.id}/edit",
                   data={**edit_data(ent, address="A写的地址"), "csrf_token": token_a})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "保存冲突" in html and "A写的地址" in html and "B写的地址" in html
    assert Enterprise.get_by_id(ent.id).address == "B写的地址"
    assert Enterprise.get_by_id(ent.id).version == 2
    # The form now carries the current version: saving again is a deliberate overwrite.
    assert 'name="version" type="hidden" value="2"' in html
    resp = ca.post(f"/enterprises/{ent.id}/edit",
                   data={**edit_data(ent, address="A写的地址", version="2"), "csrf_token": token_a})
    assert resp.status_code == 302 and Enterprise.get_by_id(ent.id).address == "A写的地址"


def test_service_conflict_on_stale_version(app, make):
    import pytest
    from crm.enterprises.services import ConflictError, update_enterprise
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user)
    update_enterprise(ent.id, {"address": "一"}, user, expected_version=1)
    with pytest.raises(ConflictError) as err:
        update_enterprise(ent.id, {"address": "二"}, user, expected_version=1)
    assert err.value.current.address == "一"
    assert Enterprise.get_by_id(ent.id).address == "一"


def test_archive_keeps_file_readable_and_restorable(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user, name="将归档企业")
    login_as(client, user)
    resp = post(client, f"/enterprises/{ent.id}/archive", {"reason": "企业已注销"}, f"/enterprises/{ent.id}")
    assert resp.status_code == 302
    ent = Enterprise.get_by_id(ent.id)
    assert ent.archived and Enterprise.select().count() == 1
    page = client.get(f"/enterprises/{ent.id}")
    assert page.status_code == 200 and "已归档" in page.get_data(as_text=True)
    assert "将归档企业" not in client.get("/enterprises/").get_data(as_text=True)
    assert "将归档企业" in client.get("/enterprises/?archived=1").get_data(as_text=True)
    assert EnterpriseChange.select().where(EnterpriseChange.field == "archived").count() == 1
    post(client, f"/enterprises/{ent.id}/restore", {}, f"/enterprises/{ent.id}")
    assert not Enterprise.get_by_id(ent.id).archived


def test_archive_needs_reason(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user)
    login_as(client, user)
    post(client, f"/enterprises/{ent.id}/archive", {"reason": ""}, f"/enterprises/{ent.id}")
    assert not Enterprise.get_by_id(ent.id).archived


def test_contacts_masked_in_list_full_on_file(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user, name="联系人测试企业",
                          contact={"name": "王主任", "phone": "13912345678"})
    login_as(client, user)
    listing = client.get("/enterprises/").get_data(as_text=True)
    assert "139****5678" in listing and "13912345678" not in listing
    assert "13912345678" in client.get(f"/enterprises/{ent.id}").get_data(as_text=True)


def test_contact_add_edit_remove_recorded(client, make):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, user=user)
    login_as(client, user)
    path = f"/enterprises/{ent.id}/contacts/new"
    assert post(client, path, {"name": "赵会计", "title": "会计", "phone": "010-69241234"}).status_code == 302
    assert post(client, path, {"name": "钱", "phone": "999"}).status_code == 200  # bad phone kept in form
    contact = Contact.get(Contact.name == "赵会计")
    assert contact.is_primary  # the first contact becomes primary
    edit = f"/enterprises/{ent.id}/contacts/{contact.id}/edit"
    assert post(client, edit, {"name": "赵会计", "title": "财务主管", "phone": "13800001111",
                               "is_primary": "y"}).status_code == 302
    post(client, f"/enterprises/{ent.id}/contacts/{contact.id}/archive", {}, f"/enterprises/{ent.id}")
    assert Contact.get_by_id(contact.id).archived
    rows = [c.new_value for c in EnterpriseChange.select().where(EnterpriseChange.field == "contact")
            .order_by(EnterpriseChange.id)]
    assert len(rows) == 3 and "财务主管" in rows[1] and rows[2] == "（已移除）"
    # Search text follows contacts: a removed contact is no longer found.
    assert "13800001111" not in Enterprise.get_by_id(ent.id).search_text


def test_viewer_cannot_edit(client, make):
    viewer = make.user("viewer")
    ent = make.enterprise(org=viewer.org_unit)
    login_as(client, viewer)
    page = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert "编辑档案" not in page and "添加联系人" not in page
    assert client.get(f"/enterprises/{ent.id}/edit").status_code == 403
    assert client.get("/enterprises/new").status_code == 403


def test_out_of_scope_is_404(client, make):
    town_a, town_b = make.org("甲镇总工会"), make.org("乙镇总工会")
    staff = make.user("staff", org=town_a)
    ent = make.enterprise(org=town_b, name="乙镇的企业")
    login_as(client, staff)
    for path in (f"/enterprises/{ent.id}", f"/enterprises/{ent.id}/edit", f"/enterprises/{ent.id}/history",
                 f"/enterprises/{ent.id}/stage?to=contacted", f"/enterprises/{ent.id}/contacts/new"):
        assert client.get(path).status_code == 404, path
    assert "乙镇的企业" not in client.get("/enterprises/?q=乙镇").get_data(as_text=True)


def test_subtree_scope_includes_station(client, make):
    town = make.org("丙镇总工会")
    station = make.org("丙镇总工会服务站", "station", town)
    sup = make.user("supervisor", org=town)
    ent = make.enterprise(org=station, name="服务站下的企业")
    login_as(client, sup)
    assert client.get(f"/enterprises/{ent.id}").status_code == 200
    station_staff = make.user("staff", org=station)
    town_ent = make.enterprise(org=town, name="镇直属企业")
    login_as(client, station_staff)
    assert client.get(f"/enterprises/{town_ent.id}").status_code == 404


def test_cannot_move_file_to_unit_outside_scope(client, make):
    town_a, town_b = make.org("丁镇总工会"), make.org("戊镇总工会")
    staff = make.user("staff", org=town_a)
    ent = make.enterprise(org=town_a)
    login_as(client, staff)
    resp = post(client, f"/enterprises/{ent.id}/edit", edit_data(ent, org_unit=str(town_b.id)))
    assert resp.status_code == 200 and "Not a valid choice" not in resp.get_data(as_text=True)
    assert Enterprise.get_by_id(ent.id).org_unit_id == town_a.id


def test_list_filters_stay_in_url_and_filter(client, make):
    user = make.user("supervisor")
    make.enterprise(org=user.org_unit, name="重点制造企业", is_key=True, industry="C")
    make.enterprise(org=user.org_unit, name="普通零售商户", industry="F", category="merchant")
    login_as(client, user)
    html = client.get("/enterprises/?is_key=1").get_data(as_text=True)
    assert "重点制造企业" in html and "普通零售商户" not in html
    html = client.get("/enterprises/?industry=F&category=merchant").get_data(as_text=True)
    assert "普通零售商户" in html and "重点制造企业" not in html
    assert 'value="F" selected' in html  # the filter shows as chosen
    html = client.get("/enterprises/?union_status=founded").get_data(as_text=True)
    assert "没有符合条件的企业档案" in html


def test_pagination_pages_and_bad_page_numbers(client, make, app):
    user = make.user("staff")
    app.config["PAGE_SIZE"] = 5
    for i in range(12):
        make.enterprise(org=user.org_unit, name=f"分页企业{i:02d}")
    login_as(client, user)
    p1 = client.get("/enterprises/?sort=name").get_data(as_text=True)
    p3 = client.get("/enterprises/?sort=name&page=3").get_data(as_text=True)
    assert "分页企业00" in p1 and "分页企业05" not in p1
    assert "分页企业10" in p3 and "分页企业11" in p3 and "共 12 条" in p3
    assert client.get("/enterprises/?page=abc").status_code == 200
    assert client.get("/enterprises/?page=99999").status_code == 200


def test_count_is_capped(client, make, app):
    user = make.user("staff")
    app.config["LIST_COUNT_CAP"] = 3
    for i in range(5):
        make.enterprise(org=user.org_unit, name=f"计数企业{i}")
    login_as(client, user)
    assert "超过 3 条" in client.get("/enterprises/").get_data(as_text=True)
