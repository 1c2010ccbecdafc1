"""Files whose names look like the same firm: what the file form lists beside 企业名称 (as the name is
typed and again on save) and what the importer flags.

The comparison is made on a name's *core*: width and case folded (NFKC), spaces, punctuation and
brackets set aside, the legal form and branch or outlet words at its end (有限公司, 分公司, 门店,
站点 …) and a leading region (北京市, 大兴区 …) taken off, so that 圆通速递宜家站点 and 圆通速递宜家站
are both 圆通速递宜家. A bracketed part that is only a region or such a word goes too
(安泰（北京）包装制品有限公司, 京东（大兴分公司）); any other bracketed part stays (星巴克（荟聚店） →
星巴克荟聚). Two names match when their cores' trigram similarity (the share of trigrams they
have in common, PostgreSQL pg_trgm's measure: each core padded with two spaces before and one
after) is at least THRESHOLD; equal cores have 1. The core is stored (`enterprise.name_core`), the
candidates come from an index on each backend, and the similarity is computed here on the
candidates, so that both backends give the same answer:

- SQLite: an FTS5 trigram index of the padded cores (`enterprise_core_fts`, kept by triggers;
  migration 0017). A match has at least `needed()` of the name's n trigrams, so it has one of the
  n - needed + 1 rarest (counted in the index's vocabulary, `enterprise_core_vocab`); those, and
  the other trigrams in fewer than EXTRA_DOCS files, are looked up, and the index counts which
  files have enough of them (`lookup_plan`). A trigram most names have (有限公, 餐饮管 …) is read
  only when the name has too few rarer ones.
- PostgreSQL: `name_core % core` on the pg_trgm GIN index of the column, at a threshold a little
  below ours.

Scope: the matching runs over the whole district; a match outside the user's scope is shown by its
name and its unit only (`shown`).
"""
import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache

from crm.common.text import nfkc, normalise_name, safe_text
from crm.db import db, is_sqlite
from crm.org.models import OrgUnit
from crm.permissions import in_scope

THRESHOLD = 0.5
LIMIT = 8  # matches listed for one name
MIN_CORE = 2  # a word is taken off only when this much of the name is left
PG_SLACK = 0.05  # PostgreSQL's candidates: a little below THRESHOLD (its float4 is never the cut)
SQLITE_FTS = "enterprise_core_fts"
SQLITE_VOCAB = "enterprise_core_vocab"
_COMPOUND = 50  # names looked up per statement (SQLite allows 500 terms in a compound SELECT)
MAX_EQUAL = 100  # files with the very same core kept for one name (the same name is among them)
_IN_LIST = 500  # values per IN (…) list

# A leading region: the district's own (its files all are in Beijing, in Daxing), and the country.
REGIONS = ("中华人民共和国", "北京市大兴区", "北京大兴区", "北京大兴", "北京市", "北京", "大兴区", "大兴", "中国")
# Legal forms (the register's 组织形式) and what a legal form may be followed by before a branch
# word: 有限公司大兴分公司 is a branch of 有限公司.
LEGAL_FORMS = ("集团股份有限公司", "集团有限公司", "股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司",
               "总公司", "公司", "有限", "集团", "个人独资企业", "独资企业", "合伙企业", "特殊普通合伙", "普通合伙",
               "有限合伙", "个体工商户")
BRANCHES = ("分公司", "子公司", "分厂", "厂", "总店", "分店", "门店", "旗舰店", "专卖店", "专营店", "直营店", "加盟店",
            "连锁店", "体验店", "店", "服务站", "配送站", "快递站", "站点", "站", "网点", "营业部", "营业厅", "营业所",
            "经营部", "门市部", "分部", "办事处", "代表处", "工作室", "事务所", "商行", "商店")
_REGIONS = sorted(REGIONS, key=len, reverse=True)
_SUFFIXES = sorted(set(LEGAL_FORMS) | set(BRANCHES), key=len, reverse=True)
_BRANCHES = set(BRANCHES)
_COMPANY = ("集团股份有限公司", "集团有限公司", "股份有限公司", "有限责任公司", "有限公司", "股份公司", "集团公司",
            "总公司", "公司", "集团")
_COMPANY_THEN_PLACE = re.compile("^(.*(?:" + "|".join(_COMPANY) + "))(.{1,8})$")
_OPEN, _CLOSE = "([【〔〈《", ")]】〕〉》"
_BRACKET = re.compile(f"[{re.escape(_OPEN)}]([^{re.escape(_OPEN + _CLOSE)}]*)[{re.escape(_CLOSE)}]")
_LAST_BRACKET = re.compile(f"[{re.escape(_OPEN)}]([^{re.escape(_OPEN + _CLOSE)}]*)[{re.escape(_CLOSE)}]\\W*$")


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _strip(text: str, whole: bool = False) -> str:
    """`text` (letters and digits only) without its leading regions and its trailing legal forms and
    branch words, as long as MIN_CORE characters are left (`whole`: a bracket's content, which may
    go entirely)."""
    while True:
        for region in _REGIONS:
            left = len(text) - len(region)
            if text.startswith(region) and (left >= MIN_CORE or (whole and left == 0)):
                text = text[len(region):]
                break
        else:
            for word in _SUFFIXES:
                left = len(text) - len(word)
                if text.endswith(word) and (left >= MIN_CORE or (whole and left == 0)):
                    rest = text[:-len(word)]
                    if word in _BRANCHES:  # 有限公司大兴分公司 → 有限公司
                        m = _COMPANY_THEN_PLACE.match(rest)
                        if m and len(m.group(1)) >= MIN_CORE:
                            rest = m.group(1)
                    text = rest
                    break
            else:
                return text


def core(name: str | None) -> str:
    """The part of a name that says which firm it is (see the module's doc): 北京安泰包装制品有限公司 →
    安泰包装制品."""
    text = safe_text(nfkc(name)).lower()
    tail = ""
    while (m := _LAST_BRACKET.search(text)) is not None:  # 好邻居便利店（亦庄店） → 好邻居便利 + 亦庄
        tail = _strip(_letters(m.group(1)), whole=True) + tail
        text = text[:m.start()]
    text = _BRACKET.sub(lambda m: _strip(_letters(m.group(1)), whole=True), text)
    head = _letters(text)
    return (_strip(head) if head else "") + tail


@lru_cache(maxsize=20000)
def trigrams(name_core: str) -> frozenset:
    """pg_trgm's trigrams of a core (one word): padded with two spaces before and one after."""
    padded = "  " + name_core + " "
    return frozenset(padded[i:i + 3] for i in range(len(padded) - 2)) if name_core else frozenset()


def similarity(a: str, b: str) -> float:
    """Trigram similarity of two cores, 0..1 (pg_trgm's `similarity()`)."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    return shared / (len(ta) + len(tb) - shared)


def score(a: str, b: str) -> float | None:
    """How alike two cores are when they match (1.0 for equal ones), else None."""
    value = similarity(a, b)
    return value if value >= THRESHOLD else None


def needed(name_core: str) -> int:
    """The fewest of the core's trigrams a matching core has: the shared ones are at least THRESHOLD
    of all the trigrams of both, so at least THRESHOLD of this core's."""
    return max(1, math.ceil(THRESHOLD * len(trigrams(name_core)) - 1e-9))


@dataclass
class Match:
    id: int
    name: str
    unit_id: int
    unit: str
    unit_path: str
    credit_code: str
    archived: bool
    score: float
    same_name: bool  # the same name once width, spaces and case are set aside

    @property
    def percent(self) -> int:
        return int(self.score * 100 + 0.5)


def find(name: str | None, exclude_id: int | None = None, limit: int = LIMIT) -> list[Match]:
    """The files (archived ones too) whose names match `name`: the same name first, then the
    closest."""
    return find_many([name], exclude_id, limit)[0]


def find_many(names: list, exclude_id: int | None = None, limit: int = LIMIT,
              close: bool = True) -> list[list[Match]]:
    """find() for each of `names` at once (an import's rows): a few queries for them all.
    `close=False`: the files with the very same core only (one query on its index)."""
    names = [(n or "")[:200] for n in names]
    cores = [core(n) for n in names]
    wanted = sorted({c for c in cores if c})
    scored = {}  # core -> [(id, score)], best first
    for c, candidates in ((_candidates if close else _equal_cores)(wanted) if wanted else {}).items():
        found = [(ent_id, value) for ent_id, other in candidates.items()
                 if ent_id != exclude_id and (value := score(c, other)) is not None]
        found.sort(key=lambda f: (-f[1], f[0]))
        # The same name comes first: it is among the equal cores (score 1), which are all kept.
        equal = sum(1 for f in found if f[1] == 1.0)
        scored[c] = found[:max(limit, min(equal, MAX_EQUAL))]
    rows = _rows({ent_id for found in scored.values() for ent_id, _ in found})
    out = []
    for name, c in zip(names, cores):
        norm = normalise_name(name)
        matches = [Match(ent_id, *rows[ent_id][:6], value, rows[ent_id][6] == norm)
                   for ent_id, value in scored.get(c, []) if ent_id in rows]
        matches.sort(key=lambda m: (not m.same_name, -m.score, m.id))
        out.append(matches[:limit])
    return out


def _rows(ids) -> dict:
    """id -> (name, unit id, unit name, unit path, credit code, archived, name_norm)."""
    rows, ids, mark = {}, sorted(ids), db.param
    for i in range(0, len(ids), _IN_LIST):
        part = ids[i:i + _IN_LIST]
        for ent_id, name, unit_id, unit, path, code, archived, norm in db.execute_sql(
                "SELECT e.id, e.name, e.org_unit_id, o.name, o.path, e.credit_code, e.archived, e.name_norm "
                "FROM enterprise e JOIN org_unit o ON o.id = e.org_unit_id "
                f"WHERE e.id IN ({', '.join([mark] * len(part))})", part).fetchall():
            rows[ent_id] = (name, unit_id, unit, path, code or "", bool(archived), norm)
    return rows


def _candidates(cores: list) -> dict:
    """core -> {file id: its core}: every file that may match, and some more."""
    return _sqlite_candidates(cores) if is_sqlite() else _postgres_candidates(cores)


def _equal_cores(cores: list) -> dict:
    out, mark = {c: {} for c in cores}, db.param
    for i in range(0, len(cores), _IN_LIST):
        part = cores[i:i + _IN_LIST]
        for ent_id, other in db.execute_sql(f"SELECT id, name_core FROM enterprise WHERE name_core IN "
                                            f"({', '.join([mark] * len(part))})", part).fetchall():
            out[other][ent_id] = other
    return out


def _postgres_candidates(cores: list) -> dict:
    out = {c: {} for c in cores}
    with db.atomic():
        db.execute_sql(f"SET LOCAL pg_trgm.similarity_threshold = {THRESHOLD - PG_SLACK:.2f}")
        for i in range(0, len(cores), _IN_LIST):
            rows = db.execute_sql("SELECT q.core, e.id, e.name_core FROM unnest(%s::text[]) AS q(core) "
                                  "JOIN enterprise e ON e.name_core %% q.core", (cores[i:i + _IN_LIST],)).fetchall()
            for c, ent_id, other in rows:
                out[c][ent_id] = other
    return out


def _phrase(trigram: str) -> str:
    return '"' + trigram.replace('"', '""') + '"'


# How many files a trigram is in, as last read: a count only decides which trigrams are looked up
# (any choice of enough of them finds every match), so a count a little old costs time at worst.
# Only large counts are kept (they take the longest to read); small ones are read each time.
_DOCS: dict = {}
DOCS_KEPT_FROM, DOCS_KEPT_FOR = 500, 600.0  # files; seconds
# Beyond the fewest trigrams a match must have one of, the others in fewer files than this are
# looked up too: each one more that a candidate must have is counted in the index, not read here.
EXTRA_DOCS = 2000


def _doc_counts(trigrams_: list) -> dict:
    now = time.monotonic()
    docs, missing = {}, []
    for t in trigrams_:
        kept = _DOCS.get(t)
        if kept is not None and kept[1] > now:
            docs[t] = kept[0]
        else:
            missing.append(t)
    for i in range(0, len(missing), _IN_LIST):
        part = missing[i:i + _IN_LIST]
        for term, doc in db.execute_sql(f"SELECT term, doc FROM {SQLITE_VOCAB} WHERE term IN "
                                        f"({', '.join('?' * len(part))})", part).fetchall():
            docs[term] = doc
            if doc >= DOCS_KEPT_FROM:
                _DOCS[term] = (doc, now + DOCS_KEPT_FOR)
    return docs


def lookup_plan(name_core: str, docs: dict) -> tuple[list, int]:
    """(the trigrams to look up, how many of them a match has at least). A match has at least
    needed() of the core's n trigrams; the n - needed + 1 rarest (and any other rare enough) are
    looked up, so a match has at least needed - (n - looked up) of them."""
    grams = sorted(trigrams(name_core), key=lambda t: (docs.get(t, 0), t))
    n, need = len(grams), needed(name_core)
    m = n - need + 1
    while m < n and docs.get(grams[m], 0) <= EXTRA_DOCS:
        m += 1
    return [t for t in grams[:m] if docs.get(t)], need - (n - m)


def _sqlite_candidates(cores: list) -> dict:
    out = {c: {} for c in cores}
    docs = _doc_counts(sorted({t for c in cores for t in trigrams(c)}))
    parts, params, tags = [], [], []
    for c in cores:
        looked, at_least = lookup_plan(c, docs)
        if len(looked) < at_least:
            continue  # no file has enough of its trigrams
        j = len(tags)
        tags.append(c)
        if at_least <= 1:
            parts.append(f"SELECT {j}, rowid, name_core FROM {SQLITE_FTS} WHERE {SQLITE_FTS} MATCH ?")
            params.append(" OR ".join(_phrase(t) for t in looked))
        else:
            inner = " UNION ALL ".join([f"SELECT rowid FROM {SQLITE_FTS} WHERE {SQLITE_FTS} MATCH ?"] * len(looked))
            parts.append(f"SELECT {j}, rowid, name_core FROM {SQLITE_FTS} WHERE rowid IN "
                         f"(SELECT rowid FROM ({inner}) GROUP BY rowid HAVING count(*) >= {int(at_least)})")
            params += [_phrase(t) for t in looked]
        if len(parts) == _COMPOUND:
            _read(out, tags, parts, params)
            parts, params = [], []
    if parts:
        _read(out, tags, parts, params)
    return out


def _read(out, tags, parts, params):
    for j, rowid, padded in db.execute_sql(" UNION ALL ".join(parts), params).fetchall():
        out[tags[j]][rowid] = padded[2:-1]


# ---- what a user is shown ------------------------------------------------------------------------

def shown(matches: list[Match], user) -> list[dict]:
    """The matches as `user` may see them: a file in the user's scope with its id (its page), unit
    and credit code; a file outside it by its name and unit only."""
    out = []
    for m in matches:
        if in_scope(user, OrgUnit(id=m.unit_id, path=m.unit_path)):
            out.append({"id": m.id, "name": m.name, "unit": m.unit, "credit_code": m.credit_code,
                        "archived": m.archived, "same_name": m.same_name, "score": m.percent, "in_scope": True})
        else:
            out.append({"name": m.name, "unit": m.unit, "in_scope": False})
    return out


def fill_cores(database, batch: int = 1000) -> int:
    """Compute `name_core` for every file, in batches (the migration that adds it; again if these
    rules change). Returns how many rows changed."""
    changed, last, mark = 0, 0, database.param
    while True:
        rows = database.execute_sql(f"SELECT id, name, name_core FROM enterprise WHERE id > {mark} "
                                    f"ORDER BY id LIMIT {int(batch)}", (last,)).fetchall()
        if not rows:
            return changed
        updates = [(ent_id, new) for ent_id, name, stored in rows if (new := core(name)) != stored]
        if updates:  # one statement per batch (PostgreSQL: one round trip, not one per row)
            values = ", ".join([f"(CAST({mark} AS INTEGER), {mark})"] * len(updates))
            database.execute_sql(f"WITH v(id, c) AS (VALUES {values}) UPDATE enterprise SET name_core = "
                                 "(SELECT c FROM v WHERE v.id = enterprise.id) WHERE id IN (SELECT id FROM v)",
                                 [x for pair in updates for x in pair])
            changed += len(updates)
        last = rows[-1][0]
