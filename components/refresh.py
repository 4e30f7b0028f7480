"""When a fragment refreshes itself: only while something it shows is running.

A fragment with `run_every` reruns on a timer in every open tab, changed or not: eight idle tabs
cost most of a core. Streamlit sets a fragment's timer when the whole page runs and clears every
timer at the next whole-page run, so a fragment is given a timer only when the page finds
something running (`refresh_every`), and a fragment whose last job has finished asks for one
whole-page run (`settle`), which draws the finished result and leaves the timer off. Only the
sidebar keeps a slow idle check, so a job started in another tab turns this tab's timers on.
"""

from __future__ import annotations

import streamlit as st

from components.runtime import studio

LIVE_SECONDS = 2
"""How often a fragment showing a running job refreshes (a take's card turns done within this)."""
IDLE_CHECK_SECONDS = 60
"""How often an idle tab's sidebar looks whether the store changed elsewhere: one small rerun each
(every 30 s, eight idle tabs cost 2-3% of a core)."""


OPENING_CHECK_SECONDS = 0.5
"""How often the sidebar looks again while the job store is still opening (a large one, after a start)."""


def store_busy(*, wait: bool = True) -> bool:
    """Whether any job in the store is queued, rendering or downloading (worked out once per store version).

    `wait=False` (the sidebar after a start): False while the store is still opening, rather than wait for
    it; the sidebar then looks again every `OPENING_CHECK_SECONDS`, and redraws the page once it has opened."""
    shared = studio()
    if not wait and not shared.store.ready:
        return False
    return _busy(str(shared.store.path), shared.takes.version)


@st.cache_data(max_entries=4, show_spinner=False)
def _busy(store_path: str, store_version: int) -> bool:
    return any(job.is_active for job in studio().takes.all())


def refresh_every(live: bool, seconds: float = LIVE_SECONDS) -> float | None:
    """The `run_every` for a fragment: a timer while something it shows runs, none otherwise."""
    return seconds if live else None


def settle(was_live: bool, live: bool) -> None:
    """Turn a fragment's timer off once what it showed has finished, or on when something started
    elsewhere: either way one whole-page run sets every fragment's timer anew."""
    if was_live != live:
        st.rerun(scope="app")
