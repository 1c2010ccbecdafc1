"""Substring search that works for Chinese.

Every file keeps a lower-cased `search_text` (name, codes, address, area, contacts).
- SQLite: terms of 3+ characters go through the FTS5 trigram index `enterprise_fts`;
  shorter terms (京东, 顺丰) run as LIKE on the base table, which trigram cannot serve.
- PostgreSQL: LIKE on `search_text`, served by the pg_trgm GIN index for 3+ characters.

`condition()` is that plain rule. The enterprise list and the pickers use `plan()` instead, which
first asks the index how many files each word can match (one small query), so that
- a word matching few files is looked up in the index, also when it has only 2 characters:
  a 2-character word W occurs in a text exactly when some trigram of the text starts with W, or
  when the text ends with W. The trigrams starting with W come from the FTS5 vocabulary
  (`enterprise_fts_vocab`), the endings from the expression index `enterprise_search_tail`;
- a word matching many files is checked row by row (LIKE) while the list is read in its sort
  order, which stops as soon as the page is full, instead of first collecting every match.
"""
import json
from dataclasses import dataclass

from peewee import SQL, NodeList

from crm.common.text import like_escape, nfkc
from crm.db import db, is_sqlite
from crm.common.text import safe_text

# Indexes the models do not declare (made by the migrations for one backend only).
BACKEND_INDEXES = {"postgresql": {"enterprise_search_trgm"}, "sqlite": {"enterprise_search_tail"}}
SQLITE_FTS_TABLE = "enterprise_fts"
SQLITE_VOCAB_TABLE = "enterprise_fts_vocab"  # fts5vocab 'row' over enterprise_fts (migration 0007)
# A 2-character word followed by more distinct characters than this is checked row by row (the
# index query would be too long); it is a word that is everywhere anyway.
MAX_PREFIX_TERMS = 300
_LAST_CHAR = "\U0010ffff"


def normalise_term(term: str | None) -> str:
    """What is searched for: width and case folded, spaces collapsed, and nothing a query string
    may carry that no text holds (a NUL ends an FTS5 phrase)."""
    return " ".join(safe_text(nfkc(term)).split()).lower()[:100]


def _like(field, term):
    return NodeList((field, SQL("LIKE"), "%" + like_escape(term) + "%", SQL("ESCAPE '\\'")))


def _phrase(word):
    return '"' + word.replace('"', '""') + '"'


def _fts_ids(match):
    return SQL(f"(SELECT rowid FROM {SQLITE_FTS_TABLE} WHERE {SQLITE_FTS_TABLE} MATCH ?)", [match])


def condition(model, term: str):
    """A WHERE condition on `model` (Enterprise) matching every word of `term` as a substring."""
    words = normalise_term(term).split(" ")
    conds = []
    for word in words:
        if is_sqlite() and len(word) >= 3:
            conds.append(model.id.in_(_fts_ids(_phrase(word))))
        else:
            conds.append(_like(model.search_text, word))
    result = conds[0]
    for c in conds[1:]:
        result = result & c
    return result


@dataclass
class Plan:
    """How to find the files matching a term: `driver` is the word looked up in the index (the
    one matching fewest files, `estimate` of them at most); the other words are checked on the
    rows it yields. No driver: every word is checked row by row (PostgreSQL: LIKE, which the
    pg_trgm index serves where it can)."""
    words: list
    driver: str = ""
    estimate: int | None = None
    match: str = ""  # the FTS5 query for the driver ("" for a 2-character word only at the ends)

    def indexed(self, limit: int) -> bool:
        """Whether the driver matches at most `limit` files (worth collecting them all)."""
        return self.estimate is not None and self.estimate <= limit

    def where(self, model, use_index: bool = True, col=None):
        """The condition: with use_index, the driver's ids come from the index; without, every
        word is a per-row LIKE. `col` wraps the id the driver's ids are compared with (the list
        passes SQLite's unary + when it reads in sort order: the ids then become a set the rows
        read are checked against, rather than the rows to read)."""
        conds, driven = [], False
        for word in self.words:
            if use_index and not driven and self.driver and word == self.driver:
                conds.append((col or (lambda f: f))(model.id).in_(self._driver_ids()))
                driven = True
            else:
                conds.append(_like(model.search_text, word))
        result = conds[0]
        for c in conds[1:]:
            result = result & c
        return result

    def _driver_ids(self):
        if len(self.driver) >= 3:
            return _fts_ids(self.match)
        # 2 characters: followed by something (a trigram starting with them), or at the very end.
        parts, params = [], []
        if self.match:
            parts.append(f"SELECT rowid FROM {SQLITE_FTS_TABLE} WHERE {SQLITE_FTS_TABLE} MATCH ?")
            params.append(self.match)
        parts.append("SELECT id FROM enterprise WHERE substr(search_text, -2) = ?")
        params.append(self.driver)
        return SQL("(" + " UNION ALL ".join(parts) + ")", params)


def _code_like(word: str) -> bool:
    """Letters and digits only, as a 统一社会信用代码 (or the start of one) is."""
    return word.isascii() and word.isalnum()


def plan(term: str, limit: int) -> Plan | None:
    """The plan for `term` (None when it is empty). On SQLite one query counts, for each word of
    2+ characters, the files the index gives for it: up to `limit` + 1 for a longer word; for a
    2-character word, the sum over the trigrams starting with it plus the texts ending with it
    (a file counted once per trigram: more than the files, never fewer)."""
    words = [w for w in normalise_term(term).split(" ") if w]
    if not words:
        return None
    out = Plan(words)
    if not is_sqlite():
        return out
    parts, params = [], []
    for i, word in enumerate(words):
        if len(word) >= 3:
            phrase = (f"(SELECT COUNT(*) FROM (SELECT rowid FROM {SQLITE_FTS_TABLE} "
                      f"WHERE {SQLITE_FTS_TABLE} MATCH ? LIMIT ?))")
            if _code_like(word):
                # A code's beginning (a pasted prefix): the files whose credit code starts with it
                # all match, so past `limit` of them (counted on the code's index) it is a common
                # word; the phrase is counted in the index only otherwise (91110115, the district's
                # prefix, is one). CASE counts the phrase only when needed.
                code = word.upper()
                parts.append(f"SELECT {i}, CASE WHEN (SELECT COUNT(*) FROM (SELECT 1 FROM enterprise WHERE "
                             f"credit_code >= ? AND credit_code < ? LIMIT ?)) > ? THEN ? ELSE {phrase} END, NULL")
                params += [code, code + _LAST_CHAR, limit + 1, limit, limit + 1]
            else:
                parts.append(f"SELECT {i}, {phrase}, NULL")
            params += [_phrase(word), limit + 1]
        elif len(word) == 2:
            parts.append(f"SELECT {i}, COALESCE(SUM(doc), 0) + (SELECT COUNT(*) FROM enterprise WHERE "
                         f"substr(search_text, -2) = ?), CASE WHEN COUNT(*) <= ? THEN json_group_array(term) "
                         f"END FROM {SQLITE_VOCAB_TABLE} WHERE term >= ? AND term < ?")
            params += [word, MAX_PREFIX_TERMS, word, word + _LAST_CHAR]
    if not parts:
        return out  # 1-character words only
    best = None
    for i, estimate, terms in db.execute_sql(" UNION ALL ".join(parts), params).fetchall():
        word = words[i]
        if len(word) >= 3:
            match = _phrase(word)
        elif terms is None:
            continue  # too many different trigrams to list
        else:
            match = " OR ".join(_phrase(t) for t in json.loads(terms))
        if best is None or estimate < best[1]:
            best = (word, estimate, match)
    if best is not None:
        out.driver, out.estimate, out.match = best
    return out
