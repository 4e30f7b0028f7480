"""The PostgreSQL store's leases: which process works on a job, as rows of `dailies_leases`.

A lease is taken by one `INSERT … ON CONFLICT DO UPDATE … WHERE` (ours, or lapsed), so each unfinished job is
followed by one tracker in the whole deployment and taken over when its holder's lease lapses (at once when
the holder was a process of this machine that died). How long a lease lasts and when to renew it is the
caller's (`dailies.tracker.leases`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import psycopg

from dailies.store.leases import new_owner, owner_gone

__all__ = ["PostgresLeases"]


class PostgresLeases:
    """`lease`, `claim` and `release` of the `Store` interface, for a store with a pooled `_connection`."""

    _connection: Callable[[], contextlib.AbstractContextManager[psycopg.Connection[Any]]]
    _leases: dict[str, tuple[str, float]]
    """Our own leases as written: job id -> (owner, until); a finished job's is dropped by the store."""
    new_owner = staticmethod(new_owner)

    def lease(self, job_id: str) -> dict[str, Any] | None:
        with self._connection() as conn:
            row = conn.execute("SELECT owner, until FROM dailies_leases WHERE job_id = %s", (job_id,)).fetchone()
        return {"owner": row[0], "until": row[1]} if row else None

    def claim(self, job_id: str, owner: str, ttl: float, *, keep_above: float = 0.0) -> bool:
        """Take or renew the job's lease for `ttl` seconds; False while another live owner's lease runs.

        One statement: insert the lease, or take the row when it is ours or has lapsed (the row is locked
        while it is checked, so of two processes one wins). A lease of `owner`'s with more than `keep_above`
        seconds left (as this process wrote it) is kept as it is, without a round trip."""
        now = time.time()
        mine = self._leases.get(job_id)
        if keep_above and mine and mine[0] == owner and mine[1] - now > keep_above:
            return True
        until = now + ttl
        with self._connection() as conn:
            row = conn.execute(
                "INSERT INTO dailies_leases AS l (job_id, owner, until) VALUES (%s, %s, %s) "
                "ON CONFLICT (job_id) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until "
                "WHERE l.owner = EXCLUDED.owner OR l.until <= %s RETURNING owner",
                (job_id, owner, until, now)).fetchone()
            if row is None:
                held = conn.execute("SELECT owner FROM dailies_leases WHERE job_id = %s", (job_id,)).fetchone()
                if held is None or not owner_gone(str(held[0])):
                    return False
                row = conn.execute(  # its holder was a process of this machine that died: take it at once
                    "UPDATE dailies_leases SET owner = %s, until = %s WHERE job_id = %s AND owner = %s "
                    "RETURNING owner", (owner, until, job_id, held[0])).fetchone()
                if row is None:
                    return False
        self._leases[job_id] = (owner, until)
        return True

    def release(self, job_id: str, owner: str) -> None:
        self._leases.pop(job_id, None)
        with self._connection() as conn:
            conn.execute("DELETE FROM dailies_leases WHERE job_id = %s AND owner = %s", (job_id, owner))

    def release_all(self, owner: str) -> int:
        for key in [k for k, (who, _) in self._leases.items() if who == owner]:
            self._leases.pop(key, None)
        with self._connection() as conn:
            return conn.execute("DELETE FROM dailies_leases WHERE owner = %s", (owner,)).rowcount
