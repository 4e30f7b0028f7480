"""The guest view: what a browser that opened a guest link sees, on any path, instead of the workbench.

Only the link's takes: each one's review player (that take alone, notes at a frame written as the guest), its
review status and each reviewer's latest decision, its notes (the take card's Notes panel: read and add) and two
decisions a reviewer makes (approve, ask for changes; making a take final, or reopening one, stays with the team).
No sidebar, no pages, no Settings: the script stops before `st.navigation` runs. `?take=ID` shows one take, and
only one the link's scope allows; any other id is refused without saying anything about it. The guest types a
name, shown as "guest: name": like a typed name anywhere in the workbench, it says who wrote a note, and proves
nothing.
"""

from __future__ import annotations

import time

import streamlit as st

from components.guest_access import guest_link
from components.identity import NAME
from components.notes_panel import notes_panel
from components.review_player import review_player, saved_toast
from components.review_round import author_of
from components.review_status import LABELS, status_badge
from components.runtime import media_url, studio
from components.text import plain
from dailies.errors import RequestRefused
from dailies.jobs import Job
from dailies.review import Author, ReviewDesk, State
from dailies.review.guests import GuestLink
from dailies.review.rounds import ReviewBook
from dailies.web.paths import GUEST_LEAVE_ROUTE

GUEST_NAME = "guest_name_input"
DECISIONS = {State.APPROVED: ("Approve", ":material/check_circle:"),
             State.CHANGES_REQUESTED: ("Request changes", ":material/edit_note:")}
"""What a guest may decide (the team makes a take final or reopens it)."""
PREFIX = "guest: "


def guest_view() -> None:
    """The view of the guest link this browser holds (`workbench.py` stops the run after it): its review, or
    why the link opens nothing now."""
    found = guest_link(st.context.cookies)
    st.title("Review")
    if not isinstance(found, GuestLink):  # revoked, expired, unknown (or no cookie at all: nothing to show)
        st.error(plain(found or "This review link is not valid."), icon=":material/link_off:")
        st.caption(f"[Forget this link in this browser]({GUEST_LEAVE_ROUTE})")
        return
    _review(found)


def _ordered(link: GuestLink) -> list[Job]:
    takes = studio().takes
    jobs = [job for job in (takes.get(take) for take in link.scope.takes) if job is not None]
    return sorted(jobs, key=lambda job: (job.created_at, job.id))


def _shots(link: GuestLink) -> dict[str, str]:
    """A board's takes by the name of their shot (`Shot 2`), so that a guest reviews a scene, not numbers."""
    if link.scope.kind != "board":
        return {}
    from components.storyboard_view import storyboards
    from dailies.errors import ValidationError

    try:
        board = storyboards().get(link.scope.id)
    except ValidationError:  # the board was deleted since: its takes are still the link's
        return {}
    return {take: shot.name for shot in board.shots for take in shot.takes}


def _blind(link: GuestLink) -> bool:
    """A blind round's guests see no prompts or models, as its reviewers do."""
    if link.scope.kind != "round":
        return False
    found = ReviewBook(studio().store).get(link.scope.id)
    return bool(found and found.blind)


def _keep_name() -> None:
    typed = " ".join(str(st.session_state.get(GUEST_NAME) or "").split())[:60]
    st.session_state[NAME] = f"{PREFIX}{typed}" if typed else ""


def _decide(take: str, decision: State) -> None:
    shared = studio()
    try:
        ReviewDesk(shared.store, shared.media).decide(take, decision, Author.typed(st.session_state.get(NAME)))
    except RequestRefused as exc:
        st.session_state["guest_problem"] = str(exc)


def _take(job: Job, number: int, *, blind: bool, named: bool, shot: str = "") -> None:
    shared = studio()
    approval = ReviewDesk(shared.store, shared.media).approval(job.id)
    with st.container(border=True, key=f"guest_take_{number}"):
        st.markdown(f"**Take {number}**" + (f" · {plain(shot)}" if shot else ""))
        status_badge(job.id)
        url = media_url(job) if job.has_video else None
        if url:  # this take alone: the player gets no other take (not its previous version), named as here
            saved_toast(f"guest_player_{number}")
            review_player([job], key=f"guest_player_{number}", desk=ReviewDesk(shared.store, shared.media),
                          url_of=media_url, author=author_of(st.session_state.get(NAME)) if named else None,
                          labels=[f"Take {number}" + (f" · {shot}" if shot else "")])
        else:
            st.caption("This take's video is not here.")
        if not blind:
            st.caption(plain(job.prompt))
        if approval["reviewers"]:
            st.text("\n".join(f"{r['author']}: {LABELS[r['decision']]}" + (f" ({r['text']})" if r["text"] else "")
                              for r in approval["reviewers"]))
        if named and not approval["locked"]:
            with st.container(horizontal=True):
                for decision, (label, icon) in DECISIONS.items():
                    st.button(label, key=f"guest_decide_{decision}_{number}", icon=icon, on_click=_decide,
                              args=(job.id, decision))
        if named:
            notes_panel(job, key=f"guest_{number}", guest=Author.typed(st.session_state.get(NAME)))


def _review(link: GuestLink) -> None:
    if problem := st.session_state.pop("guest_problem", None):
        st.error(plain(problem), icon=":material/block:")
    if link.label:
        st.subheader(plain(link.label))
    st.caption(f"A review link shared with you: {len(link.scope.takes)} take{'s' * (len(link.scope.takes) != 1)}, "
               f"open until {_when(link.expires_at)}. [Leave this review]({GUEST_LEAVE_ROUTE})")
    st.text_input("Your name", key=GUEST_NAME, on_change=_keep_name, max_chars=60,
                  help="Shown beside your notes and decisions as \"guest: name\". This is not sign-in: anyone can "
                       "type any name.")
    named = bool(st.session_state.get(NAME))
    if named:
        st.caption(f"Reviewing as **{plain(st.session_state[NAME])}** (a name, not a sign-in)")
    else:
        st.info("Type your name to write notes and decide.", icon=":material/badge:")
    jobs, blind, shots = _ordered(link), _blind(link), _shots(link)
    if shots:  # a board's takes in the order of its shots
        order = list(shots)
        jobs.sort(key=lambda job: order.index(job.id) if job.id in order else len(order))
    numbers = {job.id: n for n, job in enumerate(jobs, start=1)}
    asked = st.query_params.get("take")
    if asked is not None:
        if not link.scope.allows(asked) or asked not in numbers:
            st.error("That take is not part of this review.", icon=":material/block:")
            return
        jobs = [job for job in jobs if job.id == asked]
    with st.grid(min(3, max(1, len(jobs))), gap="small"):
        for job in jobs:
            _take(job, numbers[job.id], blind=blind, named=named, shot=shots.get(job.id, ""))


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))
