"""The enterprise list at district scale: pages read in sort order from the sort's index
above the count cap, the same rows as plain offset paging, a fixed number of queries, 2-character
search served by the index, and "no visit this quarter" counted without reading every visit."""
import itertools
import re
from datetime import datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from crm.common.timeutil import local_today
from crm.db import db
from crm.enterprises import queries, search
from crm.enterprises.models import Enterprise
from tests.conftest import BASE_PG_URL, login_as, statements

sqlite_only = pytest.mark.skipif(bool(BASE_PG_URL), reason="SQLite query plans and index")
_keys = itertools.count()

def args(query=""):
    return queries.ListArgs.from_request(MultiDict([kv.split("=", 1) for kv in query.split("&") if kv]))


# Repeated names, head counts (and blanks) and update times: the sorts' ties are broken by id.
# (name, employees, is_key, category, hours after the first update, archived)
FILES = [("顺丰速运", None, True, "merchant", 0, False), ("京东物流", 7, False, "express", 0, False),
         ("宏达物流", 14, False, "merchant", 1, True), ("顺丰速运", 21, True, "express", 1, False),
         ("中通快递", 28, False, "merchant", 2, False), ("美团外卖站", None, False, "express", 2, False),
         ("申通快递", 2, True, "merchant", 3, False), ("宏达物流", 9, False, "express", 3, False),
         ("盒马鲜生", 16, False, "merchant", 4, True), ("京东物流", 23, True, "express", 4, False),
         ("韵达快递", None, False, "merchant", 5, False), ("叮咚买菜", 37, False, "express", 5, False),
         ("极兔速递", 28, True, "merchant", 6, False)]


@pytest.fixture
def firms(app, make):
    """The FILES in one town and 2 files of another town; a staff member of the first, an admin."""
    with app.app_context():
        town, other = make.org("甲镇"), make.org("乙镇")
        staff = make.user("staff", org=town)
        admin = make.user("admin")
        base = datetime(2026, 5, 1, 8, 0)
        for name, employees, is_key, category, hours, archived in FILES:
            ent = make.enterprise(org=town, name=name, employees=employees, is_key=is_key, category=category)
            Enterprise.update(updated_at=base + timedelta(hours=hours), archived=archived)\
                .where(Enterprise.id == ent.id).execute()
        for name in ("乙镇物流", "乙镇快递"):
            make.enterprise(org=other, name=name)
    return {"staff": staff, "admin": admin, "town": town}


def reference(user, a, size):
    """What plain offset paging over the filtered query gives (the list before it read along its index)."""
    base = queries.filtered(user, a)
    ids = [r.id for r in base.select(Enterprise.id).order_by(*queries.SORTS[a.sort][1]())
           .limit(size).offset((a.page - 1) * size)]
    return ids, base.count()


@pytest.mark.parametrize("cap", [4, 1000])  # above the cap (read in sort order) and below
@pytest.mark.parametrize("query", ["", "sort=name", "sort=employees", "sort=created", "category=express",
                                   "is_key=1&sort=name", "size=25&sort=employees", "archived=all",
                                   "archived=1", "q=物流", "q=快递&sort=name", "q=顺丰速运", "q=物流 京东",
                                   # a town's lists (by_unit): every filter checked in the unit's index
                                   "visit_q=none", "contact=never", "active=1&size=25", "union_status=none&sort=name",
                                   "stage=not_contacted&sort=employees", "archived=all&sort=created",
                                   "is_key=0&category=express"])
@pytest.mark.parametrize("who", ["admin", "staff"])
def test_every_page_has_the_rows_of_plain_offset_paging(app, firms, cap, query, who):
    app.config["PAGE_SIZE"], app.config["LIST_COUNT_CAP"] = 3, cap
    user = firms[who]
    with app.test_request_context():
        for page in range(1, 7):
            a = args(f"{query}&page={page}")
            got = queries.list_page(user, a)
            ids, total = reference(user, a, 3)
            assert [e.id for e in got.rows] == ids, (query, page)
            assert got.total == min(total, cap + 1) and got.capped == (total > cap)


def test_staff_sees_only_their_town_above_the_cap(client, app, firms):
    app.config["PAGE_SIZE"], app.config["LIST_COUNT_CAP"] = 50, 3
    login_as(client, firms["staff"])
    # 11 active files in 甲镇 (FILES): 3 with 物流, 3 with 快递, 2 顺丰
    for query, shown in [("", "超过 3 条"), ("?q=物流", "共 3 条"), ("?q=快递", "共 3 条"),
                         ("?sort=name", "超过 3 条"), ("?category=express", "超过 3 条"), ("?q=顺丰", "共 2 条")]:
        html = client.get("/enterprises/" + query).get_data(as_text=True)
        assert shown in html and "乙镇" not in html, query


def test_count_display_and_page_links(client, app, firms):
    app.config["PAGE_SIZE"] = 5
    login_as(client, firms["admin"])
    app.config["LIST_COUNT_CAP"] = 10
    html = client.get("/enterprises/").get_data(as_text=True)
    assert "超过 10 条" in html and "末页" not in html and 'rel="next"' in html
    app.config["LIST_COUNT_CAP"] = 100
    html = client.get("/enterprises/?page=3").get_data(as_text=True)
    assert "共 13 条，第 3 页" in html and "3 / 3" in html and "末页" in html  # 11 + 乙镇's 2
    html = client.get("/enterprises/?q=宏达物流").get_data(as_text=True)
    assert "共 1 条" in html  # the other 宏达物流 is archived


def test_number_of_queries_does_not_grow_with_the_data(app, make):
    app.config["PAGE_SIZE"], app.config["LIST_COUNT_CAP"] = 5, 8
    with app.app_context():
        town = make.org("甲镇")
        staff = make.user("staff", org=town)
    pages = ["", "page=2", "sort=name&page=2", "sort=employees", "category=enterprise", "q=物流", "q=物流有限公司",
             "visit_q=none", f"org={town.id}&is_key=0"]

    def counts():
        out = []
        with app.test_request_context():
            for query in pages:
                with statements() as seen:
                    queries.list_page(staff, args(query))
                out.append(len(seen))
        return out

    with app.app_context():
        for i in range(12):
            make.enterprise(org=town, name=f"物流有限公司{i}")
    few = counts()
    with app.app_context():
        for i in range(60):
            make.enterprise(org=town, name=f"物流有限公司{i + 12}")
    assert counts() == few


@sqlite_only
@pytest.mark.parametrize("query, index", [
    ("page=1000", "enterprise_updated_at_id_archived"),
    ("sort=name&page=1000", "enterprise_name_id_archived_org_unit_id_stage"),
    ("sort=employees&page=1000", "enterprise_employees_sort"),
    ("sort=created&page=1000", "enterprise_id_archived"),
    ("category=enterprise", "enterprise_updated_at_id_archived"),
    ("size=25&sort=name", "enterprise_name_id_archived_org_unit_id_stage"),
    ("size=25", "enterprise_updated_at_id_archived"),
])
def test_above_the_cap_pages_are_read_from_the_sort_index(app, make, query, index):
    """Page 1,000 skips index entries only (a covering index), and a long filtered list is read in
    sort order rather than collected and sorted."""
    app.config["PAGE_SIZE"], app.config["LIST_COUNT_CAP"] = 2, 3
    with app.app_context():
        town = make.org()
        for i in range(6):
            make.enterprise(org=town, employees=30 + i)
        admin = make.user("admin")
    with app.test_request_context():
        with statements() as seen:
            queries.list_page(admin, args(query))
        sql, params = next((s, p) for s, p in seen if s.startswith('SELECT "t1"."id" FROM "enterprise"'))
        plan = " | ".join(r[3] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    assert index in plan and "TEMP B-TREE" not in plan, plan
    if "page=1000" in query and "employees" not in query:  # (SQLite 3.40 calls no expression index covering)
        assert "COVERING INDEX" in plan, plan


# ---- search -----------------------------------------------------------------------------

@pytest.fixture
def shops(app, make):
    with app.app_context():
        user = make.user("admin")
        town = make.org()
        for name in ["京东物流瀛海营业部", "北京宏达物流", "物流", "瀛海镇环宇坊美发店"]:
            make.enterprise(org=town, name=name)
        # 物流 also at the very end of a text: the legal representative's name comes last.
        make.enterprise(org=town, name="大兴区运输服务站", legal_rep="王物流")
        make.enterprise(org=town, name="韵达快递", contact={"name": "李物流", "phone": ""})
    return user


SHOP_NAMES = {"京东物流瀛海营业部", "北京宏达物流", "物流", "大兴区运输服务站", "韵达快递"}


@pytest.mark.parametrize("cap", [2, 1000])
def test_two_character_search_finds_the_word_anywhere(client, app, shops, cap):
    app.config["LIST_COUNT_CAP"] = cap
    login_as(client, shops)
    html = client.get("/enterprises/", query_string={"q": "物流"}).get_data(as_text=True)
    assert {n for n in SHOP_NAMES | {"瀛海镇环宇坊美发店"} if n in html} == SHOP_NAMES
    html = client.get("/enterprises/", query_string={"q": "瀛海 物流"}).get_data(as_text=True)
    assert "京东物流瀛海营业部" in html and "北京宏达物流" not in html and "美发店" not in html


@sqlite_only
def test_two_character_search_is_looked_up_in_the_index(app, shops):
    """A 2-character word matching few files comes from the trigram vocabulary and the index of
    text endings, not from a LIKE over every file."""
    with app.test_request_context():
        plan = search.plan("物流", 100)
        assert plan.driver == "物流" and plan.estimate is not None and plan.estimate <= 100
        with statements() as seen:
            page = queries.list_page(shops, args("q=物流"))
    assert {e.name for e in page.rows} == SHOP_NAMES and page.total == 5
    listing = [s for s, _ in seen if s.startswith('SELECT "t1"."id" FROM "enterprise"')]
    assert listing and all("LIKE" not in s and "MATCH" in s and "substr(search_text, -2)" in s for s in listing)
    assert any("enterprise_fts_vocab" in s for s, _ in seen)


@sqlite_only
def test_search_plan_picks_the_rarest_word(app, shops):
    with app.test_request_context():
        plan = search.plan("物流 瀛海营业部", 100)
        assert plan.driver == "瀛海营业部" and plan.estimate == 1
        assert search.plan("京", 100).driver == ""  # 1 character: LIKE
        assert search.plan("没有这家", 100).estimate == 0
        common = search.plan("物流", 2)
        assert not common.indexed(2)  # 5 files: read in order, checked row by row


@sqlite_only
def test_a_common_code_prefix_is_counted_on_the_code_index(app, make):
    """A credit-code prefix shared by more files than the limit is known to be common from the
    code's index, without counting the phrase in the trigram index; a rarer one is counted there.
    Either way the list shows every file whose text holds it."""
    import random
    from crm.enterprises.creditcode import generate
    rng = random.Random(8)
    with app.test_request_context():
        user, town = make.user("admin"), make.org()
        for i in range(4):
            make.enterprise(org=town, name=f"代码企业{i}", credit_code=generate(rng))
        make.enterprise(org=town, name="代码在电话里", contact={"name": "张三", "phone": "010-91110115"})
        rare = search.plan("91110115", 10)  # 5 files hold it, 4 in their code: counted in the index
        assert rare.indexed(10) and rare.estimate == 5
        for cap in (2, 1000):
            app.config["LIST_COUNT_CAP"] = cap
            page = queries.list_page(user, args("q=91110115"))
            assert page.total == (3 if cap == 2 else 5) and len(page.rows) == 5  # capped: "more than 2"
        assert search.plan("91110115", 3).estimate == 4  # more than 3
        # With the trigram index emptied, the common prefix is still known to be common (from the
        # codes); a prefix shared by fewer files than the limit is counted in the (empty) index.
        db.execute_sql(f"INSERT INTO {search.SQLITE_FTS_TABLE}({search.SQLITE_FTS_TABLE}) VALUES('delete-all')")
        assert search.plan("91110115", 3).estimate == 4
        assert search.plan("91110115", 10).estimate == 0


def test_picker_lookup_finds_two_character_words(app, shops):
    with app.test_request_context():
        names = {r["name"] for r in queries.lookup(shops, "物流")}
    assert names == SHOP_NAMES


# ---- 本季度未走访 --------------------------------------------------------------------------

@pytest.mark.parametrize("cap", [1, 1000])
def test_no_visit_this_quarter(app, make, cap):
    from crm.compliance.calendar import quarter_of
    from crm.visits import services as visits
    app.config["LIST_COUNT_CAP"] = cap
    today = local_today()
    start = quarter_of(today.year, today.month).start
    with app.app_context():
        admin = make.user("admin")
        town = make.org()
        ents = {name: make.enterprise(org=town, name=name) for name in ("本季度走访", "上季度走访", "走访已归档", "从未走访")}

        def visit(ent, day):
            data = {"visited_on": day, "kind": "door", "purposes": ["founding"], "summary": "走访宣传",
                    "visitor_ids": [admin.id]}
            return visits.create_visit(ent, data, admin, f"scale-test-form-key-{next(_keys):04d}", {admin.id})[0]

        visit(ents["本季度走访"], today)
        visit(ents["上季度走访"], start - timedelta(days=1))
        visits.set_archived(visit(ents["走访已归档"], today), admin, True, "录错了")
        staff = make.user("staff", org=town)
    with app.test_request_context():
        page = queries.list_page(admin, args("visit_q=none"))
        # a town's list, as its staff or as the admin choosing the town: one query for the count and page
        with statements() as seen:
            own = queries.list_page(staff, args("visit_q=none"))
        chosen = queries.list_page(admin, args(f"visit_q=none&org={town.id}"))
    assert {e.name for e in page.rows} == {"上季度走访", "走访已归档", "从未走访"}
    assert page.total == min(3, cap + 1)
    for listed in (own, chosen):
        assert {e.name for e in listed.rows} == {"上季度走访", "走访已归档", "从未走访"}
        assert listed.total == min(3, cap + 1) and listed.capped == (cap < 3)
    # each file's last visit is on the file: no visit is read
    assert not any('FROM "visit"' in sql for sql, _ in seen)


TOWN_FILTERS = ["", "page=2", "page=3", "page=4", "sort=name&page=4", "sort=employees&page=3", "archived=all&page=5",
                "union_status=founded", "stage=not_contacted", "is_key=1", "industry=F",
                "category=express", "status=suspended", "contact=never", "contact=90", "contact=year",
                "archived=1", "archived=all", "size=25", "active=1", "visit_q=none",
                "founded_from=2020-01-01&founded_to=2026-12-31", "sort=name", "sort=employees", "sort=created",
                "union_status=founded&is_key=1", "active=1&size=25&union_status=none"]


@sqlite_only
@pytest.mark.parametrize("query", TOWN_FILTERS)
def test_a_towns_list_reads_the_towns_files_from_the_unit_index(app, firms, query):
    """A town's staff member's list (and the admin's with the town chosen): the files are counted
    and (the town's matches being few of the district's files) the page picked from an index that
    leads with the unit, never along a filter's or the sort's index through the district."""
    app.config["PAGE_SIZE"] = 3
    with app.test_request_context():
        for user, extra in ((firms["staff"], ""), (firms["admin"], f"&org={firms['town'].id}")):
            with statements() as seen:
                got = queries.list_page(user, args(query + extra))
            ids, total = reference(user, args(query + extra), 3)
            assert [e.id for e in got.rows] == ids and got.total == total
            listing = [(sql, params) for sql, params in seen if '"enterprise" AS "t1"' in sql
                       and not sql.startswith('SELECT "t1"."id", "t1"."name"')]  # the rows read by id
            assert listing
            for sql, params in listing:
                plan = [r[3] for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
                reads = [p for p in plan if re.match(r"(SEARCH|SCAN) t1\b", p)]
                assert reads and all("(org_unit_id=?" in p for p in reads), (query, plan)


@sqlite_only
@pytest.mark.parametrize("query", TOWN_FILTERS)
def test_a_dense_towns_page_is_read_in_sort_order(app, firms, query, monkeypatch):
    """When the town's matches are many of the district's files (its whole list, a common filter),
    its page is read in sort order from the sort's index, each row checked for its unit and the
    filters, and stops when the page is full: the same page as the unit's index gives."""
    monkeypatch.setattr(queries, "UNIT_WALK_COST", 0)  # here reading in order always wins
    app.config["PAGE_SIZE"] = 3
    with app.test_request_context():
        for user, extra in ((firms["staff"], ""), (firms["admin"], f"&org={firms['town'].id}")):
            a = args(query + extra)
            with statements() as seen:
                got = queries.list_page(user, a)
            ids, total = reference(user, a, 3)
            assert [e.id for e in got.rows] == ids and got.total == total
            if (a.page - 1) * 3 + 3 <= total:
                page_sql = [(sql, params) for sql, params in seen if sql.startswith('SELECT "t1"."id" FROM')]
                plan = [r[3] for sql, params in page_sql
                        for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
                # the sort's index, or the table itself in id order (sort=created)
                assert any(re.fullmatch(r"SCAN t1( USING (COVERING )?INDEX enterprise_(?!unit_list)\w+)?", p)
                           for p in plan), plan
                assert not any("TEMP B-TREE" in p for p in plan), plan  # nothing sorted


@sqlite_only
@pytest.mark.parametrize("query", ["q=jd", "q=物流", "q=kd", "q=kd&sort=name", "q=kd&page=2", "q=kd&is_key=1"])
def test_a_search_within_a_town_reads_its_matches_once(app, make, firms, query):
    """A search within a town: its matching ids (as typed first, then by pinyin) are read in one
    query, which gives the count and the page, rather than a count and a query per tier."""
    with app.app_context():
        make.enterprise(org=firms["town"], name="KD快送", is_key=True)  # kd as typed; 快递 is kd by pinyin
    town_ids = {e.id for e in Enterprise.select().where(Enterprise.org_unit == firms["town"].id)}
    with app.test_request_context():
        # every match in the district's order (as typed first), the district's way, kept to the town's
        app.config["PAGE_SIZE"] = 1000
        district = [e.id for e in queries.list_page(firms["admin"], args(re.sub(r"&?page=\d+", "", query))).rows]
        expected = [i for i in district if i in town_ids]
        page = int((re.search(r"page=(\d+)", query) or [0, 1])[1])
        app.config["PAGE_SIZE"] = 3
        for user, extra in ((firms["staff"], ""), (firms["admin"], f"&org={firms['town'].id}")):
            with statements() as seen:
                got = queries.list_page(user, args(query + extra))
            reads = [sql for sql, _ in seen if '"enterprise" AS "t1"' in sql
                     and not sql.startswith('SELECT "t1"."id", "t1"."name"')]
            assert len(reads) == 1, reads
            assert [e.id for e in got.rows] == expected[3 * (page - 1):3 * page]
            assert got.total == len(expected) and expected


def test_list_html_keeps_filters_and_sorting(client, app, firms):
    app.config["PAGE_SIZE"], app.config["LIST_COUNT_CAP"] = 4, 2
    login_as(client, firms["admin"])
    html = client.get("/enterprises/?sort=name&category=express&page=2").get_data(as_text=True)
    names = re.findall(r'class="row-link fw-semibold" href="[^"]+">([^<]+)</a>', html)
    expected = [e.name for e in Enterprise.select().where(Enterprise.archived == False,  # noqa: E712
                                                           Enterprise.category == "express")
                .order_by(Enterprise.name, Enterprise.id).offset(4).limit(4)]
    assert names == expected and 'value="express" selected' in html
