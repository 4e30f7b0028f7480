"""The sidebar every page shows: who renders, whether they answer, today's spend, what is running."""

from __future__ import annotations

import time

import streamlit as st

from components.runtime import studio
from components.text import plain
from dailies.jobs import JobStatus
from dailies.providers.base import Health


@st.cache_data(ttl=15, show_spinner=False)
def provider_health(name: str, _stamp: int) -> Health:
    """Ask the provider at most every 15 seconds, whatever the number of sessions and reruns."""
    return studio().provider(name).health()


def render_sidebar() -> None:
    shared = studio()
    with st.sidebar:
        name = shared.active_provider_name
        provider = shared.provider(name)
        health = provider_health(name, int(time.time() // 15))
        st.caption("Provider")
        st.markdown(f"**{plain(provider.label)}**")
        if health.ok:
            st.success(f"Answers ({health.latency_ms:.0f} ms)", icon=":material/check_circle:")
        else:
            st.error(plain(health.message), icon=":material/error:")
        for warning in shared.warnings:
            st.warning(plain(warning), icon=":material/warning:")


def render_status() -> None:
    """Spend and running jobs, drawn after the page so a take sent by this very run is counted."""
    with st.sidebar:
        status_panel()


@st.fragment(run_every=3)
def status_panel() -> None:
    """Spend and running jobs (queued ones too), refreshed from the store (never from the network)."""
    shared = studio()
    budget = shared.settings.daily_budget_usd
    spent = shared.spent_today()
    left, right = st.columns(2)
    left.metric("Spent today", f"${spent:.2f}", help=f"Daily budget ${budget:.2f}" if budget else "No budget set")
    right.metric("Running", shared.active_count(), help="Takes queued or rendering, on every page and tab")
    unsure = len(shared.store.query(status=JobStatus.NEEDS_LOOK))
    if unsure:
        st.warning(f"{unsure} job{'s' if unsure > 1 else ''} need{'' if unsure > 1 else 's'} a look: the provider "
                   "never confirmed and cannot find them. Filter History by status \"needs a look\".",
                   icon=":material/help:")
    if budget:
        st.progress(min(1.0, spent / budget), text=f"${spent:.2f} of ${budget:.2f} budget")
