"""Search finds Chinese substrings of 2+ characters (LIKE) and 3+ (FTS5 trigram / pg_trgm)."""
import pytest

from crm.enterprises import search
from tests.conftest import login_as

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
        assert "LIKE" in short_sql and "MATCH" not in short_sql
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
