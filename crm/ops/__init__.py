"""Backup and restore of an instance: the database and the files of its storage (crm.storage:
photos, founding documents; a shared directory or an S3 bucket).

A backup is a directory:

    crm.db          SQLite: a copy made with the online backup API (sqlite3 Connection.backup)
    database.dump   PostgreSQL: `pg_dump --format=custom` of the app's schema
    uploads/        every file of the storage, by key (`ab/….jpg`, `founding/ab/….pdf`), copied after
                    the database snapshot; job results (`job_results/`, kept a day) are left out
    manifest.json   format, time, backend, migrations, row counts per table, file count, version

Consistency while the app runs:
- SQLite: the copy is taken from a separate read connection in one step, so it is the database as
  of one instant; WAL lets writers carry on meanwhile.
- PostgreSQL: the row counts are read in a REPEATABLE READ transaction whose snapshot is exported
  to pg_dump (`--snapshot`), so the dump and the manifest describe the same instant.
- Photos are written to disk before their row is committed and are never deleted or rewritten
  (random names), so copying every file present *after* the snapshot covers every row in it.
  A file written after the snapshot may be copied too; its row is not in the backup (harmless).

Restore goes into an empty instance only (no rows except the migration history, no files in its
storage but job results), writes the files into the storage (each write atomic), and checks the result against the manifest before it is kept:
- SQLite: the file is copied next to the target, checked (PRAGMA integrity_check, row counts) and
  then moved into place.
- PostgreSQL: the dump is replayed by psql in ONE transaction (`pg_restore --no-owner
  --no-privileges` turned into SQL), and the same transaction checks the row counts, so a failed
  restore leaves the target as it was. pg_restore cannot rename a schema, so when the backup's
  schema (A) differs from the target's (B):
    * A does not exist in the target database: the tables are restored into A, moved to B with
      ALTER TABLE ... SET SCHEMA (indexes, constraints and sequences follow) and A is dropped,
      all inside the transaction;
    * A exists there (e.g. the running source instance in the same database): the dump is first
      restored into a temporary database, moved to B there, dumped again and restored from that
      copy; this needs the CREATEDB privilege, and the temporary database is always dropped.
  Owners and grants are not restored: the objects belong to the user who restores.
  The pg_trgm search index is rebuilt against wherever the extension lives in the target
  database (created in `public` if the database lacks it).
A backup of one backend cannot be restored into the other.
"""
