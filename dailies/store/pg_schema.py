"""The PostgreSQL store's schema: numbered migrations and the version table that records how far a database is.

Every process applies what is missing when it opens the store (`migrate`), under an advisory lock, so
two servers starting together migrate once. A database written by a newer Dailies (a version past the
last migration here) is opened read-only rather than be written as an older one. Migrations are only
ever appended: a released one is never changed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]

MIGRATION_LOCK = 0x6461_696C_6965_7301
"""The advisory lock held while migrating ("dailies" and 1)."""

MIGRATIONS: list[tuple[str, ...]] = [
    # 1: jobs as rows (the whole record as JSONB, the fields queried by as columns kept from it by a trigger),
    # the named tables (boards, reviews, rounds, callbacks; claims with their expiry) as (table, key) rows,
    # and the leases that say which process follows an unfinished job.
    (
        """CREATE TABLE dailies_jobs (
               id text PRIMARY KEY,
               doc jsonb NOT NULL,
               status text NOT NULL,
               group_id text,
               created_at double precision NOT NULL)""",
        "CREATE INDEX dailies_jobs_status ON dailies_jobs (status)",
        "CREATE INDEX dailies_jobs_group ON dailies_jobs (group_id) WHERE group_id IS NOT NULL",
        "CREATE INDEX dailies_jobs_created ON dailies_jobs (created_at DESC)",
        """CREATE FUNCTION dailies_jobs_columns() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
               NEW.status := NEW.doc->>'status';
               NEW.group_id := NEW.doc->>'group_id';
               NEW.created_at := (NEW.doc->>'created_at')::double precision;
               RETURN NEW;
           END $$""",
        """CREATE TRIGGER dailies_jobs_columns BEFORE INSERT OR UPDATE ON dailies_jobs
               FOR EACH ROW EXECUTE FUNCTION dailies_jobs_columns()""",
        """CREATE TABLE dailies_records (
               tbl text NOT NULL,
               key text NOT NULL,
               doc jsonb NOT NULL,
               until double precision,
               PRIMARY KEY (tbl, key))""",
        """CREATE TABLE dailies_leases (
               job_id text PRIMARY KEY,
               owner text NOT NULL,
               until double precision NOT NULL)""",
        "CREATE INDEX dailies_leases_owner ON dailies_leases (owner)",
    ),
    # 2: the change log every process follows (woken by NOTIFY, polling it as a safety net), and an index
    # for sweeping expired claims.
    (
        """CREATE TABLE dailies_changes (
               seq bigserial PRIMARY KEY,
               tbl text NOT NULL,
               key text NOT NULL,
               at timestamptz NOT NULL DEFAULT now())""",
        "CREATE INDEX dailies_changes_at ON dailies_changes (at)",
        "CREATE INDEX dailies_records_until ON dailies_records (tbl, until) WHERE until IS NOT NULL",
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: Any) -> int:
    """How far the database is migrated (0: empty)."""
    found = conn.execute("SELECT to_regclass('dailies_schema')").fetchone()
    if found is None or found[0] is None:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM dailies_schema").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: Any, to: int = SCHEMA_VERSION) -> int:
    """Apply the migrations the database lacks, up to `to`, in one transaction; returns the version found
    before (a version past `to` is left as it is)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS dailies_schema (version integer PRIMARY KEY, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        found = schema_version(conn)
        for number in range(found, to):
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            conn.execute("INSERT INTO dailies_schema (version) VALUES (%s)", (number + 1,))
        return found
