"""Search finds Chinese substrings of 2+ characters (LIKE) and 3+ (FTS5 trigram / pg_trgm)."""
import pytest

from crm.enterprises import search
from tests.conftest import BASE_PG_URL, login_as

NAMES = ["众美城MIMO公馆物业管理有限公司", "北京京东世纪贸易有限公司大兴分公司", "京东物流瀛海营业部",
         "北京顺丰速运有限公司", "瀛海镇环宇坊美发店"]


@pytest.fixture
def firms(make):
    user = make.user("staff")
    for name in NAMES:
        make.enterprise(org=user.org_unit, name=name, credit_code="91350100M000100Y43" if "顺丰" in name else "",
                        contact={"name": "李建国", "phone": "13712345678"} if "美发" in name else None)
    return user


def names(client, term):
    html = client.get("/enterprises/", query_string={"q": term}).get_data(as_text=True)
    return {n for n in NAMES if n in html}


@pytest.mark.parametrize("term, expected", [
    ("众美城", {"众美城MIMO公馆物业管理有限公司"}),                       # 3 chars: index
    ("京东", {"北京京东世纪贸易有限公司大兴分公司", "京东物流瀛海营业部"}),   # 2 chars: LIKE
    ("瀛海", {"京东物流瀛海营业部", "瀛海镇环宇坊美发店"}),
    ("环宇坊美发", {"瀛海镇环宇坊美发店"}),
    ("mimo", {"众美城MIMO公馆物业管理有限公司"}),                          # case-insensitive
    ("ＭＩＭＯ", {"众美城MIMO公馆物业管理有限公司"}),                      # full-width typed
    ("9135", {"北京顺丰速运有限公司"}),                                    # credit-code prefix
    ("李建国", {"瀛海镇环宇坊美发店"}),                                     # contact name
    ("1371234", {"瀛海镇环宇坊美发店"}),                                    # contact phone
    ("京东 物流", {"京东物流瀛海营业部"}),                                  # every word must match
    ("没有这家", set()),
    ("%", set()),                                                          # wildcards are literal
    ("_", set()),
])
def test_search(client, firms, term, expected):
    login_as(client, firms)
    assert names(client, term) == expected


def test_short_and_long_terms_take_different_paths(app):
    with app.test_request_context():
        from crm.enterprises.models import Enterprise
        from crm.db import is_sqlite
        short_sql = Enterprise.select().where(search.condition(Enterprise, "京东")).sql()[0]
        long_sql = Enterprise.select().where(search.condition(Enterprise, "众美城")).sql()[0]
        assert "MATCH" not in short_sql
        if is_sqlite():
            assert "LIKE" in short_sql
        else:  # the character pairs' index
            assert "LIKE" not in short_sql and "string_to_array" in short_sql and "@>" in short_sql
        if is_sqlite():
            assert "enterprise_fts" in long_sql and "MATCH" in long_sql
        else:
            assert "LIKE" in long_sql  # served by the pg_trgm GIN index


def test_search_after_edit_uses_new_name(client, firms, make):
    from crm.enterprises.models import Enterprise
    from crm.enterprises.services import update_enterprise
    ent = Enterprise.get(Enterprise.name == "北京顺丰速运有限公司")
    update_enterprise(ent.id, {"name": "北京极兔速递有限公司"}, firms, ent.version)
    login_as(client, firms)
    html = client.get("/enterprises/", query_string={"q": "极兔速递"}).get_data(as_text=True)
    assert "北京极兔速递有限公司" in html
    assert "北京顺丰速运有限公司" not in client.get("/enterprises/", query_string={"q": "顺丰速运"}).get_data(as_text=True)


# ---- 2-character words: every backend finds what a substring check finds ---------------------

PAIR_NAMES = ["JD京东便利店", "北京京东世纪贸易有限公司", "58同城大兴站", "7天连锁酒店", "顺丰速运瀛海站",
              "北京宏达服务有限公司", "美团买菜服务站", "MIMO公馆"]
PAIR_TERMS = ["京东", "服务", "瀛海", "有限", "58", "7天", "jd", "bj", "sf", "mi", "mo", "tc", "dx", "91",
              "13", "李建", "没有", "京", "j", "司b",
              # a 2-character word with a longer one, and a Chinese part with pinyin (京东 + bld)
              "服务 有限公司", "京东 贸易有限", "jd 便利店", "有限 宏达服务", "京东bld"]


def _reference(term):
    """The files matching every word of `term` by a plain substring check (what LIKE does)."""
    from crm.enterprises.models import Enterprise
    out = set()
    for e in Enterprise.select():
        if all(w.text in e.search_text or any(t in getattr(e, c) for c, t in w.keys)
               for w in search.words_of(term)):
            out.add(e.id)
    return out


@pytest.fixture
def pair_firms(app, make):
    with app.app_context():
        town = make.org("瀛海镇")
        admin, staff = make.user("admin"), make.user("staff", org=town)
        for i, name in enumerate(PAIR_NAMES):
            make.enterprise(org=town if i % 2 else make.org(f"单位{i}"), name=name,
                            credit_code="91350100M000100Y43" if i == 4 else "",
                            contact={"name": "李建国", "phone": "13712345678"} if i == 5 else None)
    return {"admin": admin, "staff": staff}


def _listed(user, term):
    from werkzeug.datastructures import MultiDict
    from crm.enterprises import queries
    page = queries.list_page(user, queries.ListArgs.from_request(MultiDict({"q": term})))
    return {e.id for e in page.rows}, page.total


@pytest.mark.parametrize("term", PAIR_TERMS)
def test_two_character_words_find_what_a_substring_check_finds(app, pair_firms, term):
    from crm.enterprises.models import Enterprise
    with app.test_request_context():
        expected = _reference(term)
        assert (len(expected) > 0) == (term not in ("没有", "司b"))
        assert _listed(pair_firms["admin"], term) == (expected, len(expected))
        assert set(e.id for e in Enterprise.select().where(search.condition(Enterprise, term))) == expected
        town = {e.id for e in Enterprise.select().where(Enterprise.org_unit == pair_firms["staff"].org_unit_id)}
        assert _listed(pair_firms["staff"], term) == (expected & town, len(expected & town))


def _found(term, forced):
    """Files matching `term`; on PostgreSQL with `forced`, read through the indexes only (no
    sequential scan), so that a stale index would show."""
    from crm.db import db, is_sqlite
    from crm.enterprises.models import Enterprise
    with db.atomic():
        if forced and not is_sqlite():
            db.execute_sql("SET LOCAL enable_seqscan = off")
        return {e.name for e in Enterprise.select(Enterprise.name).where(search.condition(Enterprise, term))}


def test_two_character_search_follows_every_write(app, make, tmp_path):
    """The pairs (PostgreSQL: an expression index) follow a file created, renamed, given a
    contact, tagged in bulk, imported, and inserted in bulk as the district generator does."""
    from crm.common.text import nfkc, normalise_name
    from crm.enterprises import bulk, pinyin, services
    from crm.enterprises.models import Enterprise
    from crm.enterprises.similar import core
    from crm.imports import services as imports
    root = make.root()
    town = make.org("甲镇", parent=root)
    boss = make.user("supervisor", org=town)
    with app.test_request_context():
        ent = make.enterprise(org=town, name="北京宏达物流有限公司")
        assert _found("宏达", True) == {"北京宏达物流有限公司"} and _found("hd", True) == {"北京宏达物流有限公司"}
        services.update_enterprise(ent.id, {"name": "北京极兔速递有限公司"}, boss, ent.version)
        assert _found("宏达", True) == set() and _found("hd", True) == set()
        assert _found("极兔", True) == {"北京极兔速递有限公司"} and _found("jt", True) == {"北京极兔速递有限公司"}
        services.add_contact(Enterprise.get_by_id(ent.id), {"name": "欧阳锋", "phone": "13912345678"}, boss)
        assert _found("欧阳", True) == {"北京极兔速递有限公司"}
        action = bulk.prepare(boss, "tag_add", {"tag": "楼宇"}, ids=[ent.id])
        bulk.apply(action.id, boss)
        assert _found("楼宇", True) == {"北京极兔速递有限公司"}
        path = tmp_path / "t.csv"
        path.write_text("企业名称,职工人数\n瀛海叮咚买菜站,9\n", encoding="utf-8")
        batch = imports.start(path, "t.csv", boss, town)
        imports.commit(batch, boss)
        assert _found("叮咚", True) == {"瀛海叮咚买菜站"} and _found("dd", True) == {"瀛海叮咚买菜站"}
        name = "盒马鲜生大兴店"
        Enterprise.insert_many([{"name": name, "name_norm": normalise_name(name), "name_core": core(name),
                                 "org_unit": town.id, "search_text": nfkc(name).lower(),
                                 **pinyin.columns(name)}]).execute()
        assert _found("盒马", True) == {name} and _found("hm", True) == {name}
        for term in ("宏达", "极兔", "欧阳", "楼宇", "叮咚", "盒马", "hd", "jt", "dd", "hm", "有限"):
            assert _found(term, True) == _found(term, False) == {Enterprise.get_by_id(i).name for i in _reference(term)}


@pytest.mark.skipif(not BASE_PG_URL, reason="PostgreSQL's plan")
def test_postgres_reads_two_characters_from_the_pairs_index(app, make):
    from crm.db import db
    from crm.enterprises.models import Enterprise
    with app.test_request_context():
        make.enterprise(name="北京京东世纪贸易有限公司")
        for term in ("京东", "jd"):
            sql, params = Enterprise.select(Enterprise.id).where(search.condition(Enterprise, term)).sql()
            with db.atomic():
                db.execute_sql("SET LOCAL enable_seqscan = off")
                plan = "\n".join(r[0] for r in db.execute_sql("EXPLAIN " + sql, params).fetchall())
            assert search.PG_GRAMS_INDEX in plan, plan


@pytest.mark.skipif(not BASE_PG_URL, reason="PostgreSQL's plan")
def test_postgres_finds_a_mixed_term_through_one_index(app, make):
    """A 2-character word beside a longer one (服务 有限公司) is looked up through one index, the
    other word checked with LIKE on its files: combined, the pairs' and pg_trgm's indexes have
    every file of the combination rechecked with the pairs' expression (8,688 files of the
    district: 600 ms). The Chinese part of a mixed word (圆通 of 圆通sd) is checked with LIKE, its
    pinyin found through pg_trgm."""
    from crm.db import db
    from crm.enterprises.models import Enterprise
    with app.test_request_context():
        for i in range(30):
            make.enterprise(name=f"北京宏达服务{i}有限公司" if i % 3 else f"圆通速递{i}站")
        db.execute_sql("ANALYZE enterprise")
        plan = search.plan("服务 有限公司", 1000)
        assert plan.lead in ("服务", "有限公司")
        sql = Enterprise.select(Enterprise.id).where(plan.where(Enterprise)).sql()[0]
        assert sql.count("@>") == (plan.lead == "服务") and sql.count("|| '' LIKE") == 1, sql
        assert search.plan("京东 物流", 1000).lead is None  # two pairs: both exact, combined
        assert search.plan("宏达 服务", 1000).lead is None
        mixed = search.plan("圆通sd", 1000)
        assert mixed.lead is None and not mixed.pairs()
        assert "@>" not in Enterprise.select(Enterprise.id).where(mixed.where(Enterprise)).sql()[0]
        found = {e.name for e in Enterprise.select(Enterprise.name).where(plan.where(Enterprise))}
        assert found == {f"北京宏达服务{i}有限公司" for i in range(30) if i % 3}


@pytest.mark.skipif(not BASE_PG_URL, reason="PostgreSQL's planner settings")
def test_postgres_plans_the_lists_two_character_search_with_the_index_first(app, make):
    """A common 2-letter word (jd) looked like a cheap whole-table scan to the planner (the pairs'
    expression checked on every row: seconds on a district): the list's count and page are
    planned with sequential scans off, and the setting is back afterwards."""
    import logging
    from crm.db import db
    from crm.enterprises import queries
    seen = []

    class Statements(logging.Handler):
        def emit(self, record):
            seen.append(record.msg[0] if isinstance(record.msg, tuple) else record.getMessage())

    handler, logger = Statements(), logging.getLogger("peewee")
    with app.test_request_context():
        user = make.user("admin")
        make.enterprise(name="北京京东世纪贸易有限公司")
        old_level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        try:
            page = queries.list_page(user, queries.ListArgs(q="jd"))
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
        assert [e.name for e in page.rows] == ["北京京东世纪贸易有限公司"]
        off = [i for i, s in enumerate(seen) if "enable_seqscan = off" in s]
        back = [i for i, s in enumerate(seen) if "enable_seqscan TO DEFAULT" in s]
        count = next(i for i, s in enumerate(seen) if "COUNT(*)" in s)
        assert off and back and off[0] < count < back[0], seen
        assert db.execute_sql("SHOW enable_seqscan").fetchone()[0] == "on"
