"""A take's review status where takes are listed: History's column and filter, a grid tile's badge, a shot's line.

Every status comes from `ReviewDesk.statuses` (one read of the decisions for all takes), once per store
version and shared by every tab, so a History of thousands of takes pays one pass, not one query per row.
"""

from __future__ import annotations

import streamlit as st

from components.runtime import studio
from dailies.review import INITIAL, ReviewDesk, State

LABELS: dict[str, str] = {
    State.IN_REVIEW: "in review",
    State.CHANGES_REQUESTED: "changes requested",
    State.APPROVED: "approved",
    State.FINAL: "final",
}
"""How each status reads on a page (the API and exports keep the machine's names)."""
BADGE_COLOURS: dict[str, str] = {State.IN_REVIEW: "gray", State.CHANGES_REQUESTED: "orange",
                                 State.APPROVED: "green", State.FINAL: "blue"}
BADGE_ICONS: dict[str, str] = {State.IN_REVIEW: ":material/rate_review:",
                               State.CHANGES_REQUESTED: ":material/edit_note:",
                               State.APPROVED: ":material/check_circle:", State.FINAL: ":material/verified:"}


@st.cache_data(max_entries=2, show_spinner=False)
def _statuses(store_path: str, store_version: int) -> dict[str, str]:
    shared = studio()
    return ReviewDesk(shared.store, shared.media).statuses()


def review_statuses() -> dict[str, str]:
    """Every decided take's status (a take not in it is in review), read once per store version."""
    shared = studio()
    return _statuses(str(shared.store.path), shared.takes.version)


def status_of(take_id: str) -> str:
    return review_statuses().get(take_id, str(INITIAL))


def status_badge(take_id: str) -> None:
    """The take's status as a small coloured badge (a grid tile's, a shot's)."""
    state = status_of(take_id)
    st.badge(LABELS[state], icon=BADGE_ICONS[state], color=BADGE_COLOURS[state])  # type: ignore[arg-type]
