"""Open tabs are told when the job store changes, instead of each looking on a timer.

An idle tab's sidebar used to look once a minute whether the store had changed elsewhere, so a take made on
another server (or in another tab) showed up to a minute late. The store now says when it changes
(`Store.on_change`: its own writes, the journal's file watch, PostgreSQL's LISTEN/NOTIFY), and this
module reruns, on the server, the pages of the idle tabs that have not seen that version: nothing wakes
while nothing changes, and a change reaches an open page within about a second.

Streamlit has no public way for the server to rerun a session; its own "run on save" does
`session.request_rerun(session's last client state)`, and so does this, through `components.streamlit_patches`
(where every reach into Streamlit's internals is kept, and tested). A tab that shows a running job (its own timers
redraw it) is left alone; pushes are spaced by `PUSH_SPACING_S` so a burst of writes is one rerun. A tab whose
page is running when a change lands is not cut short: it is looked at again a moment later, and rerun then if
the run it was in drew an older version (the change landed after that run read the store). Without that second
look such a tab stayed a version behind until the next change, however long that took. The look and the rerun
happen on the session's own event loop (`rerun_if_idle`), where a click's rerun is handled too: a push never joins
a click's run with the page's older widget values.
"""

from __future__ import annotations

import logging
import threading
import time

from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from components.streamlit_patches import open_sessions, rerun_if_idle
from dailies.store import Store

__all__ = ["PUSH_SPACING_S", "TabPush", "tab_seen"]

log = logging.getLogger(__name__)

PUSH_SPACING_S = 0.5
"""The least time between two pushes: a take's progress written ten times a second is at most two reruns."""

_seen: dict[str, tuple[int, bool]] = {}  # session id -> (store version its page last drew, whether it was live)
_seen_lock = threading.Lock()


def tab_seen(version: int, live: bool) -> None:
    """Called by each whole-page run: this tab has drawn `version`, and has its own timers when `live`."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        with _seen_lock:
            _seen[ctx.session_id] = (version, live)


class TabPush:
    """Follows one store and reruns the idle tabs that have not drawn its newest version."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._wake = threading.Event()
        self._last = 0.0
        self._thread = threading.Thread(target=self._run, name="dailies-tab-push", daemon=True)
        self._thread.start()
        store.on_change(lambda _version: self._wake.set())

    def _run(self) -> None:
        while True:
            self._wake.wait()
            wait = self._last + PUSH_SPACING_S - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._wake.clear()
            self._last = time.monotonic()
            try:
                mid_run = self.push(self._store.version)
            except Exception:  # the next change tries again
                log.exception("telling open tabs about a change failed")
                continue
            if mid_run:  # look again once their runs may have ended (spaced like any push)
                self._wake.set()

    @staticmethod
    def push(version: int) -> int:
        """Rerun every idle tab that drew an older version than `version`; how many were left because their page
        was running (a click's run, not cut short; it may draw the change)."""
        sessions = open_sessions()
        if sessions is None:  # no server: no tabs to tell
            return 0
        with _seen_lock:
            for gone in set(_seen) - set(sessions):
                del _seen[gone]
            stale = [sid for sid, (drawn, live) in _seen.items() if drawn < version and not live]
        mid_run = 0
        for sid in stale:
            session = sessions.get(sid)
            if session is None:
                continue
            if not rerun_if_idle(session):
                mid_run += 1
        return mid_run
