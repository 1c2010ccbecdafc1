"""Substring search that works for Chinese, and for the pinyin of a name.

Every file keeps a lower-cased `search_text` (name, codes, address, area, contacts) and its name's
pinyin, `name_pinyin` (yuantongsudi) and `name_initials` (ytsd) (crm.enterprises.pinyin). A word
is looked for in `search_text` as it is typed; a word with 2+ Latin letters also in the two keys
(`yuantong`, `ytsd` and `sudi` find 圆通速递); a word mixing Chinese and Latin letters (圆通sd) in
the keys as its pinyin, when its Chinese part is in `search_text` too.
- SQLite: terms of 3+ characters go through the FTS5 trigram indexes, `enterprise_fts` for
  `search_text` and `enterprise_pinyin_fts` for the keys (a table of its own: pinyin's few dozen
  common trigrams would slow every lookup of a Latin word in `search_text`); shorter terms
  (京东, 顺丰) run as LIKE on the base table, which trigram cannot serve.
- PostgreSQL: LIKE on each column, served by its pg_trgm GIN index for 3+ characters; a word of
  exactly 2 characters as an element of the file's character pairs (`grams()`), served by the GIN
  index on that expression (`enterprise_search_grams`, migration 0030): pg_trgm has no trigram to
  look up for two characters, so LIKE read every file.

`condition()` is that plain rule. The enterprise list and the pickers use `plan()` instead, which
first asks the indexes how many files each word can match (one small query), so that
- a word matching few files is looked up in the index, also when it has only 2 characters:
  a 2-character word W occurs in a column exactly when some trigram of it starts with W, or when
  it ends with W. The trigrams starting with W come from the FTS5 vocabularies
  (`enterprise_fts_vocab`, `enterprise_pinyin_vocab`), the endings from the expression indexes on
  each column's last two characters (`enterprise_search_tail`, `enterprise_pinyin_tail`,
  `enterprise_initials_tail`);
- a word matching many files is checked row by row (LIKE) while the list is read in its sort
  order, which stops as soon as the page is full, instead of first collecting every match.

A term that may be found by pinyin has two tiers (`Plan.tiers()`): the files where every word is
found as typed, then those found only through the pinyin. The list and the pickers show the first
before the second, so typing `jd` shows JD京东 before the files whose initials hold jd.
"""
import json
import re
from dataclasses import dataclass, field

from peewee import SQL, NodeList, Value

from crm.common.text import like_escape, nfkc, safe_text
from crm.db import db, is_sqlite
from crm.enterprises import pinyin
from crm.enterprises.models import Enterprise

# Indexes the models do not declare (made by the migrations for one backend only).
PG_GRAMS_INDEX = "enterprise_search_grams"  # migration 0030
BACKEND_INDEXES = {"postgresql": {"enterprise_search_trgm", "enterprise_pinyin_trgm", "enterprise_initials_trgm",
                                  PG_GRAMS_INDEX},
                   "sqlite": {"enterprise_search_tail", "enterprise_pinyin_tail", "enterprise_initials_tail"}}
SQLITE_FTS_TABLE = "enterprise_fts"
SQLITE_VOCAB_TABLE = "enterprise_fts_vocab"  # fts5vocab 'row' over enterprise_fts (migration 0007)
SQLITE_PINYIN_TABLE = "enterprise_pinyin_fts"  # migration 0016
SQLITE_PINYIN_VOCAB = "enterprise_pinyin_vocab"  # fts5vocab 'col' over enterprise_pinyin_fts
# A 2-character word followed by more distinct characters than this is checked row by row (the
# index query would be too long); it is a word that is everywhere anyway.
MAX_PREFIX_TERMS = 300
_LAST_CHAR = "\U0010ffff"

TEXT = "search_text"
KEYS = ("name_pinyin", "name_initials")
# A word with more digits than this is a code or a phone number: not looked for in the pinyin.
MAX_KEY_DIGITS = 4
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_NOT_KEY = re.compile(r"[^a-z0-9]+")


def normalise_term(term: str | None) -> str:
    """What is searched for: width and case folded, spaces collapsed, and nothing a query string
    may carry that no text holds (a NUL ends an FTS5 phrase)."""
    return " ".join(safe_text(nfkc(term)).split()).lower()[:100]


@dataclass(frozen=True)
class Word:
    """One word of a term: `text` is looked for in search_text; `keys` [(column, text)] in the
    pinyin columns as well, for a word with Latin letters; `parts`, the Chinese parts of a word
    that mixes them with Latin letters, must then be in search_text too (圆通sd: 圆通, and ytsd
    in the initials or yuantongsd in the full pinyin)."""
    text: str
    keys: tuple = ()
    parts: tuple = ()

    def pieces(self, literal: bool) -> list:
        """[(text, columns)] it is looked up as, in one index each: as typed in search_text, and
        (unless `literal`) its pinyin in the key columns."""
        out = [(self.text, (TEXT,))]
        if not literal:
            by_text = {}
            for column, text in self.keys:
                by_text.setdefault(text, []).append(column)
            out += [(text, tuple(columns)) for text, columns in by_text.items()]
        return out


def word(text: str) -> Word:
    """A (normalised) word of a term, and where it is looked for."""
    if not re.search("[a-z]", text):
        return Word(text)
    if text.isascii():
        key = _NOT_KEY.sub("", text)  # yuan'tong: yuantong
        if len(key) < 2 or sum(c.isdigit() for c in key) > MAX_KEY_DIGITS:
            return Word(text)  # one letter is in nearly every name's pinyin; a code or a phone
        return Word(text, tuple((column, key) for column in KEYS))
    parts = tuple(_HAN.findall(text))
    full, initials = pinyin.keys(text)
    if not parts or not full:
        return Word(text)
    return Word(text, (("name_pinyin", full), ("name_initials", initials)), parts)


def words_of(term: str) -> list:
    return [word(w) for w in normalise_term(term).split(" ") if w]


def _like(field, term):
    return NodeList((field, SQL("LIKE"), "%" + like_escape(term) + "%", SQL("ESCAPE '\\'")))


# PostgreSQL: every pair of adjacent characters of a file's search_text and of its pinyin keys, as
# one array: the text's pairs as they are, the keys' in an alphabet the text never holds (the keys
# are a-z and 0-9; search_text is NFKC-folded and lower-cased, so it has no A-Z and no full-width
# digits), so that a pair is known to come from the keys. \x01 (which no stored text holds:
# crm.common.text.safe_text) separates the columns; the pairs are cut at even offsets and at odd
# ones and the separator splits them, so pieces of 1 character (and empty ones) come along too:
# only pairs are looked up. Written as in the index (migration 0030), which PostgreSQL matches
# by the expression: the two must stay the same.
_KEY_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
_KEY_GRAMS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ０１２３４５６７８９"
_KEY_MAP = str.maketrans(_KEY_LETTERS, _KEY_GRAMS)
_SEP = "E'\\001'"


def grams(model):
    """The GIN-indexed expression of `model`'s (Enterprise's) character pairs."""
    joined = NodeList((getattr(model, TEXT), SQL(f"|| {_SEP} || translate("), getattr(model, KEYS[0]),
                       SQL(f"|| {_SEP} ||"), getattr(model, KEYS[1]), SQL(f", '{_KEY_LETTERS}', '{_KEY_GRAMS}')")))
    cut = " '(..)', E'\\\\1\\001', 'g')"
    return NodeList((SQL("string_to_array(regexp_replace("), joined, SQL(f",{cut} || {_SEP} || regexp_replace(substr("),
                     joined, SQL(f", 2),{cut}, {_SEP})")), glue="")


def _has(model, column, term, pairs=True, indexed=True):
    """`term` is a substring of `column`: LIKE, or on PostgreSQL for 2 characters (with `pairs`)
    the pairs. The pairs are for finding the files through their index: checked on a row, the
    expression is computed again (regexp_replace over the text, tens of times a LIKE), so a query
    that reads rows in an index's order and checks each (the list's page of a common word) asks
    for LIKE (`pairs` False). Not `indexed` (PostgreSQL): a LIKE no index serves, checked on the
    rows another word's index finds (see _lead_by_estimate)."""
    if not indexed and not is_sqlite():
        return _like(NodeList((getattr(model, column), SQL("|| ''"))), term)
    if pairs and len(term) == 2 and not is_sqlite():
        pair = term if column == TEXT else term.translate(_KEY_MAP)
        return NodeList((grams(model), SQL("@>"), Value([pair], unpack=False)))
    return _like(getattr(model, column), term)


def _all(conds):
    conds = list(conds)
    result = conds[0]
    for c in conds[1:]:
        result = result & c
    return result


def _any(conds):
    conds = list(conds)
    result = conds[0]
    for c in conds[1:]:
        result = result | c
    return result


def _row(model, w: Word, literal: bool, pairs=True, indexed=True):
    """The word, checked on a row (`pairs`: see _has). The Chinese parts of a mixed word (圆通 of
    圆通sd) are checked with LIKE: its pinyin keys are what the index finds the files by (they
    have 3+ letters whenever a part has 2 characters), and a pair's expression rechecked on each
    of them (a pg_trgm match always is) costs tens of LIKEs."""
    found = _has(model, TEXT, w.text, pairs, indexed)
    if literal or not w.keys:
        return found
    by_keys = _any(_has(model, column, text, pairs, indexed) for column, text in w.keys)
    if w.parts:
        by_keys = _all([_has(model, TEXT, part, False, indexed) for part in w.parts] + [by_keys])
    return found | by_keys


def _phrase(text):
    return '"' + text.replace('"', '""') + '"'


def _table(columns):
    """The FTS5 table and vocabulary that index `columns`."""
    return (SQLITE_FTS_TABLE, SQLITE_VOCAB_TABLE) if columns == (TEXT,) else (SQLITE_PINYIN_TABLE, SQLITE_PINYIN_VOCAB)


def _filter(columns):
    """An FTS5 column filter: none in search_text's table or for both keys."""
    return "" if columns == (TEXT,) or set(columns) == set(KEYS) else "{" + " ".join(columns) + "} : "


def _ids(table, match):
    return f"SELECT rowid FROM {table} WHERE {table} MATCH ?", [match]


def _union(parts):
    """One id subquery of [(sql, params)]."""
    if len(parts) == 1:
        return SQL("(" + parts[0][0] + ")", parts[0][1])
    return SQL("(" + " UNION ALL ".join(sql for sql, _ in parts) + ")", [p for _, params in parts for p in params])


def condition(model, term: str):
    """A WHERE condition on `model` (Enterprise) matching every word of `term` as a substring, of
    search_text or, for a word with Latin letters, of the pinyin keys."""
    conds = []
    for w in words_of(term):
        pieces = w.pieces(literal=False)
        if is_sqlite() and all(len(text) >= 3 for text, _ in pieces):
            conds.append(model.id.in_(_union([_ids(_table(columns)[0], _filter(columns) + _phrase(text))
                                              for text, columns in pieces])))
            if w.parts:
                conds.append(_row(model, w, False))
        else:
            conds.append(_row(model, w, False))
    return _all(conds)


@dataclass
class Plan:
    """How to find the files matching a term: `driver` is the word looked up in the indexes (the
    one matching fewest files, `estimate` of them at most); the other words are checked on the
    rows it yields. No driver: every word is checked row by row (PostgreSQL: LIKE, which the
    pg_trgm indexes serve where they can). `literal`: the words as typed only (search_text);
    `rest`: the files matching the words but not every one of them as typed."""
    words: list
    driver: str = ""
    estimate: int | None = None
    lookups: tuple = ()  # the driver's [(sql, params)] id subqueries: the indexes, the columns' ends
    literal: bool = False
    rest: bool = False
    exact: bool = True  # the driver's index rows all hold it (else it is checked on them too)
    tiered: tuple | None = field(default=None, repr=False)
    lead: str | None = None  # PostgreSQL: the word found through its index (_lead_by_estimate)

    def tiers(self):
        """(files matching as typed, files matching only by pinyin) when a word may be found by
        pinyin, else None (also when, on SQLite, the index says no file has the words as typed:
        the plan then finds them all in one go; see plan() for PostgreSQL)."""
        return self.tiered

    def pairs(self) -> bool:
        """Whether a word or its pinyin is exactly 2 characters (on PostgreSQL looked up in the
        pairs' index)."""
        return any(len(t) == 2 for w in self.words for t in (w.text, *(k for _, k in w.keys)))

    def trigrams(self) -> bool:
        """Whether a word has 3+ characters: one a trigram index serves."""
        return any(len(w.text) >= 3 for w in self.words)

    def indexed(self, limit: int) -> bool:
        """Whether the driver matches at most `limit` files (worth collecting them all)."""
        return self.estimate is not None and self.estimate <= limit

    def where(self, model, use_index: bool = True, col=None, pairs: bool = True):
        """The condition: with use_index, the driver's ids come from the index; without, every
        word is a per-row LIKE. `col` wraps the id the driver's ids are compared with (the list
        passes SQLite's unary + when it reads in sort order: the ids then become a set the rows
        read are checked against, rather than the rows to read). `pairs`: see _has (the list
        reading in sort order passes False)."""
        conds, driven = [], False
        for w in self.words:
            if use_index and not driven and self.driver and w.text == self.driver:
                conds.append((col or (lambda f: f))(model.id).in_(_union(self.lookups)))
                driven = True
                if not self.exact:
                    conds.append(_row(model, w, self.literal, pairs))
            else:
                # Read in sort order (not `pairs`), no word's index is used anyway.
                conds.append(_row(model, w, self.literal, pairs, indexed=not pairs or self.lead in (None, w.text)))
        if self.rest:  # checked on each row, never through an index
            conds.append(~_all(_row(model, w, True, pairs=False) for w in self.words))
        return _all(conds)


def _code_like(text: str) -> bool:
    """Letters and digits only, as a 统一社会信用代码 (or the start of one) is."""
    return text.isascii() and text.isalnum()


def _tails(text, columns):
    return [(f"SELECT id FROM enterprise WHERE substr({c}, -2) = ?", [text]) for c in columns]


def _count_piece(text, columns, limit):
    """The SQL counting the files the index gives for `text` in `columns`, and its parameters:
    up to `limit` + 1 for 3+ characters; for 2, the sum over the trigrams starting with it plus the
    columns ending with it (a file counted once per trigram and column: more than the files, never
    fewer), with those trigrams when there are few enough."""
    table, vocab = _table(columns)
    if len(text) >= 3:
        phrase = (f"(SELECT COUNT(*) FROM (SELECT rowid FROM {table} WHERE {table} MATCH ? LIMIT ?))")
        params = [_filter(columns) + _phrase(text), limit + 1]
        if columns == (TEXT,) and _code_like(text):
            # A code's beginning (a pasted prefix): the files whose credit code starts with it
            # all match, so past `limit` of them (counted on the code's index) it is a common
            # word; the phrase is counted in the index only otherwise (91110115, the district's
            # prefix, is one). CASE counts the phrase only when needed.
            code = text.upper()
            return (f"CASE WHEN (SELECT COUNT(*) FROM (SELECT 1 FROM enterprise WHERE credit_code >= ? "
                    f"AND credit_code < ? LIMIT ?)) > ? THEN ? ELSE {phrase} END, NULL",
                    [code, code + _LAST_CHAR, limit + 1, limit, limit + 1] + params)
        return f"{phrase}, NULL", params
    ends = " + ".join(f"(SELECT COUNT(*) FROM enterprise WHERE substr({c}, -2) = ?)" for c in columns)
    per_column = "" if vocab == SQLITE_VOCAB_TABLE else f" AND col IN ({', '.join('?' for _ in columns)})"
    return (f"COALESCE(SUM(doc), 0) + {ends}, CASE WHEN COUNT(DISTINCT term) <= ? "
            f"THEN json_group_array(DISTINCT term) END FROM {vocab} WHERE term >= ? AND term < ?{per_column}",
            [text] * len(columns) + [MAX_PREFIX_TERMS, text, text + _LAST_CHAR]
            + ([] if vocab == SQLITE_VOCAB_TABLE else list(columns)))


def plan(term: str, limit: int) -> Plan | None:
    """The plan for `term` (None when it is empty). On SQLite one query counts, for each word of
    2+ characters, the files the indexes give for it, as typed and (a word with Latin letters)
    with its pinyin: up to `limit` + 1 for a longer word, an upper bound for a 2-character one
    (see _count_piece)."""
    words = words_of(term)
    if not words:
        return None
    out = Plan(words)
    # Two tiers when a word may be found by pinyin. Not on PostgreSQL for words of 1 or 2
    # characters only (jd): none of them is in its trigram index, so finding the few files that
    # hold them as typed would read every file, where the union stops at the page's end.
    if any(w.keys for w in words) and (is_sqlite() or out.trigrams()):
        out.tiered = (Plan(words, literal=True), Plan(words, rest=True))
    if not is_sqlite():
        out.lead = _lead_by_estimate(words)
        for p in out.tiered or ():
            p.lead = out.lead
        return out
    plans = [(out, False)] + ([(out.tiered[0], True)] if out.tiered else [])
    pieces = []  # every (text, columns) to count, once
    for p, literal in plans:
        for w in p.words:
            for piece in w.pieces(literal):
                if len(piece[0]) >= 2 and piece not in pieces:
                    pieces.append(piece)
    if not pieces:
        return out  # 1-character words only
    parts, params = [], []
    for i, (text, columns) in enumerate(pieces):
        sql, piece_params = _count_piece(text, columns, limit)
        parts.append(f"SELECT {i}, {sql}")
        params += piece_params
    counted = {}
    for i, estimate, terms in db.execute_sql(" UNION ALL ".join(parts), params).fetchall():
        counted[pieces[i]] = (estimate, terms)
    for p, literal in plans:
        _choose_driver(p, literal, counted)
    if out.tiered:
        first, rest = out.tiered
        if first.estimate == 0:  # no file has the words as typed: one tier
            out.tiered = None
        else:  # the files found only by pinyin come from the union's index rows
            rest.driver, rest.estimate, rest.lookups, rest.exact = out.driver, out.estimate, out.lookups, out.exact
    return out


def _lead_by_estimate(words) -> str | None:
    """PostgreSQL: of a term mixing a word of 2 characters (found through the pairs' index, whose
    matches are exact) with a longer one (through pg_trgm's, whose matches are rechecked), the word
    the planner expects fewest files for; the others are checked with LIKE on the files its index
    finds. Left to itself the planner combines both indexes, and every file of the combination is
    then rechecked with the pairs' expression, tens of times a LIKE (服务 有限公司: 8,688 files).
    None for any other term (every word is served by its index)."""
    lengths = [{len(t) for t in (w.text, *(k for _, k in w.keys))} for w in words]
    if len(words) < 2 or not any(2 in n for n in lengths) or not any(max(n) >= 3 for n in lengths):
        return None
    best = None
    for w in words:
        if len(w.text) < 2 and not w.keys:
            continue  # one character: in nearly every file
        sql, params = (Enterprise.select(SQL("1"))
                       .where(Enterprise.archived == False, _row(Enterprise, w, False)).sql())  # noqa: E712
        explained = db.execute_sql("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
        rows = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]["Plan Rows"]
        if best is None or rows < best[1]:
            best = (w.text, rows)
    return best[0] if best else None


def _choose_driver(p: Plan, literal: bool, counted: dict):
    best = None
    for w in p.words:
        estimate, lookups = 0, []
        for text, columns in w.pieces(literal):
            if (text, columns) not in counted:
                break  # 1 character: not in the index
            n, terms = counted[(text, columns)]
            table = _table(columns)[0]
            if len(text) >= 3:
                lookups.append(_ids(table, _filter(columns) + _phrase(text)))
            elif terms is None:
                break  # too many different trigrams to list
            else:
                listed = json.loads(terms)
                if listed:
                    lookups.append(_ids(table, _filter(columns) + "(" + " OR ".join(_phrase(t) for t in listed) + ")"))
                lookups += _tails(text, columns)
            estimate += n
        else:
            if best is None or estimate < best[1]:
                best = (w, estimate, tuple(lookups))
    if best is not None:
        w, p.estimate, p.lookups = best
        p.driver = w.text
        p.exact = literal or not w.parts
