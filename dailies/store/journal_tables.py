"""The journal's other tables: plain records (boards, reviews, rounds) and keys claimed once (idempotency keys,
webhook ids), kept in the same journal as the jobs, with the same guarantees."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from dailies.store import leases
from dailies.store.journal import Journal, Record
from dailies.store.leases import UNTIL, Claim
from dailies.store.records import NamedTable

if TYPE_CHECKING:
    from dailies.store.journal_store import JobStore

__all__ = ["Claims", "Table"]


class _Named(NamedTable):
    """One named table of a store's journal."""

    _store: JobStore

    @property
    def _journal(self) -> Journal:
        return self._store._journal  # (waits while the store opens in the background)


class Table(_Named):
    """A table of plain JSON records under string keys, kept in the store's journal.

    Writes are field-level, durable when they return and seen by other processes as soon as they are
    told of them, like jobs. Choose keys that cannot collide between processes (`new_job_id`-style ids).
    Records handed out are copies.
    """

    def get(self, key: str) -> dict[str, Any] | None:
        found = self._journal.table(self.name).get(key)
        return json.loads(json.dumps(found)) if found is not None else None

    def all(self) -> dict[str, dict[str, Any]]:
        return json.loads(json.dumps(self._journal.table(self.name)))

    def __len__(self) -> int:
        return len(self._journal.table(self.name))

    def set(self, key: str, **fields: Any) -> None:
        """Create the record or change the given fields of it (other fields stay as they are)."""
        with self._journal.writing():
            self._journal.append([{"t": self.name, "k": key, "set": fields}])
        self._store._bump(())

    def delete(self, key: str) -> None:
        with self._journal.writing():
            if key in self._journal.table(self.name):
                self._journal.append([{"t": self.name, "k": key, "del": 1}])
        self._store._bump(())


class Claims(_Named):
    """Keys claimed at most once while their claim lives: idempotency keys, webhook delivery ids.

    Part of the store's interface, kept small and independent of how the store keeps it: `claim` is one
    compare-and-set ("claim this key if nobody has, else return the existing claim"), atomic across threads,
    processes and restarts; the holder may `update` the record and `release` the key. Here it is done under
    the journal's inter-process lock on the journal's state as re-read inside it; a PostgreSQL store does
    the same with a unique (table, key) constraint (`INSERT ... ON CONFLICT DO NOTHING`, expired rows
    deleted first). A claim lives `ttl` seconds; expired ones are swept away by later claims.
    Records handed out are copies, without the expiry.
    """

    def claim(self, key: str, value: dict[str, Any], ttl: float) -> Claim:
        """Hold `key` for `ttl` seconds with `value` as its record, unless a live claim holds it already.

        Returns `Claim(True, value)` when this call took it (nobody held it, or the last claim expired), and
        `Claim(False, the holder's record)` otherwise. Of any number of callers in any processes, one wins.
        """
        with self._journal.writing():
            now = time.time()
            table = self._journal.table(self.name)
            found = table.get(key)
            if found is not None and _live(found, now):
                return Claim(False, _public(found))
            records: list[Record] = []
            if found is not None:  # an expired claim: its fields must not leak into the new one
                records.append({"t": self.name, "k": key, "del": 1})
            records.append({"t": self.name, "k": key, "set": {**value, UNTIL: now + ttl}})
            if now - self._store._claims_swept.get(self.name, 0.0) > leases.CLAIM_SWEEP_S:
                self._store._claims_swept[self.name] = now
                records[:0] = [{"t": self.name, "k": k, "del": 1} for k, doc in table.items()
                               if k != key and not _live(doc, now)]
            self._journal.append(records)
            return Claim(True, json.loads(json.dumps(value)))

    def get(self, key: str) -> dict[str, Any] | None:
        """The key's live claim as last seen, or None."""
        found = self._journal.table(self.name).get(key)
        return _public(found) if found is not None and _live(found, time.time()) else None

    def update(self, key: str, **fields: Any) -> None:
        """Change fields of the key's record (its holder's to do; the claim keeps its expiry)."""
        with self._journal.writing():
            if key in self._journal.table(self.name):
                self._journal.append([{"t": self.name, "k": key, "set": fields}])

    def release(self, key: str) -> None:
        """Give the key up (its holder's to do), so the next `claim` of it succeeds."""
        with self._journal.writing():
            if key in self._journal.table(self.name):
                self._journal.append([{"t": self.name, "k": key, "del": 1}])


def _live(doc: dict[str, Any], now: float) -> bool:
    until = doc.get(UNTIL)
    return until is None or float(until) > now


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in json.loads(json.dumps(doc)).items() if k != UNTIL}

