"""Things to send that are tried again until they go: the one durable retry queue (bucket uploads, API callbacks,
the engine's webhook deliveries).

Each entry lives in a table with the store's `StoreTable` shape (the job store's own, or a `FileTable` where
there is no store, as in the engine), so its attempts and next time survive a restart and are seen by every
process sharing the table. The record holds the owner's data beside the queue's fields: `state` (`waiting`
until its first try, `retrying` after a failed one, then `sent`, `gave_up` or `refused`), `attempts`,
`next_at`, `last_status` and `last_error` (or `reason` for a refusal).

The queue does not send and owns no thread: its owner's thread asks `due` for what to send now, sends, and says
how it went (`succeeded`, `failed`, `refused`, or `forget`); `next_due` says how long that thread may sleep, so an
idle process is not woken for nothing. An entry handed out is in flight in this process until its outcome is
said, so one thread never sends it twice at once; with `claims`, one process of those sharing the table takes it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dailies.backoff import Backoff

if TYPE_CHECKING:
    from dailies.store.api import StoreClaims, StoreTable

__all__ = ["PENDING", "RetryQueue", "RetrySchedule"]

log = logging.getLogger(__name__)

PENDING = ("waiting", "retrying")
"""The states of an entry still to send."""
CLAIM_S = 300.0
"""How long a process holds an entry it is sending: one that died meanwhile lets another take it after this."""


@dataclass(frozen=True)
class RetrySchedule:
    """How hard an entry is tried: `attempts` in all (None: until it goes), the waits between them from `waits`."""

    attempts: int | None
    waits: Backoff

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait after failed attempt number `attempt` (1-based); a server's `retry_after` wins, within the cap."""
        return self.waits.delay(attempt - 1, retry_after)

    def gives_up(self, attempt: int) -> bool:
        """Whether failed attempt number `attempt` was the last."""
        return self.attempts is not None and attempt >= self.attempts


class RetryQueue:
    """Entries under string keys in `table`, each tried on `schedule` until it goes. Thread-safe.

    `schedule` may be a function, asked at each failure, for an owner whose policy changes while it runs.
    `reread_every` (seconds): how often `due` reads the table again for entries other processes put; None
    reads it once. `claims`: held while an entry is sent, so processes sharing the table do not both send it.
    """

    def __init__(self, table: StoreTable, schedule: RetrySchedule | Callable[[], RetrySchedule], *,
                 clock: Callable[[], float] = time.time, claims: StoreClaims | None = None,
                 reread_every: float | None = None) -> None:
        self.table = table
        self.schedule = schedule
        self.clock = clock
        self.claims = claims
        self.reread_every = reread_every
        self._lock = threading.Lock()
        self._waiting: dict[str, float] | None = None
        """Each pending entry's next time (None: the table is not read yet); in-flight ones are in `_in_flight`."""
        self._in_flight: set[str] = set()
        self._unrecorded: set[str] = set()
        """Entries put with `record=False` that have no record yet (none written until a try fails)."""
        self._read_at = 0.0

    # -- putting and looking -----------------------------------------------------------------------

    def put(self, key: str, at: float | None = None, *, record: bool = True, **data: Any) -> None:
        """A new entry, first tried at `at` (now by default), carrying the owner's `data`.

        `record=False`: only this process knows of it until a try fails (then its record is written), for an
        owner that finds its entries again by itself after a restart (the tracker's resume): thousands of them
        then cost no write each.
        """
        at = self.clock() if at is None else at
        if record:
            self.table.set(key, **data, state="waiting", attempts=0, next_at=at, last_status=None)
        with self._lock:
            self._index()[key] = at
            if not record:
                self._unrecorded.add(key)

    def pending(self, key: str) -> bool:
        """Whether the entry is still to send (waiting for its time, or in flight), as this process knows."""
        with self._lock:
            return key in self._index() or key in self._in_flight

    def entry(self, key: str) -> dict[str, Any] | None:
        """The entry's record as the table holds it, or None."""
        return self.table.get(key)

    def next_due(self) -> float | None:
        """When `due` should next be asked: the earliest time of an entry waiting here, or of the next read of the
        table when re-reading (0.0 before the first read); None when nothing becomes due until a `put`."""
        with self._lock:
            if self._waiting is None:
                return 0.0
            times = list(self._waiting.values())
            if self.reread_every is not None:
                times.append(self._read_at + self.reread_every)
            return min(times, default=None)

    def waiting_until(self) -> list[float]:
        """When each entry not in flight is next due (as this process knows; nothing before the first read)."""
        with self._lock:
            return list(self._waiting.values()) if self._waiting is not None else []

    # -- sending -----------------------------------------------------------------------------------

    def due(self, now: float | None = None,
            ready: Callable[[str, dict[str, Any]], bool] | None = None) -> list[tuple[str, dict[str, Any]]]:
        """The entries to send now, earliest first, each marked in flight until its outcome is said.

        `ready(key, record)`: whether an entry whose time has come may go now (a callback's take has ended);
        one that may not stays waiting. With `claims`, an entry another process is sending is left to it.
        """
        now = self.clock() if now is None else now
        with self._lock:
            if self._waiting is None or (self.reread_every is not None and now - self._read_at >= self.reread_every):
                self._read(now)
            times = sorted((at, key) for key, at in self._index().items() if at <= now)
        handed: list[tuple[str, dict[str, Any]]] = []
        for _, key in times:
            try:
                record = self._claimed(key, now, ready)
            except Exception as exc:  # the table cannot be read now (its database is down): not at once again
                log.warning("retry queue %s: %s could not be read (%s); asking again later", self.table.name, key, exc)
                self._put_off(key, now)
                continue
            if record is None:
                continue
            with self._lock:
                taken = self._waiting is not None and self._waiting.pop(key, None) is not None
                if taken:
                    self._in_flight.add(key)
            if taken:
                handed.append((key, record))
            else:  # handed out meanwhile by another thread's `due`
                self._release(key)
        return handed

    def _claimed(self, key: str, now: float,
                 ready: Callable[[str, dict[str, Any]], bool] | None) -> dict[str, Any] | None:
        """The entry's record if it goes now (its time has come, it is `ready`, and this process has its claim)."""
        record = self._current(key)
        if record is None or float(record.get("next_at") or 0) > now or (ready and not ready(key, record)):
            return None
        if self.claims is None:
            return record
        if not self.claims.claim(key, {"at": now}, CLAIM_S).claimed:
            return None
        record = self._current(key)  # another process may have sent it just before its claim lapsed
        if record is None:
            self.claims.release(key)
        return record

    def _put_off(self, key: str, now: float) -> None:
        """An entry whose record could not be read is asked about again after the schedule's first wait."""
        wait = self._schedule().backoff(1)
        with self._lock:
            if self._waiting is not None and key in self._waiting:
                self._waiting[key] = now + wait

    def _schedule(self) -> RetrySchedule:
        return self.schedule() if callable(self.schedule) else self.schedule

    def _current(self, key: str) -> dict[str, Any] | None:
        """The entry's record if it is still to send; otherwise it leaves the index (another process ended it)."""
        record = self.table.get(key)
        if record is None and key in self._unrecorded:
            return {"state": "waiting", "attempts": 0, "next_at": self._waiting_at(key)}
        if record is not None and record.get("state") in PENDING:
            with self._lock:
                if self._waiting is not None and key in self._waiting:
                    self._waiting[key] = float(record.get("next_at") or 0)
            return record
        with self._lock:
            if self._waiting is not None:
                self._waiting.pop(key, None)
        return None

    def succeeded(self, key: str, **info: Any) -> None:
        """The entry went: it is kept as `sent` with `info` (drop it with `forget` instead when not wanted)."""
        record = self.table.get(key) or {}
        self.table.set(key, state="sent", attempts=int(record.get("attempts") or 0) + 1, **info)
        self._done(key)

    def failed(self, key: str, *, status: int | None = None, error: str | None = None,
               retry_after: float | None = None) -> dict[str, Any]:
        """One try failed: the entry waits its backoff (a server's `retry_after` wins), or gives up after the
        schedule's last attempt. Returns the fields written (`state` says which)."""
        schedule = self._schedule()
        record = self.table.get(key) or {}
        attempt = int(record.get("attempts") or 0) + 1
        fields: dict[str, Any] = {"attempts": attempt, "last_status": status, "last_error": error}
        if schedule.gives_up(attempt):
            fields["state"] = "gave_up"
        else:
            fields["state"] = "retrying"
            fields["next_at"] = self.clock() + schedule.backoff(attempt, retry_after)
        self.table.set(key, **fields)
        self._done(key, fields.get("next_at"))
        return fields

    def refused(self, key: str, reason: str) -> None:
        """The entry must not go at all (its target is not allowed): kept as `refused`, saying why."""
        self.table.set(key, state="refused", reason=reason, last_status=None)
        self._done(key)

    def forget(self, key: str) -> None:
        """Drop the entry (sent, given up, or no longer wanted); nothing is written when there is none."""
        if self.table.get(key) is not None:
            self.table.delete(key)
        self._done(key)

    def release(self, key: str, wait: float = 0.0) -> None:
        """Hand an entry still in flight back, due again in `wait` seconds (its send ended without an outcome
        being said: it raised, or its owner could not send it now); nothing is written."""
        with self._lock:
            if key not in self._in_flight:
                return
        self._done(key, self.clock() + wait, keep_record=True)

    # -- the index ---------------------------------------------------------------------------------

    def _waiting_at(self, key: str) -> float:
        with self._lock:
            return self._waiting.get(key, 0.0) if self._waiting is not None else 0.0

    def _done(self, key: str, next_at: float | None = None, *, keep_record: bool = False) -> None:
        """The entry is no longer in flight: waiting again at `next_at`, or out of the index; its record was
        written (or deleted) unless `keep_record`."""
        with self._lock:
            was_in_flight = key in self._in_flight
            self._in_flight.discard(key)
            if not keep_record:
                self._unrecorded.discard(key)
            waiting = self._index()
            if next_at is None:
                waiting.pop(key, None)
            else:
                waiting[key] = next_at
        if was_in_flight:
            self._release(key)

    def _release(self, key: str) -> None:
        if self.claims is not None:
            self.claims.release(key)

    def _index(self) -> dict[str, float]:
        """The pending entries' times, read from the table the first time. Call with the lock held."""
        if self._waiting is None:
            self._read(self.clock())
        assert self._waiting is not None
        return self._waiting

    def _read(self, now: float) -> None:
        """Read the table's pending entries (other processes' too). Call with the lock held."""
        records = self.table.all()
        unrecorded = {key: at for key, at in (self._waiting or {}).items() if key in self._unrecorded}
        self._waiting = {key: float(r.get("next_at") or 0) for key, r in records.items()
                         if r.get("state") in PENDING and key not in self._in_flight} | unrecorded
        self._read_at = now
