"""Substring search that works for Chinese (DESIGN.md convention 6).

Every file keeps a lower-cased `search_text` (name, codes, address, area, contacts).
- SQLite: terms of 3+ characters go through the FTS5 trigram index `enterprise_fts`;
  shorter terms (京东, 顺丰) run as LIKE on the base table, which trigram cannot serve.
- PostgreSQL: LIKE on `search_text`, served by the pg_trgm GIN index for 3+ characters.
"""
from peewee import SQL, NodeList

from crm.common.text import like_escape, nfkc
from crm.db import is_sqlite

BACKEND_INDEXES = {"postgresql": {"enterprise_search_trgm"}, "sqlite": set()}
SQLITE_FTS_TABLE = "enterprise_fts"


def normalise_term(term: str | None) -> str:
    return " ".join(nfkc(term).split()).lower()[:100]


def _like(field, term):
    return NodeList((field, SQL("LIKE"), "%" + like_escape(term) + "%", SQL("ESCAPE '\\'")))


def condition(model, term: str):
    """A WHERE condition on `model` (Enterprise) matching every word of `term` as a substring."""
    words = normalise_term(term).split(" ")
    conds = []
    for word in words:
        if is_sqlite() and len(word) >= 3:
            phrase = '"' + word.replace('"', '""') + '"'
            conds.append(model.id.in_(
                SQL(f"(SELECT rowid FROM {SQLITE_FTS_TABLE} WHERE {SQLITE_FTS_TABLE} MATCH ?)", [phrase])))
        else:
            conds.append(_like(model.search_text, word))
    result = conds[0]
    for c in conds[1:]:
        result = result & c
    return result
