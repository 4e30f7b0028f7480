"""The job store: every job, board, review, key and lease the team's processes share.

`Store` (api.py) is the interface the studio, tracker, pages and API use; two backends keep it: `JobStore`
(journal_store.py, over the journal in the data folder, the embedded default) and `PostgresStore`
(postgres.py, imported only when a database is configured, so psycopg is loaded only then). `open_store`
(opening.py) picks one. The rest are their parts: the journal file (journal.py) and its inter-process
lock (filelock.py) and file watch (file_watch.py); the in-memory snapshot both serve reads from
(snapshot.py); leases and claims as both keep them (leases.py); PostgreSQL's schema (pg_schema.py); and
copying between backends (copying.py).

Modules here import `dailies.jobs`, `dailies.errors` and `dailies.config`, and each other; never the
tracker, the studio or anything of the UI. Inside the package, import from the module that defines a
name, not from this one.
"""

from dailies.store.api import Store, StoreClaims, StoreOpenError, StoreTable, StoreUnavailableError
from dailies.store.journal import ReadOnlyStoreError
from dailies.store.journal_store import JobStore
from dailies.store.leases import Claim
from dailies.store.opening import DATABASE_URL_VAR, open_configured_store, open_store, store_name

__all__ = ["DATABASE_URL_VAR", "Claim", "JobStore", "ReadOnlyStoreError", "Store", "StoreClaims", "StoreOpenError",
           "StoreTable", "StoreUnavailableError", "open_configured_store", "open_store", "store_name"]
