"""What can be done to jobs picked in the History table: one compact bar, not a stack of cards.

Picking several rows used to stack a full card (player, tags, follow-ups) per row under the table;
now one bar says how many each action applies to, and only a single picked row opens its card, for
remix, extend and edit. Compare opens the Compare page with the picked takes in its address.
"""

from __future__ import annotations

import streamlit as st

from components.guest_links import guest_links_panel
from components.job_card import job_card
from components.runtime import studio
from components.text import plain
from dailies.errors import APIError, RequestRefused
from dailies.jobs import JobStatus
from dailies.review.compare import MAX_TAKES, MIN_TAKES, takes_param
from dailies.review.guests import playlist_id


def selected_actions(job_ids: list[str]) -> None:
    """The bar for the picked rows (ids in table order); kept to this signature, which History calls."""
    shared = studio()
    jobs = [job for job in (shared.takes.get(i) for i in job_ids) if job is not None]
    playable = [job.id for job in jobs if job.has_video]
    downloadable = [job for job in jobs if job.remote_id]
    timed_out = [job for job in jobs if job.status in (JobStatus.TIMED_OUT, JobStatus.NEEDS_LOOK)]
    comparable = len(jobs) == 1 or MIN_TAKES <= len(playable) <= MAX_TAKES
    with st.container(horizontal=True, key="history_actions", vertical_alignment="center", gap="small"):
        st.markdown(f"**{len(jobs)} selected**")
        if st.button(f"Compare {len(playable)}" if len(jobs) > 1 else "Compare", icon=":material/compare:",
                     key="h_compare", disabled=not comparable,
                     help="Play these takes side by side" if comparable else
                     f"Compare plays {MIN_TAKES} to {MAX_TAKES} takes; {len(playable)} of these have a video"):
            query = {"takes": takes_param(playable)} if len(jobs) > 1 else {"job": jobs[0].id}
            st.switch_page("pages/compare.py", query_params=query)
        if st.button(f"Review {len(playable)}", icon=":material/how_to_vote:", key="h_review",
                     disabled=len(playable) < 2, help="Start a review round on these takes: many people score them"):
            st.switch_page("pages/review.py", query_params={"takes": takes_param(playable)})
        if st.button(f"Retry {len(jobs)}", icon=":material/replay:", key="h_retry", help="Send again as new jobs"):
            _each(jobs, shared.retry, "sent again as new jobs")
        if st.button(f"Re-download {len(downloadable)}", icon=":material/download:", key="h_redownload",
                     disabled=not downloadable):
            _each(downloadable, shared.takes.redownload, "queued for download")
        if st.button(f"Re-check {len(timed_out)}", icon=":material/refresh:", key="h_recheck", disabled=not timed_out,
                     help="Ask the provider again about jobs that timed out or need a look"):
            _each(timed_out, shared.takes.recheck, "checked again")
        if st.button(f"Delete {len(jobs)}", icon=":material/delete:", key="h_delete", type="primary"):
            st.session_state["delete_pending"] = list(job_ids)
    if st.session_state.get("delete_pending") == list(job_ids):
        confirm_delete(job_ids)
    if playable:  # the selection as a playlist a guest can review
        guest_links_panel("takes", playlist_id(playable), playable, key="history_playlist", listed="takes")
    if len(jobs) == 1:
        job_card(jobs[0], key=f"h_{jobs[0].id}")
    elif jobs:
        st.caption("Select a single row to remix, extend or edit it.")


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
        cannot = sorted(_cannot_delete_remotely(job_ids))
        none_can = bool(cannot) and len(cannot) == len(_providers_of(job_ids))
        if cannot:
            st.caption(plain(f"{', '.join(cannot)} has no delete: its takes are removed here only, and it keeps "
                             "its own copies."))
        at_provider = st.checkbox("Also delete the videos at the provider", value=not none_can, key="delete_remote",
                                  disabled=none_can)
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


def _providers_of(job_ids: list[str]) -> set[str]:
    shared = studio()
    return {job.provider for job in (shared.takes.get(i) for i in job_ids) if job is not None and job.remote_id}


def _cannot_delete_remotely(job_ids: list[str]) -> set[str]:
    """Labels of the providers of these jobs that have said they have no delete (a gateway's 405)."""
    shared = studio()
    known = set(shared.providers.names())
    return {shared.provider(name).label for name in _providers_of(job_ids)
            if name in known and not shared.capabilities(name).delete}
