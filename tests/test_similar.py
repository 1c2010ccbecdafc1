"""可能重复的档案: names that are the same firm once the legal form, the branch words, a region, spaces,
punctuation and full-width forms are set aside, or close by trigram similarity — on the file form's
endpoint, on save, and in the importer's preview; unrelated names are not; a file outside the
user's scope is shown by its name and unit only. Runs on SQLite and on PostgreSQL."""
import pytest

from crm.db import db, is_sqlite
from crm.enterprises import similar
from crm.enterprises.models import Enterprise
from crm.imports import services as imports
from tests.conftest import login_as
from tests.test_enterprises import edit_data, form_data, post

# (a file on record, a name typed for a new one): the same firm.
FOUND = [
    ("圆通速递宜家站", "圆通速递宜家站点"),                       # 站 / 站点
    ("北京安泰包装制品有限公司", "北京安泰包装制品公司"),           # 有限公司 / 公司
    ("ABC科技（北京）有限公司", "ＡＢＣ科技有限公司"),             # full width; a region in brackets
    ("北京华信鑫源商贸有限公司", "北京 华信·鑫源 商贸有限公司"),    # spaces and punctuation
    ("北京京东世纪贸易有限公司", "北京京东世纪贸易有限公司大兴分公司"),  # a branch
    ("好邻居便利店", "好邻居便利门店"),                           # 店 / 门店
    ("味多美西红门店", "味多美西红门门店"),                       # 门店 or 门 + 店: similar cores
    ("北京博远天成医疗器械有限公司", "北京博远天成医疗器戒有限公司"),  # one character mistyped
    ("北京宏达金桥建筑工程有限公司", "北京宏达金桥建筑工程有线公司"),  # the legal form mistyped
    ("鑫鑫水果店", "北京市大兴区鑫鑫水果店"),                     # a leading region
    ("美团外卖瀛海配送站", "美团外卖瀛海站点"),                   # 配送站 / 站点
    ("安泰集团有限公司", "安泰集团"),                             # 集团有限公司 / 集团
]
# (a file on record, a name typed): other firms.
NOT_FOUND = [
    ("圆通速递", "中通快递"),
    ("北京安泰包装", "北京安泰餐饮"),
    ("北京安泰包装制品有限公司", "北京安泰餐饮管理有限公司"),
    ("中通快递大兴站", "中通快递旧宫站"),
    ("物美超市大兴分店", "物美超市旧宫分店"),
    ("张记面馆1号店", "张记面馆2号店"),
    ("圆通速递宜家站", "圆通速递荟聚站"),
    ("北京金桥食品有限公司", "北京金泰食品有限公司"),
    ("京东", "京东方"),
]


def test_the_core_sets_aside_legal_forms_branches_regions_and_punctuation():
    assert similar.core("圆通速递宜家站点") == similar.core("圆通速递宜家站") == "圆通速递宜家"
    assert similar.core("北京安泰包装制品公司") == similar.core("北京安泰包装制品有限公司") == "安泰包装制品"
    assert similar.core("安泰（北京）包装制品有限公司") == "安泰包装制品"
    assert similar.core("北京京东世纪贸易有限公司（大兴分公司）") == "京东世纪贸易"
    assert similar.core("北京京东世纪贸易有限公司大兴分公司") == "京东世纪贸易"
    assert similar.core("星巴克咖啡（荟聚店）") == "星巴克咖啡荟聚"  # what a bracket says otherwise stays
    assert similar.core("ＡＢＣ 科技") == "abc科技"
    assert similar.core("北京店") == "北京"  # never less than two characters
    assert similar.core("（）") == similar.core("") == similar.core(None) == ""


@pytest.mark.parametrize("on_file,typed", FOUND)
def test_same_firm_scores_a_match(on_file, typed):
    assert similar.score(similar.core(typed), similar.core(on_file)) is not None


@pytest.mark.parametrize("on_file,typed", NOT_FOUND)
def test_other_firms_score_no_match(on_file, typed):
    assert similar.score(similar.core(typed), similar.core(on_file)) is None


def test_the_similarity_is_pg_trgms():
    # pg_trgm: similarity('圆通速递宜家', '圆通速递宜家站') = 6 shared of 9 trigrams
    assert similar.similarity("圆通速递宜家", "圆通速递宜家站") == pytest.approx(6 / 9)
    assert similar.similarity("abc", "abc") == 1.0 and similar.similarity("abc", "") == 0.0


@pytest.fixture
def district(make):
    """Two towns; a staff member of the first; every file of FOUND and NOT_FOUND on record in the
    first town, and one file in the second."""
    root = make.root()
    mine, other = make.org("甲镇总工会", parent=root), make.org("乙镇总工会", parent=root)
    staff = make.user("staff", org=mine)
    files = {name: make.enterprise(org=mine, name=name) for name in dict.fromkeys(n for n, _ in FOUND + NOT_FOUND)}
    outside = make.enterprise(org=other, name="北京瀛海兴华机械制造有限公司", credit_code="91350100M000100Y43")
    return {"mine": mine, "other": other, "staff": staff, "files": files, "outside": outside}


def _names(matches):
    return [m.name for m in matches]


def test_find_lists_the_same_firm_and_not_the_others(district):
    for on_file, typed in FOUND:
        assert on_file in _names(similar.find(typed)), typed
    for on_file, typed in NOT_FOUND:
        assert on_file not in _names(similar.find(typed)), typed


def test_find_many_answers_each_name_as_find_does(district):
    typed = [t for _, t in FOUND + NOT_FOUND] + ["", "一家没有的企业"]
    assert [_names(m) for m in similar.find_many(typed)] == [_names(similar.find(t)) for t in typed]


def test_the_same_name_comes_first_and_a_file_does_not_match_itself(district):
    ent = district["files"]["圆通速递宜家站"]
    found = similar.find("圆通速递宜家站")
    assert found[0].id == ent.id and found[0].same_name and found[0].score == 1.0
    assert ent.id not in [m.id for m in similar.find("圆通速递宜家站", exclude_id=ent.id)]


def test_a_rename_is_found_by_its_new_name_only(district, make):
    from crm.enterprises.services import update_enterprise
    ent = district["files"]["好邻居便利店"]
    update_enterprise(ent.id, {"name": "鸿运来超市"}, district["staff"], ent.version)
    assert ent.id not in [m.id for m in similar.find("好邻居便利店")]
    assert ent.id in [m.id for m in similar.find("鸿运来超市有限公司")]
    assert Enterprise.get_by_id(ent.id).name_core == "鸿运来超市"


def test_files_sharing_only_common_trigrams_are_not_candidates(make):
    """A hundred files share 餐饮管理 with the name typed; the one that also shares its rare part is
    the only candidate read (SQLite counts the shared trigrams in the index; PostgreSQL's GIN index
    does the same), and the only match."""
    org = make.org("丙镇总工会")
    for i in range(100):
        make.enterprise(org=org, name=f"北京{chr(0x4E00 + i * 7)}{chr(0x4E10 + i * 3)}餐饮管理有限公司")
    target = make.enterprise(org=org, name="北京瀛嘉汇餐饮管理有限公司")
    core = similar.core("北京瀛嘉汇餐饮管理公司")
    assert list(similar._candidates([core])[core]) == [target.id]
    assert _names(similar.find("北京瀛嘉汇餐饮管理公司")) == [target.name]
    if is_sqlite():
        docs = dict(db.execute_sql(f"SELECT term, doc FROM {similar.SQLITE_VOCAB}").fetchall())
        looked, at_least = similar.lookup_plan(core, docs)
        assert at_least == similar.needed(core) > 1 and "瀛嘉汇" in looked


def test_the_index_finds_every_match_a_comparison_with_every_file_finds(make):
    """The candidates never miss: find() equals comparing the name with every file's core."""
    import random
    rng = random.Random(7)
    org = make.org("丁镇总工会")
    words = ["安泰", "恒通", "宏达", "金桥", "瀛海", "宜家", "圆通", "速递", "包装", "制品", "餐饮", "物流", "科技",
             "旧宫", "西红门", "便利", "超市", "面馆"]
    suffixes = ["有限公司", "公司", "站", "站点", "店", "门店", "分公司", "", "（北京）有限公司", "服务站"]
    names = {"北京" * rng.randint(0, 1) + "".join(rng.sample(words, rng.randint(1, 4))) + rng.choice(suffixes)
             for _ in range(150)}
    files = [make.enterprise(org=org, name=name) for name in sorted(names)]
    cores = {f.id: similar.core(f.name) for f in files}
    for query in sorted(names)[:60] + ["".join(rng.sample(words, 3)) + "站" for _ in range(20)]:
        wanted = {i for i, c in cores.items() if similar.score(similar.core(query), c) is not None}
        assert {m.id for m in similar.find(query, limit=1000)} == wanted, query


# ---- the endpoint -------------------------------------------------------------------------------

def test_endpoint_lists_files_in_scope_in_full_and_others_by_name_and_unit(client, district):
    login_as(client, district["staff"])
    resp = client.get("/enterprises/similar", query_string={"name": "圆通速递宜家站点"})
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    ent = district["files"]["圆通速递宜家站"]
    assert resp.json["items"][0] == {"id": ent.id, "name": "圆通速递宜家站", "unit": "甲镇总工会", "credit_code": "",
                                     "archived": False, "same_name": False, "score": 100, "in_scope": True,
                                     "url": f"/enterprises/{ent.id}"}
    outside = client.get("/enterprises/similar", query_string={"name": "北京瀛海兴化机械制造有限公司"}).json["items"]
    assert outside == [{"name": "北京瀛海兴华机械制造有限公司", "unit": "乙镇总工会", "in_scope": False}]


@pytest.mark.parametrize("on_file,typed", FOUND)
def test_endpoint_finds_each_case(client, district, on_file, typed):
    login_as(client, district["staff"])
    items = client.get("/enterprises/similar", query_string={"name": typed}).json["items"]
    assert on_file in [i["name"] for i in items]


def test_endpoint_does_not_list_unrelated_names(client, district):
    login_as(client, district["staff"])
    for on_file, typed in NOT_FOUND:
        items = client.get("/enterprises/similar", query_string={"name": typed}).json["items"]
        assert on_file not in [i["name"] for i in items], typed


def test_endpoint_leaves_out_the_file_being_edited_and_takes_bad_input(client, district, make):
    login_as(client, district["staff"])
    ent = district["files"]["北京安泰包装制品有限公司"]
    items = client.get("/enterprises/similar", query_string={"name": ent.name, "exclude": ent.id}).json["items"]
    assert ent.id not in [i.get("id") for i in items]
    for query in ({}, {"name": ""}, {"name": "（）·"}, {"name": "圆" * 5000, "exclude": "x"},
                  {"name": "\x00圆通", "exclude": "-1"}, {"name": "a", "exclude": "9" * 40}):
        resp = client.get("/enterprises/similar", query_string=query)
        assert resp.status_code == 200 and isinstance(resp.json["items"], list), query
    viewer = make.user("viewer", org=district["mine"])
    login_as(client, viewer)
    assert client.get("/enterprises/similar", query_string={"name": "圆通速递宜家站"}).status_code == 403


# ---- on save --------------------------------------------------------------------------------------

def test_save_warns_of_a_near_duplicate_keeps_what_was_typed_and_saves_when_confirmed(client, district):
    login_as(client, district["staff"])
    data = form_data(district["mine"], name="圆通速递宜家站点", address="大兴区瀛海镇宜家1号", notes="新站点")
    resp = post(client, "/enterprises/new", data)
    html = resp.get_data(as_text=True)
    ent = district["files"]["圆通速递宜家站"]
    assert resp.status_code == 200 and "可能重复的档案" in html and "仍然保存" in html
    assert f'href="/enterprises/{ent.id}"' in html
    assert 'value="大兴区瀛海镇宜家1号"' in html and "新站点" in html  # nothing typed is lost
    assert not Enterprise.select().where(Enterprise.name == "圆通速递宜家站点").exists()
    resp = post(client, "/enterprises/new", {**data, "confirm_duplicate": data["name"]})  # 仍然保存
    assert resp.status_code == 302
    assert Enterprise.get(Enterprise.name == "圆通速递宜家站点").address == "大兴区瀛海镇宜家1号"


@pytest.mark.parametrize("on_file,typed", FOUND)
def test_save_warns_of_each_case(client, district, on_file, typed):
    login_as(client, district["staff"])
    resp = post(client, "/enterprises/new", form_data(district["mine"], name=typed))
    assert resp.status_code == 200 and "可能重复的档案" in resp.get_data(as_text=True)
    assert on_file in resp.get_data(as_text=True)


def test_save_of_an_unrelated_name_is_not_held(client, district):
    login_as(client, district["staff"])
    resp = post(client, "/enterprises/new", form_data(district["mine"], name="北京安泰餐饮管理有限公司"))
    assert resp.status_code == 302


def test_save_shows_a_file_outside_scope_by_name_and_unit_only(client, district):
    login_as(client, district["staff"])
    resp = post(client, "/enterprises/new", form_data(district["mine"], name="北京瀛海兴化机械制造有限公司"))
    html = resp.get_data(as_text=True)
    box = html[html.index('id="duplicates"'):html.index("仍然保存")]
    outside = district["outside"]
    assert "北京瀛海兴华机械制造有限公司" in box and "乙镇总工会" in box and "不在您的管辖范围" in box
    assert f"/enterprises/{outside.id}" not in html and outside.credit_code not in html


def test_the_exact_same_name_keeps_its_warning_and_confirmation(client, district):
    login_as(client, district["staff"])
    data = form_data(district["mine"], name="圆通速递 宜家站")
    html = post(client, "/enterprises/new", data).get_data(as_text=True)
    assert "名称相同" in html
    assert post(client, "/enterprises/new", {**data, "confirm_duplicate": data["name"]}).status_code == 302


def test_editing_a_file_does_not_report_itself(client, district):
    login_as(client, district["staff"])
    ent = district["files"]["北京博远天成医疗器械有限公司"]
    resp = post(client, f"/enterprises/{ent.id}/edit", edit_data(ent, notes="改备注"), f"/enterprises/{ent.id}/edit")
    assert resp.status_code == 302
    ent = Enterprise.get_by_id(ent.id)
    # A small change of its own name: only itself is that close.
    resp = post(client, f"/enterprises/{ent.id}/edit", edit_data(ent, name="北京博远天成医疗器械股份有限公司"),
                f"/enterprises/{ent.id}/edit")
    assert resp.status_code == 302
    ent = Enterprise.get_by_id(ent.id)
    # Renamed to another file's near-duplicate: that one is listed.
    resp = post(client, f"/enterprises/{ent.id}/edit", edit_data(ent, name="圆通速递宜家站点"),
                f"/enterprises/{ent.id}/edit")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "可能重复的档案" in html and "圆通速递宜家站" in html
    assert f'data-exclude="{ent.id}"' in html


def test_the_form_page_carries_the_endpoint(client, district):
    login_as(client, district["staff"])
    html = client.get("/enterprises/new").get_data(as_text=True)
    assert 'data-similar-names data-url="/enterprises/similar"' in html


# ---- the importer ---------------------------------------------------------------------------------

def _preview(app, tmp_path, district, rows):
    path = tmp_path / "台账.csv"
    path.write_text("企业名称,所属工会\n" + "".join(f"{name},甲镇总工会\n" for name in rows), encoding="utf-8")
    supervisor = district.setdefault("sup", _supervisor(district))
    with app.app_context():
        batch = imports.start(str(path), "台账.csv", supervisor, district["mine"])
        counts, shown = imports.preview(batch, supervisor)
    return batch, counts, {r.name: r for r in shown}


def _supervisor(district):
    from crm.auth.models import User
    from tests.passwords import hashed
    return User.create(username="sup", name="主管", role="supervisor", org_unit=district["mine"],
                       password_hash=hashed("x" * 12), active=True)


def test_import_preview_flags_each_case_with_the_file_it_resembles(app, tmp_path, district):
    typed = [t for _, t in FOUND]
    batch, counts, rows = _preview(app, tmp_path, district, typed + [t for _, t in NOT_FOUND])
    for on_file, name in FOUND:
        row = rows[name]
        assert row.outcome == "new" and on_file in [d["name"] for d in row.similar], name
        assert "可能与已有档案重复" in row.reason
    for on_file, name in NOT_FOUND:
        assert on_file not in [d["name"] for d in rows[name].similar], name
    assert counts["similar"] >= len(FOUND)


def test_import_preview_shows_a_file_outside_scope_by_name_and_unit_only(app, tmp_path, district):
    _, _, rows = _preview(app, tmp_path, district, ["北京瀛海兴化机械制造有限公司"])
    assert rows["北京瀛海兴化机械制造有限公司"].similar == [
        {"name": "北京瀛海兴华机械制造有限公司", "unit": "乙镇总工会", "in_scope": False}]


def test_import_preview_flags_a_row_like_an_earlier_row_and_the_commit_imports_both(app, tmp_path, district):
    batch, _, rows = _preview(app, tmp_path, district, ["鸿运来超市有限公司", "鸿运来超市"])
    assert rows["鸿运来超市"].similar_row == 2 and "与第 2 行" in rows["鸿运来超市"].reason
    assert rows["鸿运来超市有限公司"].similar_row is None
    with app.app_context():
        done = imports.commit(batch, district["sup"])
    assert done.created == 2  # a warning, not a refusal


def test_import_preview_page_links_the_files_in_scope(app, tmp_path, district):
    batch, _, _ = _preview(app, tmp_path, district, ["圆通速递宜家站点", "北京瀛海兴化机械制造有限公司"])
    with app.app_context():
        imports.analyse(batch, district["sup"])  # what the batch's analysis job keeps for its page
    client = login_as(app.test_client(), district["sup"])
    html = client.get(f"/imports/{batch.id}").get_data(as_text=True)
    ent = district["files"]["圆通速递宜家站"]
    assert "可能重复" in html and f'href="/enterprises/{ent.id}"' in html and 'id="similar-rows"' in html
    assert f'/enterprises/{district["outside"].id}"' not in html and "北京瀛海兴华机械制造有限公司" in html


# ---- the stored core ------------------------------------------------------------------------------

def test_fill_cores_computes_what_is_missing(district):
    Enterprise.update(name_core="").execute()
    assert similar.fill_cores(db.obj, batch=3) == Enterprise.select().count()
    assert Enterprise.get_by_id(district["outside"].id).name_core == "瀛海兴华机械制造"
    assert similar.fill_cores(db.obj) == 0


def test_a_long_file_is_checked_for_close_names_up_to_a_bound(app, tmp_path, district, monkeypatch):
    from crm.imports import analyse
    monkeypatch.setattr(analyse, "CHUNK", 2)
    monkeypatch.setattr(analyse, "SIMILAR_ROWS", 2)
    _, counts, rows = _preview(app, tmp_path, district, ["一号新企业", "二号新企业", "北京博远天成医疗器戒有限公司",
                                                         "圆通速递宜家站点"])
    assert counts["similar_close_until"] == 3
    assert rows["北京博远天成医疗器戒有限公司"].similar == []  # a typo: a close name, past the bound
    assert [d["name"] for d in rows["圆通速递宜家站点"].similar] == ["圆通速递宜家站"]  # the same core
    assert similar.find_many(["北京博远天成医疗器戒有限公司"], close=False) == [[]]
