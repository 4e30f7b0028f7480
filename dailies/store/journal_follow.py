"""Following the other processes on one journal: told by the file watch when it was written, else looking on a
timer; compacting it when it has doubled.

A store's follower holds it only weakly: a store dropped without `close` stops its follower too.
"""

from __future__ import annotations

import logging
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from dailies.store import file_watch

if TYPE_CHECKING:
    from dailies.store.journal_store import JobStore

__all__ = ["FOLLOW_INTERVAL_S", "FOLLOW_SAFETY_S", "Follower"]

log = logging.getLogger(__name__)

FOLLOW_INTERVAL_S = 0.25
"""How often a store looks for what other processes wrote (a `stat`, and the new lines when any) where it
cannot be told (`dailies.store.file_watch`: no inotify). Pages refresh every 2 s at most, so a quarter of a
second is not seen; every wake-up of an idle server is paid all day (ten a second cost 0.2–0.6 s of CPU a
minute)."""

FOLLOW_SAFETY_S = 5.0
"""How often a store that is told of writes looks anyway: a journal on a network share is written by other
machines, whose writes no local watch reports."""


class Follower:
    """Keeps one store up with other processes' writes from a thread of its own, until `stop`."""

    def __init__(self, store: JobStore, journal_path: Path) -> None:
        self._closed = threading.Event()
        self._written = threading.Event()  # set by the file watch: another process (or this one) wrote
        watch = file_watch.watch(journal_path, self._written.set)
        interval = FOLLOW_INTERVAL_S if watch is None else FOLLOW_SAFETY_S
        self._thread = threading.Thread(
            target=_follow, args=(weakref.ref(store), self._closed, self._written, interval, watch),
            name="dailies-store-follow", daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._closed.set()
        self._written.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)


def _follow(ref: weakref.ReferenceType[JobStore], closed: threading.Event, written: threading.Event,
            interval: float, watch: file_watch.Watch | None) -> None:
    """Keep a store up with other processes' writes, and compact its journal when it has doubled: when the
    file watch says the journal was written, or every `interval` seconds."""
    try:
        _follow_until_closed(ref, closed, written, interval)
    finally:
        if watch is not None:
            watch.close()


def _follow_until_closed(ref: weakref.ReferenceType[JobStore], closed: threading.Event, written: threading.Event,
                         interval: float) -> None:
    while True:
        written.wait(interval)
        written.clear()
        if closed.is_set():
            return
        store = ref()
        if store is None:
            return
        try:
            store.refresh()
            if store.needs_compaction:
                store.compact()
        except Exception:  # keep following; the next look may succeed
            log.exception("following %s failed", store.journal_path)
        del store
