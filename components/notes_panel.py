"""A take's review notes on its card: the notes as text with their timecodes, its approval status, the
previous version's open notes, and a small form to pin a note at a frame. No drawing and no seeking here:
the review page's player does those; this is the minimum a reviewer needs on any card. Every rule is
`dailies.review.ReviewDesk`'s."""

from __future__ import annotations

import streamlit as st

from components.identity import current_person, signed_in_as
from components.runtime import studio
from components.text import plain
from dailies.errors import RequestRefused
from dailies.jobs import Job
from dailies.review import Author, Note, ReviewDesk


def _desk() -> ReviewDesk:
    shared = studio()
    return ReviewDesk(shared.store, shared.media)  # no state of its own: cheap to make per run


def note_line(note: Note, desk: ReviewDesk) -> str:
    """One note as a line of text: `00:00:01:13–00:00:02:00  Ann: kite too small (done)`."""
    view = note.view(desk.clock(note.take))
    where = f"{view['timecode']}–{view['end_timecode']}" if view["end_timecode"] else view["timecode"]
    done = f"  (done, {note.done_by})" if note.done else ""
    replies = "".join(f"\n    ↳ {r.author}: {r.text}" for r in note.replies)
    return f"{where}  {note.author}: {note.text}{done}{replies}"


def notes_panel(job: Job, key: str) -> None:
    """The take's notes in frame order, as text, and a form for a new one (frame number and text)."""
    desk = _desk()
    try:
        clock, notes, approval = desk.clock(job.id), desk.notes_of(job.id), desk.approval(job.id)
    except (RequestRefused, ValueError):
        return  # no readable video here: nothing to pin notes to
    status = approval["status"].replace("_", " ")
    with st.expander(f"Notes ({len(notes)}) · {status}", icon=":material/sticky_note_2:", key=f"notes_{key}"):
        stack = desk.stack(job.id)
        if len(stack.takes) > 1:
            st.caption(f"Version {stack.label(job.id)} of {len(stack.takes)}")
        if earlier := desk.previous_open_notes(job.id):
            st.caption("Open notes of the previous version")
            st.text("\n".join(note_line(n, desk) for n in earlier))
        if notes:
            st.text("\n".join(note_line(n, desk) for n in notes))
        else:
            st.caption("No notes yet.")
        if approval["locked"]:
            st.info("This take is final: notes are closed until it is reopened.", icon=":material/lock:")
            return
        with st.form(f"note_form_{key}", border=False, clear_on_submit=True):
            frame = st.number_input(f"Frame (0–{clock.last_frame}, {clock.fps:g} fps)", min_value=0,
                                    max_value=clock.last_frame, step=1, key=f"note_frame_{key}")
            text = st.text_area("Note", max_chars=4000, key=f"note_text_{key}")
            person = current_person()
            name = person or st.text_input("Your name", key=f"note_name_{key}",
                                           help="Anyone can type a name: it says who wrote the note, nothing more")
            if st.form_submit_button("Add note", icon=":material/add_comment:"):
                try:
                    author = Author(person, signed_in=True) if person and signed_in_as() else Author.typed(name)
                    made = desk.add_note(job.id, int(frame), text, author)
                except RequestRefused as exc:
                    st.error(plain(exc), icon=":material/block:")
                    return
                st.toast(plain(f"Note added at {clock.timecode(made.frame)}"), icon=":material/sticky_note_2:")
                st.rerun()
