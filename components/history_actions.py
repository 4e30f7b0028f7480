"""What can be done to jobs picked in the History table."""

from __future__ import annotations

import streamlit as st

from components.job_card import job_card
from components.runtime import studio
from components.text import plain
from dailies.errors import APIError, RequestRefused
from dailies.jobs import JobStatus


def selected_actions(job_ids: list[str]) -> None:
    shared = studio()
    jobs = [job for job in (shared.store.get(i) for i in job_ids) if job is not None]
    st.caption(f"{len(jobs)} selected")
    with st.container(horizontal=True, key="history_actions"):
        if st.button("Compare", icon=":material/compare:", key="h_compare", disabled=not jobs):
            st.switch_page("pages/compare.py", query_params={"job": jobs[0].id})
        if st.button("Retry", icon=":material/replay:", key="h_retry"):
            _each(jobs, shared.retry, "sent again as new jobs")
        if st.button("Re-download", icon=":material/download:", key="h_redownload"):
            _each([j for j in jobs if j.remote_id], shared.redownload, "queued for download")
        if st.button("Re-check", icon=":material/refresh:", key="h_recheck"):
            _each([j for j in jobs if j.status in (JobStatus.TIMED_OUT, JobStatus.NEEDS_LOOK)], shared.recheck,
                  "checked again")
        if st.button("Delete", icon=":material/delete:", key="h_delete", type="primary"):
            st.session_state["delete_pending"] = list(job_ids)
    if st.session_state.get("delete_pending") == list(job_ids):
        confirm_delete(job_ids)
    for job in jobs[:4]:
        job_card(job, key=f"h_{job.id}")


def _each(jobs, action, done: str) -> None:
    errors = []
    for job in jobs:
        try:
            action(job.id)
        except (RequestRefused, APIError, KeyError) as exc:  # KeyError: deleted meanwhile in another session
            errors.append(f"{job.id}: {exc}")
    for error in errors:
        st.error(plain(error))
    if len(jobs) > len(errors):
        st.toast(f"{len(jobs) - len(errors)} job(s) {done}", icon=":material/check:")


def confirm_delete(job_ids: list[str]) -> None:
    """Ask once more, in place: deleting removes the files here and, if asked, the videos at the provider."""
    shared = studio()
    with st.container(border=True, key="delete_confirmation"):
        st.warning(f"Delete {len(job_ids)} job(s) and their files here? This cannot be undone.",
                   icon=":material/delete_forever:")
        at_provider = st.checkbox("Also delete the videos at the provider", value=True, key="delete_remote")
        with st.container(horizontal=True):
            confirmed = st.button(f"Delete {len(job_ids)} job(s)", type="primary", key="delete_confirm")
            if st.button("Cancel", key="delete_cancel"):
                st.session_state.pop("delete_pending", None)
                st.rerun()
    if not confirmed:
        return
    errors = []
    for job_id in job_ids:
        try:
            shared.delete(job_id, remote=at_provider)
        except (APIError, KeyError) as exc:
            errors.append(f"{job_id}: {exc}")
    st.session_state.pop("delete_pending", None)
    if errors:
        st.error("  \n".join(plain(e) for e in errors))
    else:
        st.rerun()
