"""The job store: every job, board, review, key and lease the team's processes share.

`Store` (api.py) is the interface the studio, tracker, pages and API use; two backends keep it: `JobStore`
(journal_store.py, over the journal in the data folder, the embedded default) and `PostgresStore`
(postgres.py, imported only when a database is configured, so psycopg is loaded only then). `open_store`
(opening.py) picks one, and opens it now or when asked (open_state.py).

What both backends share: the in-memory snapshot reads are served from (snapshot.py), a job's stored
document (records.py), lease owners and claims (leases.py). The journal's parts: its file (journal.py)
with its inter-process lock (filelock.py) and file watch (file_watch.py), schema (journal_schema.py),
following (journal_follow.py), leases and named tables (journal_leases.py, journal_tables.py).
PostgreSQL's: the database and pool (postgres_db.py), schema (pg_schema.py), change log and listener
(postgres_changes.py), leases and named tables (postgres_leases.py, postgres_tables.py). copying.py copies
one store into another.

Modules here import `dailies.jobs`, `dailies.errors`, `dailies.config` and each other; never the tracker, the
studio or anything of the UI. The store keeps leases but not their policy (`dailies.tracker.leases`). Inside
the package, import from the module that defines a name, not from this one.
"""

from dailies.store.api import Store, StoreClaims, StoreOpenError, StoreTable, StoreUnavailableError
from dailies.store.journal import ReadOnlyStoreError
from dailies.store.journal_store import JobStore
from dailies.store.leases import Claim
from dailies.store.opening import DATABASE_URL_VAR, open_configured_store, open_store, store_name

__all__ = ["DATABASE_URL_VAR", "Claim", "JobStore", "ReadOnlyStoreError", "Store", "StoreClaims", "StoreOpenError",
           "StoreTable", "StoreUnavailableError", "open_configured_store", "open_store", "store_name"]
