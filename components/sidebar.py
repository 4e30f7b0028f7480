"""The sidebar every page shows: who renders, whether they answer, today's spend, what is running."""

from __future__ import annotations

import time

import streamlit as st

from components.identity import who_line
from components.refresh import IDLE_CHECK_SECONDS, OPENING_CHECK_SECONDS, settle, store_busy
from components.runtime import page_drawn, studio
from components.store_notice import store_errors_shown
from components.tab_push import tab_seen
from components.text import plain
from dailies.jobs import JobStatus
from dailies.studio import Studio


@st.cache_data(max_entries=4, show_spinner=False)
def store_totals(store_path: str, store_version: int, day: str) -> tuple[float, int, int]:
    """Today's spend, the running count and the jobs that need a look, once per store version and day:
    every page shows them on every run."""
    shared = studio()
    return shared.spent_today(), shared.takes.active_count(), len(shared.takes.query(status=JobStatus.NEEDS_LOOK))


QUICK_STORE_BYTES = 4 << 20
"""A journal this small (about 4,000 jobs) opens within `QUICK_STORE_WAIT_S`: the first run after a start waits
for it and shows the figures at once. A larger one is not waited for (100,000 jobs take a second or two): the
sidebar shows "…" and its figures follow."""
QUICK_STORE_WAIT_S = 0.25


def render_sidebar() -> None:
    shared = studio()
    with st.sidebar:
        who_line()
        name = shared.active_provider_name
        provider = shared.provider(name)
        health = shared.health(name)  # asked at most every 15 s, whatever the number of sessions and reruns
        st.caption("Provider")
        st.markdown(f"**{plain(provider.label)}**")
        if health.ok:
            st.success(f"Answers ({health.latency_ms:.0f} ms)", icon=":material/check_circle:")
        else:
            st.error(plain(health.message), icon=":material/error:")


def render_status(drawn_version: int | None = None) -> None:
    """Spend and running jobs, drawn after the page so a take sent by this very run is counted.

    `drawn_version`: the store's version before the page read it; an idle tab is told of any later one
    (`components.tab_push`)."""
    shared = studio()
    page_drawn()  # after a start, the job store loads from here on rather than slow the first page down
    if not shared.store.ready and shared.store.size_on_disk() < QUICK_STORE_BYTES:
        shared.store.wait_ready(QUICK_STORE_WAIT_S)
    with st.sidebar:
        # Defined on every run, so the timer follows what is running now (not what ran at import).
        live = store_busy(wait=False)
        tab_seen(shared.takes.version if drawn_version is None else drawn_version, live)
        # Idle, it still looks once a minute, so a job made or a take rated in another tab is noticed.
        every = 3 if live else IDLE_CHECK_SECONDS if shared.store.ready else OPENING_CHECK_SECONDS
        st.fragment(status_panel, run_every=every)(live, shared.takes.version)


def status_panel(was_live: bool, seen_version: int) -> None:
    """Spend and running jobs (queued ones too), refreshed from the store (never from the network) while a
    job runs, and looked at once a minute while none does."""
    with store_errors_shown():
        _status_panel(was_live, seen_version)


def _status_panel(was_live: bool, seen_version: int) -> None:
    shared = studio()
    if not shared.store.ready:  # a large store still opening after a start: the page works meanwhile
        left, right = st.columns(2)
        left.metric("Spent today", "…", help="Counting: the job store is still opening")
        right.metric("Running", "…", help="Counting: the job store is still opening")
        show_warnings(shared)
        return
    budget = shared.settings.daily_budget_usd
    spent, running, unsure = store_totals(str(shared.store.path), shared.takes.version, time.strftime("%Y-%m-%d"))
    left, right = st.columns(2)
    left.metric("Spent today", f"${spent:.2f}", help=f"Daily budget ${budget:.2f}" if budget else "No budget set")
    right.metric("Running", running, help="Takes queued or rendering, on every page and tab")
    if unsure:
        st.warning(f"{unsure} job{'s' if unsure > 1 else ''} need{'' if unsure > 1 else 's'} a look: the provider "
                   "never confirmed and cannot find them. Filter History by status \"needs a look\".",
                   icon=":material/help:")
    if budget:
        st.progress(min(1.0, spent / budget), text=f"${spent:.2f} of ${budget:.2f} budget")
    show_warnings(shared)
    if not was_live and shared.takes.version != seen_version:
        st.rerun(scope="app")  # an idle tab whose store changed elsewhere (a take rated, a job made): redraw once
    settle(was_live, store_busy())


def show_warnings(shared: Studio) -> None:
    """What the store said as it opened (a damaged file kept aside, a newer schema read-only) and the settings
    file's: here, with the figures, since after a start the store opens once the page is drawn."""
    for warning in shared.warnings:
        st.warning(plain(warning), icon=":material/warning:")
