"""Opening a store: now, or from a thread of its own, and everyone who needs it waiting until it has opened.

A store of 100,000 jobs takes a second or two to load. Opened in the background it is handed out at
once; whatever reads or writes waits until it has opened, so nothing sees a half-loaded store. A
deferred opening waits to be asked (`open_now`, or anything that needs the jobs) before it starts: when
to ask is the store's user's to decide (the app asks once its first page is drawn), never the store's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

__all__ = ["Opening", "OpensInBackground"]


class Opening:
    """One store's opening, begun by `start`. `load(background)` does the work and raises when it fails;
    `failed(exc)` is told of a failure in the background (kept in `error` for whoever waits) and must not raise;
    `opened_late()` is told of a success in the background (a page that read the store's version meanwhile
    must derive everything again)."""

    def __init__(self, load: Callable[[bool], None], failed: Callable[[BaseException], None], *,
                 opened_late: Callable[[], None], background: bool = False, deferred: bool = False) -> None:
        self._load = load
        self._failed = failed
        self._opened_late = opened_late
        self._opened = threading.Event()
        self._needed = threading.Event()
        self.error: BaseException | None = None
        self._background, self._deferred = background, deferred
        self._opener = threading.current_thread()

    def start(self) -> None:
        """Open now (raising what opening raised), or start the thread that opens the store."""
        if self._background:
            self._opener = threading.Thread(target=self._open_when_needed, args=(self._deferred,),
                                            name="dailies-store-open", daemon=True)
            self._opener.start()
        else:
            self._run(background=False)

    def _open_when_needed(self, deferred: bool) -> None:
        if deferred:
            self._needed.wait()
        self._run(background=True)

    def _run(self, *, background: bool) -> None:
        try:
            self._load(background)
            self.error = None
            if background:
                self._opened_late()
        except BaseException as exc:
            if not background:
                raise
            self._failed(exc)
            self.error = exc
        finally:
            self._opened.set()

    def again(self) -> None:
        """Open once more in this thread (a store that could not open, trying again); `error` says how it went."""
        self._run(background=True)

    @property
    def ready(self) -> bool:
        """Whether the store has opened (or failed to): always, unless it opens in the background and still loads."""
        return self._opened.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the store has opened, without asking it to open sooner; False when `timeout` passed first."""
        return self._opened.wait(timeout)

    def open_now(self) -> None:
        """Start a deferred opening now (no effect otherwise)."""
        self._needed.set()

    def wait(self) -> BaseException | None:
        """Wait until the store has opened, asking a deferred opening to start now (the jobs are needed); the
        error it failed with, if it did. The opening thread itself never waits."""
        if not self._opened.is_set() and threading.current_thread() is not self._opener:
            self._needed.set()
            self._opened.wait()
        return self.error

    def finish(self) -> None:
        """Let a store being closed finish opening first (a deferred one opens now, to close cleanly)."""
        self._needed.set()
        self._opened.wait()


class OpensInBackground:
    """`ready`, `wait_ready` and `open_now` of the `Store` interface, for a store opened through `_opening`."""

    _opening: Opening
    _open: Callable[[bool], None]
    _open_failed: Callable[[BaseException], None]
    _bump: Callable[[Iterable[str] | None], None]

    def _start_opening(self, *, background: bool, deferred: bool) -> None:
        """Open through the backend's `_open(background)` (its failure to `_open_failed`), now or in the
        background; a store that opens late shows its jobs as a change (`_bump(None)`)."""
        self._opening = Opening(self._open, self._open_failed, opened_late=lambda: self._bump(None),
                                background=background, deferred=deferred)
        self._opening.start()

    @property
    def ready(self) -> bool:
        """Whether the store has opened (always, unless it was opened in the background and still loads)."""
        return self._opening.ready

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the store has opened, without asking it to open sooner; False when `timeout` passed first."""
        return self._opening.wait_ready(timeout)

    def open_now(self) -> None:
        """Start loading a store opened with `deferred` now (no effect otherwise)."""
        self._opening.open_now()
