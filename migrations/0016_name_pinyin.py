"""The name's pinyin on every file, searched beside the name: `name_pinyin` (full syllables run
together) and `name_initials` (their first letters), computed by crm.enterprises.pinyin and
filled here for the files that exist, a batch at a time; the services keep them afterwards.

The indexes, outside the models (crm/enterprises/search.py BACKEND_INDEXES):
- SQLite: an FTS5 trigram table of its own over the two columns, `enterprise_pinyin_fts`
  (external content, kept by three triggers), its vocabulary per column
  (`enterprise_pinyin_vocab`), and an index on each column's last two characters, as
  `search_text` has (migration 0007), for 2-letter words. A table apart from `enterprise_fts`:
  pinyin is dense with a few dozen common trigrams (ong, ang, ing …), which would make every
  lookup of a Latin word in `search_text` alone read them too;
- PostgreSQL: a pg_trgm GIN index on each column.

The columns are added by ALTER TABLE itself: on SQLite, playhouse's add_column of a NOT NULL
column rebuilds the table, which drops the triggers of every index kept by triggers.
"""
from peewee import *

from crm.enterprises.pinyin import keys

BATCH = 1000
COLUMNS = ("name_pinyin", "name_initials")
SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE enterprise_pinyin_fts USING fts5(name_pinyin, name_initials, content='enterprise', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER enterprise_pinyin_ai AFTER INSERT ON enterprise BEGIN "
    "INSERT INTO enterprise_pinyin_fts(rowid, name_pinyin, name_initials) "
    "VALUES (new.id, new.name_pinyin, new.name_initials); END",
    "CREATE TRIGGER enterprise_pinyin_ad AFTER DELETE ON enterprise BEGIN "
    "INSERT INTO enterprise_pinyin_fts(enterprise_pinyin_fts, rowid, name_pinyin, name_initials) "
    "VALUES ('delete', old.id, old.name_pinyin, old.name_initials); END",
    "CREATE TRIGGER enterprise_pinyin_au AFTER UPDATE OF name_pinyin, name_initials ON enterprise BEGIN "
    "INSERT INTO enterprise_pinyin_fts(enterprise_pinyin_fts, rowid, name_pinyin, name_initials) "
    "VALUES ('delete', old.id, old.name_pinyin, old.name_initials); "
    "INSERT INTO enterprise_pinyin_fts(rowid, name_pinyin, name_initials) "
    "VALUES (new.id, new.name_pinyin, new.name_initials); END",
    "INSERT INTO enterprise_pinyin_fts(enterprise_pinyin_fts) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE enterprise_pinyin_vocab USING fts5vocab(enterprise_pinyin_fts, 'col')",
    "CREATE INDEX enterprise_pinyin_tail ON enterprise (substr(name_pinyin, -2))",
    "CREATE INDEX enterprise_initials_tail ON enterprise (substr(name_initials, -2))",
]
POSTGRES_INDEX = [
    "CREATE INDEX enterprise_pinyin_trgm ON enterprise USING gin (name_pinyin gin_trgm_ops)",
    "CREATE INDEX enterprise_initials_trgm ON enterprise USING gin (name_initials gin_trgm_ops)",
]


def _fill(db):
    """Every file's keys, BATCH files per statement (in id order)."""
    last = 0
    while True:
        rows = db.execute_sql(f"SELECT id, name FROM enterprise WHERE id > {db.param} ORDER BY id LIMIT {BATCH}",
                              (last,)).fetchall()
        if not rows:
            return
        values, params = [], []
        for ent_id, name in rows:
            values.append(f"({db.param}, {db.param}, {db.param})")
            params += [ent_id, *keys(name)]
        db.execute_sql("UPDATE enterprise SET name_pinyin = v.column2, name_initials = v.column3 "
                       f"FROM (VALUES {', '.join(values)}) AS v WHERE enterprise.id = v.column1", params)
        last = rows[-1][0]


def up(migrator, db):
    for column in COLUMNS:
        db.execute_sql(f"ALTER TABLE enterprise ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
    _fill(db)
    if isinstance(db, SqliteDatabase):
        for sql in SQLITE_INDEX:
            db.execute_sql(sql)
    elif isinstance(db, PostgresqlDatabase):
        for sql in POSTGRES_INDEX:
            db.execute_sql(sql)


def down(migrator, db):
    if isinstance(db, SqliteDatabase):
        for name in ("enterprise_pinyin_ai", "enterprise_pinyin_ad", "enterprise_pinyin_au"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
        db.execute_sql("DROP TABLE IF EXISTS enterprise_pinyin_vocab")
        db.execute_sql("DROP TABLE IF EXISTS enterprise_pinyin_fts")
        db.execute_sql("DROP INDEX IF EXISTS enterprise_pinyin_tail")
        db.execute_sql("DROP INDEX IF EXISTS enterprise_initials_tail")
    else:
        db.execute_sql("DROP INDEX IF EXISTS enterprise_pinyin_trgm")
        db.execute_sql("DROP INDEX IF EXISTS enterprise_initials_trgm")
    for column in reversed(COLUMNS):
        migrator.migrate(migrator.drop_column('enterprise', column))
