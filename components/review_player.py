"""The reviewer's player: takes on one timeline, frame-accurate notes, drawings on the frame, compare modes.

One Streamlit custom component (`st.components.v2`, its script in review_player.js): the same player shows
one take for review or two to four side by side, and two as a wipe (a draggable split), a difference
(`mix-blend-mode: difference`) or an overlay with an opacity slider. Space, J/K/L, ← → and `,` `.` drive every
side; each side can start some frames later or earlier (`offsets`). The reviewer writes a note at the
target take's frame (or an in/out range set with `i`/`o`) and draws on the paused frame; both come back
here as one event and are stored through `ReviewDesk`, whose rules (frames of the take, plain text, checked
drawings, a final take locked) decide. The frame rate, frame count and timecode base of each take come
from the core's `Clock`, so the script never guesses them; it seeks to `Clock.seek_time` (the middle of a
frame) and reads frames as `Clock.frame_at_time` does. Text people wrote is set as text, never markup.

Small API for any page (Compare, a guest's view): `review_player(jobs, key=..., desk=..., author=...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import streamlit as st

from components.text import plain
from dailies.errors import RequestRefused
from dailies.jobs import Job
from dailies.review import Author, Clock, Note, ReviewDesk
from dailies.review.drawing import PALETTE

__all__ = ["MODES", "Mode", "review_player"]

Mode = Literal["side", "wipe", "difference", "overlay"]
MODES: dict[str, str] = {"side": "Side by side", "wipe": "Wipe", "difference": "Difference", "overlay": "Overlay"}
"""How two takes are shown; wipe, difference and overlay stack the first two takes in one frame."""

_HERE = Path(__file__).parent
_player = st.components.v2.component(
    "dailies_review_player",
    js=(_HERE / "review_player.js").read_text(encoding="utf-8"),
    css=(_HERE / "review_player.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # in the page's DOM: the page's theme, and tests read the <video>s directly
)


@dataclass(frozen=True)
class Saved:
    """What the last note event did, for the page to say (a toast, or the refusal's sentence)."""

    note: Note | None = None
    refused: str = ""
    replied: bool = False
    """A reply or a done mark (not a new note): the page says so rather than where a note went."""


def _clock(desk: ReviewDesk, job: Job) -> Clock | None:
    """The take's frames, or None when its video is not on this machine to probe (only in the team's bucket):
    it still plays, by time, and takes no notes here."""
    try:
        return desk.clock(job.id)
    except (RequestRefused, ValueError, OSError):
        return None


def _take_data(job: Job, clock: Clock | None, url: str, offset: int, label: str | None = None) -> dict[str, Any]:
    """What the browser gets of a take. `label` given (a blind round's "Left", a guest's "Take 2"): that label
    and no caption, so nothing about the take's model or request reaches the page."""
    return {"id": job.id, "label": label if label is not None else f"{job.kind} · {job.id}",
            "caption": "" if label is not None else f"{job.size}", "url": url,
            "fps": clock.fps if clock else None, "base": clock.base if clock else None,
            "frames": clock.frames if clock else None, "offset": int(offset)}


def _note_data(note: Note, desk: ReviewDesk) -> dict[str, Any]:
    clock = desk.clock(note.take)
    view = note.view(clock)
    return {"id": note.id, "frame": note.frame, "end_frame": note.end_frame, "timecode": view["timecode"],
            "end_timecode": view["end_timecode"], "seek": clock.seek_time(note.frame), "text": note.text,
            "author": note.author, "done": note.done, "done_by": note.done_by, "drawing": note.drawing,
            "replies": [{"author": r.author, "text": r.text} for r in note.replies]}


def save_note(desk: ReviewDesk, take_id: str, event: Any, author: Author | None) -> Saved:
    """A note event from the player stored through the desk, or the sentence saying why not (nothing stored)."""
    if not isinstance(event, dict):
        return Saved(refused="The player sent something that is not a note.")
    if author is None:
        return Saved(refused="Type your name above first: a note needs an author.")
    action = event.get("action") or "note"
    if action in ("reply", "done") and event.get("id") not in {n.id for n in desk.notes_of(take_id)}:
        return Saved(refused="That note is not one of this take's.")  # the player lists this take's notes only
    try:
        if action == "reply":
            desk.reply(str(event["id"]), event.get("text"), author)
            return Saved(note=desk.notes.get(str(event["id"])), replied=True)
        if action == "done":
            return Saved(note=desk.mark_done(str(event["id"]), author, bool(event.get("done", True))), replied=True)
        made = desk.add_note(take_id, event.get("frame"), event.get("text"), author,
                             end_frame=event.get("end_frame"), drawing=event.get("drawing") or None)
    except RequestRefused as exc:
        return Saved(refused=str(exc))
    return Saved(note=made)


def review_player(jobs: Sequence[Job], *, key: str, desk: ReviewDesk, url_of: Callable[[Job], str | None],
                  author: Author | None, target: int = 0, mode: Mode = "side", opacity: float = 0.5,
                  offsets: Sequence[int] | None = None, labels: Sequence[str] | None = None) -> Saved | None:
    """Show `jobs` in the player; notes and drawings are pinned to `jobs[target]`. Returns what a note event
    of this run did (None when there was none); after a stored note the page reruns with it listed.

    `labels`: what each take is called on the page instead of its kind and id (a blind round's "Left" and
    "Right"): then the browser gets no caption either. Only `jobs` reach the browser, never their other
    versions, so a guest's player holds the guest's takes alone. Replies and done marks come back from the
    note list as note events too, stored through the same desk as `author`."""
    if not jobs:
        st.info("Nothing to play yet.")
        return None
    offsets = list(offsets or [0] * len(jobs))
    lead = jobs[target]
    clocks = [_clock(desk, job) for job in jobs]
    takes = [_take_data(job, clocks[i], url_of(job) or "", offsets[i], labels[i] if labels else None)
             for i, job in enumerate(jobs)]
    known = clocks[target] is not None
    notes = [_note_data(note, desk) for note in desk.notes_of(lead.id)] if known else []
    data = {"takes": takes, "target": target, "mode": mode if len(jobs) >= 2 else "side", "opacity": opacity,
            "notes": notes, "palette": PALETTE, "writable": known and not desk.approvals.locked(lead.id)}
    result = _player(key=key, data=data, on_note_change=lambda: None)
    event = getattr(result, "note", None)
    if event is None:
        return None
    saved = save_note(desk, lead.id, event, author)
    if saved.replied:
        st.rerun()
    if saved.note is not None:
        st.session_state[f"{key}_saved"] = desk.clock(lead.id).timecode(saved.note.frame)
        st.rerun()
    st.error(plain(saved.refused), icon=":material/block:")
    return saved


def saved_toast(key: str) -> None:
    """Say where the last note went (after the rerun that lists it)."""
    where = st.session_state.pop(f"{key}_saved", None)
    if where:
        st.toast(f"Note added at {where}", icon=":material/sticky_note_2:")
