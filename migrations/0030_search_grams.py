"""PostgreSQL: a GIN index of every file's character pairs, for searches of 2 characters.

pg_trgm has no trigram to look up for a word of 2 characters (服务, 京东, jd), so such a search
read every file (LIKE on each row). `enterprise_search_grams` indexes an expression instead of a
column: the pairs of adjacent characters of `search_text` and of the pinyin keys (the keys' in an
alphabet of their own), as one text[] (crm/enterprises/search.py grams(), which writes the same
expression: PostgreSQL matches an index by its expression). A 2-character word is then
`grams @> ARRAY[word]`. Being an expression of the row, it is kept by PostgreSQL on every insert
and update (the forms, imports, bulk actions, the district generator), and built here for the
files that exist.

SQLite is left as it is: its 2-character search already reads the FTS5 vocabulary and the
columns' last two characters (migration 0007).
"""
from peewee import *

_SEP = r"E'\001'"
_KEYS = ("translate(name_pinyin || " + _SEP + " || name_initials, 'abcdefghijklmnopqrstuvwxyz0123456789', "
         "'ABCDEFGHIJKLMNOPQRSTUVWXYZ０１２３４５６７８９')")
_JOINED = f"search_text || {_SEP} || {_KEYS}"
_CUT = r"'(..)', E'\\1\001', 'g'"
GRAMS = (f"string_to_array(regexp_replace({_JOINED}, {_CUT}) || {_SEP} || "
         f"regexp_replace(substr({_JOINED}, 2), {_CUT}), {_SEP})")
INDEX = f"CREATE INDEX enterprise_search_grams ON enterprise USING gin (({GRAMS}))"


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(INDEX)


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("DROP INDEX IF EXISTS enterprise_search_grams")
