"""`enterprise.name_core`: a file's name without its legal form, branch words and leading region
(crm/enterprises/similar.py), the key of the similar-name check on the file form and in the
importer. Filled here for the existing files, in batches of 1,000.

Its index (`enterprise_name_core`, declared by the model) is a B-tree on SQLite and a pg_trgm GIN
index on PostgreSQL, which serves both the equal cores and the similar ones (`%`). SQLite finds the
similar ones in an FTS5 trigram index of the cores, padded as pg_trgm pads a word (two spaces
before, one after) so that it holds the trigrams PostgreSQL compares (`enterprise_core_fts`, kept by three
triggers; it keeps the padded cores too, so that the candidates are read from it alone), and
counts a trigram's files in its vocabulary (`enterprise_core_vocab`).
"""
from peewee import *

from crm.enterprises.similar import fill_cores

PADDED = "'  ' || {}name_core || ' '"  # pg_trgm's padding of a word
SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE enterprise_core_fts USING fts5(name_core, tokenize='trigram', detail='none')",
    "CREATE VIRTUAL TABLE enterprise_core_vocab USING fts5vocab(enterprise_core_fts, 'row')",
    f"INSERT INTO enterprise_core_fts(rowid, name_core) SELECT id, {PADDED.format('')} FROM enterprise",
    "CREATE TRIGGER enterprise_core_ai AFTER INSERT ON enterprise BEGIN "
    f"INSERT INTO enterprise_core_fts(rowid, name_core) VALUES (new.id, {PADDED.format('new.')}); END",
    "CREATE TRIGGER enterprise_core_ad AFTER DELETE ON enterprise BEGIN "
    "DELETE FROM enterprise_core_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER enterprise_core_au AFTER UPDATE OF name_core ON enterprise BEGIN "
    f"UPDATE enterprise_core_fts SET name_core = {PADDED.format('new.')} WHERE rowid = new.id; END",
]
POSTGRES_INDEX = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX enterprise_name_core ON enterprise USING gin (name_core gin_trgm_ops)",
]


def up(migrator, db):
    # ALTER TABLE itself: on SQLite, playhouse's add_column of a NOT NULL column rebuilds the table,
    # which drops every trigger on it (those that keep enterprise_fts and enterprise_pinyin_fts).
    db.execute_sql("ALTER TABLE enterprise ADD COLUMN name_core VARCHAR(200) NOT NULL DEFAULT ''")
    fill_cores(db)
    if isinstance(db, SqliteDatabase):
        migrator.migrate(migrator.add_index('enterprise', ('name_core',), False))
        for sql in SQLITE_INDEX:
            db.execute_sql(sql)
    else:
        for sql in POSTGRES_INDEX:
            db.execute_sql(sql)


def down(migrator, db):
    if isinstance(db, SqliteDatabase):
        for name in ('enterprise_core_ai', 'enterprise_core_ad', 'enterprise_core_au'):
            db.execute_sql(f'DROP TRIGGER IF EXISTS {name}')
        db.execute_sql('DROP TABLE IF EXISTS enterprise_core_vocab')
        db.execute_sql('DROP TABLE IF EXISTS enterprise_core_fts')
    db.execute_sql('DROP INDEX IF EXISTS enterprise_name_core')
    migrator.migrate(migrator.drop_column('enterprise', 'name_core'))
