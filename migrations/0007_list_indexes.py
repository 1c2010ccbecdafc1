"""Indexes for the enterprise list at district scale.

- One per sort of the list, ending in `archived`: a page is read in sort order from the index
  alone, so a deep page skips index entries, not rows. 职工人数 sorts blanks last on both backends
  as COALESCE(employees, -1) (models.employees_key), an expression index.
- One per filter, with `archived` (replacing the filter columns' single-column indexes, which they
  serve as well): counting a filter's files up to the cap reads the index alone. 工会成立日期 (the
  dashboard's "new unions") had none.

SQLite only, outside the models (crm/enterprises/search.py BACKEND_INDEXES): the FTS5 vocabulary
of the trigram index (`enterprise_fts_vocab`, a virtual table) and an index on the last two
characters of `search_text` (`enterprise_search_tail`): together they find a 2-character word in
the index (a trigram starting with it, or the text ending with it).

Generated with playhouse.migrations.template() from the models, plus the expression and SQLite
indexes.
"""
from peewee import *

REPLACED = ['stage', 'is_key', 'industry', 'category', 'status', 'last_contact_on', 'updated_at']
INDEXES = [('stage', 'archived'), ('is_key', 'archived'), ('industry', 'archived'), ('category', 'archived'),
           ('status', 'archived'), ('last_contact_on', 'archived'), ('union_founded_on', 'archived'),
           ('updated_at', 'id', 'archived'), ('name', 'id', 'archived'), ('id', 'archived')]
EMPLOYEES_SORT = ('CREATE INDEX "enterprise_employees_sort" ON "enterprise" '
                  '(COALESCE("employees", -1), "id", "archived")')
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE enterprise_fts_vocab USING fts5vocab(enterprise_fts, 'row')",
    "CREATE INDEX enterprise_search_tail ON enterprise (substr(search_text, -2))",
]


def _name(columns):
    return 'enterprise_' + '_'.join(columns)


def up(migrator, db):
    for column in REPLACED:
        migrator.migrate(migrator.drop_index('enterprise', _name((column,))))
    for columns in INDEXES:
        migrator.migrate(migrator.add_index('enterprise', columns, False))
    db.execute_sql(EMPLOYEES_SORT)
    if isinstance(db, SqliteDatabase):
        for sql in SQLITE_SEARCH:
            db.execute_sql(sql)


def down(migrator, db):
    if isinstance(db, SqliteDatabase):
        db.execute_sql('DROP INDEX IF EXISTS enterprise_search_tail')
        db.execute_sql('DROP TABLE IF EXISTS enterprise_fts_vocab')
    db.execute_sql('DROP INDEX IF EXISTS enterprise_employees_sort')
    for columns in reversed(INDEXES):
        migrator.migrate(migrator.drop_index('enterprise', _name(columns)))
    for column in REPLACED:
        migrator.migrate(migrator.add_index('enterprise', (column,), False))
