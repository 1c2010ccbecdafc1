"""Search by pinyin: full syllables and initials find a file in the enterprise list and the
picker, on both backends; the keys follow the name (create, edit, import, the migration that
added them); files found as typed come before those found only by pinyin."""
import uuid

import pytest
from werkzeug.datastructures import MultiDict

from crm import schema
from crm.db import bind
from crm.enterprises import pinyin, queries, search
from crm.enterprises.models import Enterprise
from crm.enterprises.services import update_enterprise
from tests.conftest import BASE_PG_URL, login_as, statements

sqlite_only = pytest.mark.skipif(bool(BASE_PG_URL), reason="SQLite's index")

YUANTONG = ["圆通速递宜家站", "北京圆通速递有限公司大兴分公司"]
OTHERS = ["申通快递瀛海站", "京东物流瀛海营业部", "韵达快递", "元通速递服务部", "北京银行大兴支行", "JD京东便利店",
          "长城宽带大兴营业厅"]
NAMES = YUANTONG + OTHERS


@pytest.fixture
def firms(make):
    user = make.user("staff")
    for name in NAMES:
        make.enterprise(org=user.org_unit, name=name)
    return user


def listed(client, term, **extra):
    html = client.get("/enterprises/", query_string={"q": term, **extra}).get_data(as_text=True)
    return {n for n in NAMES if n in html}


def picked(client, term):
    return [r["name"] for r in client.get("/enterprises/lookup", query_string={"q": term}).get_json()]


# ---- the keys ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, full, initials", [
    ("圆通速递宜家站", "yuantongsudiyijiazhan", "ytsdyjz"),
    ("JD京东便利店", "jdjingdongbianlidian", "jdjdbld"),          # Latin letters kept, in both keys
    ("ＪＤ京东", "jdjingdong", "jdjd"),                            # full-width as half-width
    ("58同城", "58tongcheng", "58tc"),
    ("北京（大兴）科技有限公司", "beijingdaxingkejiyouxiangongsi", "bjdxkjyxgs"),  # brackets left out
    ("绿源电动车", "lvyuandiandongche", "lyddc"),                  # ü as v
    ("北京银行大兴支行", "beijingyinhangdaxingzhihang", "bjyhdxzh"),  # 银行 and 支行: háng
    ("长城宽带", "changchengkuandai", "cckd"),                     # 长: cháng in a name
    ("重庆小面", "chongqingxiaomian", "cqxm"),
    ("厦门航空大厦", "xiamenhangkongdasha", "xmhkds"),
    ("会计师事务所", "kuaijishishiwusuo", "kjssws"),
    ("朝阳乐器行", "chaoyangyueqihang", "cyyqh"),
    ("董事长办公室", "dongshizhangbangongshi", "dszbgs"),          # a word that reads zhǎng keeps it
    ("", "", ""),
])
def test_keys(name, full, initials):
    assert pinyin.keys(name) == (full, initials)


def test_a_new_and_an_edited_file_get_their_keys(app, make, client):
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, name="圆通速递宜家站")
    stored = Enterprise.get_by_id(ent.id)
    assert (stored.name_pinyin, stored.name_initials) == ("yuantongsudiyijiazhan", "ytsdyjz")
    update_enterprise(ent.id, {"name": "申通快递宜家站"}, user, stored.version)
    stored = Enterprise.get_by_id(ent.id)
    assert (stored.name_pinyin, stored.name_initials) == ("shentongkuaidiyijiazhan", "stkdyjz")
    login_as(client, user)
    html = client.get("/enterprises/", query_string={"q": "stkd"}).get_data(as_text=True)
    assert "申通快递宜家站" in html
    html = client.get("/enterprises/", query_string={"q": "ytsd"}).get_data(as_text=True)
    assert "申通快递宜家站" not in html
    # An edit of something else leaves the keys as they are.
    update_enterprise(ent.id, {"address": "大兴区西红门"}, user, stored.version)
    assert Enterprise.get_by_id(ent.id).name_initials == "stkdyjz"


def test_an_imported_file_gets_its_keys(app, make, tmp_path, client):
    from crm.imports import services as imports
    root = make.root()
    town = make.org("甲镇总工会", parent=root)
    sup = make.user("supervisor", org=town)
    path = tmp_path / "t.csv"
    path.write_text("企业名称,职工人数\n圆通速递瀛海站,12\n", encoding="utf-8")
    with app.app_context():
        batch = imports.start(path, "t.csv", sup, town)
        imports.commit(batch, sup)
    ent = Enterprise.get(Enterprise.name == "圆通速递瀛海站")
    assert (ent.name_pinyin, ent.name_initials) == ("yuantongsudiyinghaizhan", "ytsdyhz")
    login_as(client, sup)
    assert [r["name"] for r in client.get("/enterprises/lookup", query_string={"q": "ytsdyh"}).get_json()] \
        == ["圆通速递瀛海站"]


# ---- the list and the picker -------------------------------------------------------------

@pytest.mark.parametrize("term, expected", [
    ("ytsd", set(YUANTONG) | {"元通速递服务部"}),        # initials (元通 reads the same)
    ("yuantong", set(YUANTONG) | {"元通速递服务部"}),    # full pinyin
    ("yuantongsudi", set(YUANTONG) | {"元通速递服务部"}),
    ("YuanTong", set(YUANTONG) | {"元通速递服务部"}),    # case
    ("ｙｔｓｄ", set(YUANTONG) | {"元通速递服务部"}),     # full-width
    ("yuan'tong", set(YUANTONG) | {"元通速递服务部"}),   # a syllable mark
    ("圆通sd", set(YUANTONG)),                           # mixed: 圆通 as typed, then initials
    ("圆通sudi", set(YUANTONG)),                         # mixed: then full pinyin
    ("yt速递", set(YUANTONG) | {"元通速递服务部"}),      # the Chinese part is 速递: both have it
    ("ytsd yjz", {"圆通速递宜家站"}),                    # every word must match
    ("dxfgs", {"北京圆通速递有限公司大兴分公司"}),
    ("sd", set(YUANTONG) | {"元通速递服务部"}),          # 2 letters, at the end of some initials
    ("stkd", {"申通快递瀛海站"}),
    ("zhihang", {"北京银行大兴支行"}),
    ("changcheng", {"长城宽带大兴营业厅"}),
    ("ytsx", set()),
    ("yuantongkuaidi", set()),
    ("圆通kd", set()),
])
def test_list_finds_files_by_pinyin(client, firms, term, expected):
    login_as(client, firms)
    assert listed(client, term) == expected


@pytest.mark.parametrize("term, expected", [
    ("ytsd", ["元通速递服务部", "北京圆通速递有限公司大兴分公司", "圆通速递宜家站"]),   # in name order
    ("yuantong", ["元通速递服务部", "北京圆通速递有限公司大兴分公司", "圆通速递宜家站"]),
    ("圆通sd", ["北京圆通速递有限公司大兴分公司", "圆通速递宜家站"]),
    ("jingdong", ["JD京东便利店", "京东物流瀛海营业部"]),
    ("xyz", []),
])
def test_picker_finds_files_by_pinyin(client, firms, term, expected):
    login_as(client, firms)
    assert picked(client, term) == expected


def test_files_found_as_typed_come_first(client, firms, make):
    """`jdb`: 北京JDB物流站 holds it as typed; JD京东便利店 (jdjdbld) and 京东便利店 (jdbld) only in
    their initials. In name order 京 comes before 北: the tiers put 北京JDB物流站 first."""
    make.enterprise(org=firms.org_unit, name="北京JDB物流站")
    make.enterprise(org=firms.org_unit, name="京东便利店")
    login_as(client, firms)
    assert picked(client, "jdb") == ["北京JDB物流站", "JD京东便利店", "京东便利店"]
    html = client.get("/enterprises/", query_string={"q": "jdb", "sort": "name"}).get_data(as_text=True)
    positions = [html.index(n) for n in ("北京JDB物流站", "JD京东便利店", "京东便利店")]
    assert positions == sorted(positions)


@sqlite_only
def test_two_letters_as_typed_come_first(client, firms, make):
    """`jd` (on SQLite: PostgreSQL's trigram indexes cannot find 2 letters as typed but by reading
    every file): JD京东 and 北京JD物流站 hold it as typed, 京东物流 (jdwl) only in its initials."""
    make.enterprise(org=firms.org_unit, name="北京JD物流站")
    login_as(client, firms)
    assert picked(client, "jd") == ["JD京东便利店", "北京JD物流站", "京东物流瀛海营业部"]


@pytest.mark.parametrize("cap, size", [(2, 2), (3, 1), (1000, 2), (1000, 50)])
@pytest.mark.parametrize("sort", ["updated", "name", "created"])
@pytest.mark.parametrize("who", ["staff", "admin"])  # a town's list (its matches read at once), the district's
def test_pages_of_a_pinyin_search_hold_each_file_once(app, make, cap, size, sort, who):
    """Files as typed first, then the others, each tier in the list's order, page after page
    (above the count cap too): the same as sorting every match that way."""
    app.config["PAGE_SIZE"], app.config["LIST_COUNT_CAP"] = size, cap
    town = make.org()
    user = make.user("staff", org=town) if who == "staff" else make.user("admin")
    for i in range(3):
        make.enterprise(org=town, name=f"京东物流{i}")    # jdwl
        make.enterprise(org=town, name=f"JDW便利店{i}")   # as typed
        make.enterprise(org=town, name=f"金达旺建材{i}")  # jdwjc
    make.enterprise(org=town, name="顺丰速运")
    with app.test_request_context():
        a = queries.ListArgs.from_request(MultiDict({"q": "jdw", "sort": sort}))
        expected = []
        for literal in (True, False):
            query = queries.filtered(user, a).where(Enterprise.search_text.contains("jdw") == literal)
            expected += [e.id for e in query.order_by(*queries.SORTS[sort][1]())]
        seen = []
        for page in range(1, 12):
            a.page = page
            seen += [e.id for e in queries.list_page(user, a).rows]
    assert seen == expected and len(expected) == 9


def test_unrelated_and_out_of_scope_files_are_not_found(client, make, firms):
    other = make.org("乙镇")
    make.enterprise(org=other, name="圆通速递乙镇站")
    login_as(client, firms)
    assert "圆通速递乙镇站" not in client.get("/enterprises/", query_string={"q": "ytsd"}).get_data(as_text=True)
    assert "圆通速递乙镇站" not in picked(client, "yuantong")


def test_a_code_or_a_phone_is_not_looked_for_in_the_pinyin(app):
    with app.test_request_context():
        assert search.word("91110115ma01").keys == ()
        assert search.word("1381234").keys == ()
        assert search.word("58tc").keys and search.word("ab").keys
        assert search.word("a").keys == ()  # one letter is in nearly every name's pinyin
        assert search.word("京东").keys == ()
        assert search.plan("京东", 100).tiers() is None


def test_query_count_is_fixed(app, make):
    app.config["PAGE_SIZE"], app.config["LIST_COUNT_CAP"] = 5, 8
    user = make.user("staff")
    pages = ["q=ytsd", "q=yuantong", "q=sd", "q=圆通sd", "q=ytsd&page=2", "q=jd&sort=name", "q=jd&page=2"]

    def counts():
        out = []
        with app.test_request_context():
            for query in pages:
                pairs = [kv.split("=", 1) for kv in query.split("&")]
                with statements() as seen:
                    queries.list_page(user, queries.ListArgs.from_request(MultiDict(pairs)))
                out.append(len(seen))
        return out

    for i in range(4):
        make.enterprise(org=user.org_unit, name=f"JD便利店{i}")
    for i in range(7):  # a page 2 (of 5) of each term: its rows and their contacts are read
        make.enterprise(org=user.org_unit, name=f"圆通速递{i + 40}站")
    for i in range(2):
        make.enterprise(org=user.org_unit, name=f"京东到家{i + 40}")
    few = counts()
    for i in range(40):
        make.enterprise(org=user.org_unit, name=f"圆通速递{i}站")
        make.enterprise(org=user.org_unit, name=f"京东到家{i}")
    assert counts() == few


@sqlite_only
def test_pinyin_words_are_looked_up_in_the_index(app, make, firms):
    """`ytsd` and the 2 letters `sd` (at the end of 中通速递's initials: the initials' ending index)
    come from the FTS5 index, not from a LIKE over every file."""
    make.enterprise(org=firms.org_unit, name="中通速递")
    with app.test_request_context():
        for term, expected in (("ytsd", 3), ("sd", 4), ("yuantong", 3)):
            plan = search.plan(term, 100)
            assert plan.driver == term and plan.indexed(100)
            with statements() as seen:
                page = queries.list_page(firms, queries.ListArgs.from_request(MultiDict({"q": term})))
            assert page.total == expected
            listing = [s for s, _ in seen if s.startswith('SELECT "t1"."id" FROM "enterprise"')]
            assert listing and all("MATCH" in s for s in listing)
        lookups = " ".join(sql for sql, _ in search.plan("sd", 100).lookups)
        assert "enterprise_pinyin_fts" in lookups and "substr(name_initials, -2)" in lookups


# ---- the migration -----------------------------------------------------------------------

@sqlite_only
def test_the_search_indexes_keep_their_triggers_through_every_migration(app, make):
    """A later migration that rebuilds `enterprise` (playhouse's add_column of a NOT NULL column
    on SQLite does) drops the triggers that keep the FTS5 tables: a new file would not be found."""
    from crm.db import db
    triggers = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for index in ("enterprise_fts", "enterprise_pinyin"):
        assert {f"{index}_ai", f"{index}_ad", f"{index}_au"} <= triggers
    user = make.user("staff")
    ent = make.enterprise(org=user.org_unit, name="圆通速递新建站")
    with app.test_request_context():
        for term in ("新建站", "ytsdxjz"):
            assert [e.id for e in Enterprise.select().where(search.condition(Enterprise, term))] == [ent.id]


def _fresh(tmp_path):
    """A fresh database, migrated: SQLite in tmp_path, or a schema of its own on PostgreSQL.
    Returns (database, cleanup)."""
    if not BASE_PG_URL:
        database = bind(f"sqlite:///{tmp_path / 'pinyin.db'}")
        database.connect(reuse_if_open=True)
        return database, database.close
    name = f"crm_pinyin_{uuid.uuid4().hex[:8]}"
    admin = bind(BASE_PG_URL)
    admin.connect()
    admin.execute_sql(f"CREATE SCHEMA {name}")
    admin.close()
    database = bind(f"{BASE_PG_URL}{'&' if '?' in BASE_PG_URL else '?'}schema={name}")
    database.connect()

    def cleanup():
        database.close()
        admin = bind(BASE_PG_URL)
        admin.connect()
        admin.execute_sql(f"DROP SCHEMA {name} CASCADE")
        admin.close()
    return database, cleanup


def test_the_migration_fills_the_keys_of_existing_files(tmp_path):
    from crm.auth.models import User
    from crm.org.services import create_unit
    database, cleanup = _fresh(tmp_path)
    try:
        schema.upgrade()
        root = create_unit("测试区总工会", "district", None)
        user = User.create(username="u", name="用户", role="staff", org_unit=root, password_hash="x")
        names = ["圆通速递宜家站", "京东物流", "长城宽带"] + [f"企业{i}" for i in range(1205)]  # more than a batch
        Enterprise.insert_many([{"name": n, "name_norm": n, "org_unit": root.id, "created_by": user.id,
                                 "search_text": n.lower()} for n in names]).execute()
        later = [n for n, _ in schema.status() if n >= "0016_name_pinyin"]
        assert schema.runner().down("0016_name_pinyin") == later[::-1]
        columns = {c.name for c in database.get_columns("enterprise")}
        assert "name" in columns and not {"name_pinyin", "name_initials"} & columns
        assert schema.upgrade() == later
        stored = {e.name: (e.name_pinyin, e.name_initials) for e in Enterprise.select()}
        assert len(stored) == len(names) and all(stored[n] == pinyin.keys(n) for n in names)
        assert stored["长城宽带"] == ("changchengkuandai", "cckd")
        found = Enterprise.select(Enterprise.name).where(search.condition(Enterprise, "ytsd"))
        assert [e.name for e in found] == ["圆通速递宜家站"]
        found = Enterprise.select(Enterprise.name).where(search.condition(Enterprise, "企业1204"))
        assert [e.name for e in found] == ["企业1204"]  # search_text still indexed
    finally:
        cleanup()
