"""The journal store's leases: which process works on a job, kept in the journal's `leases` table.

A lease is taken, renewed and given up under the journal's inter-process lock, on the journal as it is
inside it, so of two processes claiming one job one gets it. How long a lease lasts and when to renew it
is the caller's (`dailies.tracker.leases`).
"""

from __future__ import annotations

import time
from typing import Any

from dailies.store.journal import Journal
from dailies.store.leases import new_owner, owner_gone
from dailies.store.records import LEASES_TABLE

__all__ = ["JournalLeases"]


class JournalLeases:
    """`lease`, `claim` and `release` of the `Store` interface, for a store with a `_journal` (see the module)."""

    _journal: Journal
    new_owner = staticmethod(new_owner)

    def lease(self, job_id: str) -> dict[str, Any] | None:
        """The job's lease as last seen (`owner`, `until`), or None."""
        found = self._journal.table(LEASES_TABLE).get(job_id)
        return dict(found) if found else None

    def claim(self, job_id: str, owner: str, ttl: float, *, keep_above: float = 0.0) -> bool:
        """Take or renew the job's lease for `ttl` seconds; False while another live owner's lease runs.

        Atomic across processes (checked and written under the journal's lock). A lease of `owner`'s with
        more than `keep_above` seconds left is kept as it is, without a write.
        """
        now = time.time()
        seen = self._journal.table(LEASES_TABLE).get(job_id)
        if keep_above and seen and seen.get("owner") == owner and float(seen.get("until", 0)) - now > keep_above:
            return True
        with self._journal.writing():
            current = self._journal.table(LEASES_TABLE).get(job_id)
            now = time.time()
            if (
                current
                and current.get("owner") != owner
                and float(current.get("until", 0)) > now
                and not owner_gone(str(current.get("owner")))
            ):
                return False
            self._journal.append([{"t": LEASES_TABLE, "k": job_id, "set": {"owner": owner, "until": now + ttl}}])
            return True

    def release(self, job_id: str, owner: str) -> None:
        """Give the job's lease up (its work is done), when it is ours."""
        if (self._journal.table(LEASES_TABLE).get(job_id) or {}).get("owner") != owner:
            return
        with self._journal.writing():
            if (self._journal.table(LEASES_TABLE).get(job_id) or {}).get("owner") == owner:
                self._journal.append([{"t": LEASES_TABLE, "k": job_id, "del": 1}])

    def release_all(self, owner: str) -> int:
        """Give up every lease of `owner` (its process is stopping), so others take the jobs over now."""
        if not any(lease.get("owner") == owner for lease in self._journal.table(LEASES_TABLE).values()):
            return 0
        with self._journal.writing():
            mine = [k for k, lease in self._journal.table(LEASES_TABLE).items() if lease.get("owner") == owner]
            self._journal.append([{"t": LEASES_TABLE, "k": key, "del": 1} for key in mine])
            return len(mine)
