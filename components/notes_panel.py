"""A take's review notes on its card: the notes as text with their timecodes, its approval status and the controls to
decide (approve, ask for changes, final, reopen), the previous version's open notes, the notes as OTIO for an
editor, a reply to a note or its done mark, and a small form to pin a note at a frame. No drawing and no seeking
here: the player on Compare does those (a link opens the take there, or the take beside its previous version).
Every rule is `dailies.review.ReviewDesk`'s."""

from __future__ import annotations

import contextlib
import functools

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from components.identity import current_person, signed_in_as
from components.runtime import studio
from components.text import plain
from dailies.errors import RequestRefused
from dailies.jobs import Job
from dailies.review import TRANSITIONS, Author, Note, ReviewDesk, State
from dailies.review.approvals import CONCUR

DECIDE_LABELS: dict[State, tuple[str, str]] = {
    State.APPROVED: ("Approve", ":material/check_circle:"),
    State.CHANGES_REQUESTED: ("Request changes", ":material/edit_note:"),
    State.FINAL: ("Mark final", ":material/lock:"),
    State.IN_REVIEW: ("Reopen", ":material/lock_open:"),
}


EXPORTS = (("Notes as OTIO", "otio", "application/json"),
           ("Markers for Resolve (EDL)", "edl", "text/plain"),
           ("Markers as CSV", "csv", "text/csv"))
"""What an editor takes from the panel: the OTIO timeline (markers at the frames) and a marker list an NLE
imports; FCPXML and the annotated frames come from the API and the CLI."""

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


def _author(key: str) -> Author:
    """The signed-in person, or the name typed in this panel (anyone can type a name; it grants nothing)."""
    person = current_person()
    if person and signed_in_as():
        return Author(person, signed_in=True)
    return Author.typed(st.session_state.get(f"decide_name_{key}") or st.session_state.get("review_name") or person)


def decisions(job: Job, desk: ReviewDesk, approval: dict, key: str) -> None:
    """Each reviewer's latest decision side by side, and a button for each decision the status allows."""
    if approval["reviewers"]:
        st.text("\n".join(f"{d['author']}: {str(d['decision']).replace('_', ' ')}" + (f" ({d['text']})" if d.get("text")
                                                                                   else "")
                          for d in approval["reviewers"]))
    status = State(approval["status"])
    # where the status may go, and a second reviewer's "also approve" / "also changes" (not "reopen" an open take)
    allowed = [s for s in DECIDE_LABELS
               if s in TRANSITIONS[status] or (s == status and s in CONCUR and s != State.IN_REVIEW)]
    why = st.text_input("Why (optional, kept with the decision)", key=f"decide_text_{key}", max_chars=4000)
    if not current_person() and not st.session_state.get("review_name"):
        st.text_input("Your name", key=f"decide_name_{key}",
                      help="Anyone can type a name: it says who decided, nothing more")
    with st.container(horizontal=True):
        for state in allowed:
            label, icon = DECIDE_LABELS[state]
            if st.button(label, icon=icon, key=f"decide_{state}_{key}"):
                try:
                    desk.decide(job.id, str(state), _author(key), why or None)
                except RequestRefused as exc:
                    st.error(plain(exc), icon=":material/block:")
                    return
                st.rerun()


def open_large(job: Job, label: str = "Open large in the player") -> None:
    """A link that opens the take large in the review player on Compare, with its notes (a grid tile, a
    storyboard shot): Compare hosts the one player, rather than a dialog with a second copy of it. Left out
    where there is no Compare page (a card in a unit test)."""
    with contextlib.suppress(StreamlitPageNotFoundError):
        st.page_link("pages/compare.py", label=label, icon=":material/open_in_full:", query_params={"takes": job.id})


def player_links(job: Job, desk: ReviewDesk) -> None:
    """The take in the player on Compare, and beside its previous version (a card shown outside the app's
    pages, as in a unit test, has no Compare page to link to)."""
    with contextlib.suppress(StreamlitPageNotFoundError):
        st.page_link("pages/compare.py", label="Review in the player", icon=":material/play_circle:",
                     query_params={"takes": job.id})
        if (before := desk.previous(job.id)) is not None:
            st.page_link("pages/compare.py", label="Compare with the previous version",
                         icon=":material/difference:", query_params={"takes": f"{before.id},{job.id}"})


def note_actions(notes: list[Note], desk: ReviewDesk, key: str, author: Author | None) -> None:
    """Reply to one of the take's notes, or mark it done (or open again): one note chosen from the list, so a
    take with many notes keeps a short panel. Refusals (a final take, bad text) say why; nothing is stored."""
    with st.container(key=f"note_actions_{key}"):
        labels = {n.id: (f"#{n.frame} {n.author}: {n.text}")[:80] for n in notes}
        chosen = st.selectbox("Note", list(labels), format_func=labels.get, key=f"note_pick_{key}")
        found = next((n for n in notes if n.id == chosen), None)
        reply = st.text_input("Reply", max_chars=4000, key=f"note_reply_{key}", placeholder="A reply to this note")
        with st.container(horizontal=True):
            send = st.button("Reply", icon=":material/reply:", key=f"note_reply_send_{key}")
            toggle = st.button("Open again" if found and found.done else "Mark done",
                               icon=":material/check:", key=f"note_done_{key}")
        if not (send or toggle) or found is None:
            return
        if author is None:
            st.error("Type your name first: a reply or a done mark needs a name.", icon=":material/block:")
            return
        try:
            if send:
                desk.reply(found.id, reply, author)
            else:
                desk.mark_done(found.id, author, not found.done)
        except RequestRefused as exc:
            st.error(plain(exc), icon=":material/block:")
            return
        st.session_state.pop(f"note_reply_{key}", None)
        st.rerun()


def _writer(key: str, guest: Author | None) -> Author | None:
    """Who a reply or done mark is from: the guest, the signed-in person, or the name typed here."""
    if guest is not None:
        return guest
    try:
        return _author(key)
    except RequestRefused:
        return None


def notes_panel(job: Job, key: str, *, expanded: bool = False, guest: Author | None = None) -> None:
    """The take's notes in frame order, as text, decisions, the OTIO export and a form for a new note.

    `guest`: the panel in a guest link's view, writing as that guest. A guest sees this take's notes only:
    not the previous version's (a take outside the link's scope), no links into the workbench, and no
    decisions here (the guest view offers its own two)."""
    desk = _desk()
    try:
        clock, notes, approval = desk.clock(job.id), desk.notes_of(job.id), desk.approval(job.id)
    except (RequestRefused, ValueError):
        return  # no readable video here: nothing to pin notes to
    status = approval["status"].replace("_", " ")
    with st.expander(f"Notes ({len(notes)}) · {status}", icon=":material/sticky_note_2:", key=f"notes_{key}",
                     expanded=expanded):
        stack = desk.stack(job.id)
        with st.container(horizontal=True):
            if len(stack.takes) > 1 and guest is None:
                st.caption(f"Version {stack.label(job.id)} of {len(stack.takes)}")
            if key != "compare" and guest is None:
                player_links(job, desk)
            if notes:
                for label, fmt, mime in EXPORTS:
                    st.download_button(label, functools.partial(desk.export, job.id, fmt),
                                       file_name=f"{job.id}-notes.{fmt}", mime=mime,
                                       icon=":material/download:", key=f"{fmt}_{key}", on_click="ignore")
        if guest is None and (earlier := desk.previous_open_notes(job.id)):
            st.caption("Open notes of the previous version")
            st.text("\n".join(note_line(n, desk) for n in earlier))
        if notes:
            st.text("\n".join(note_line(n, desk) for n in notes))
        else:
            st.caption("No notes yet.")
        if notes and not approval["locked"]:
            note_actions(notes, desk, key, _writer(key, guest))
        if guest is None:
            decisions(job, desk, approval, key)
        if approval["locked"]:
            st.info("This take is final: notes are closed until it is reopened.", icon=":material/lock:")
            return
        with st.form(f"note_form_{key}", border=False, clear_on_submit=True):
            frame = st.number_input(f"Frame (0–{clock.last_frame}, {clock.fps:g} fps)", min_value=0,
                                    max_value=clock.last_frame, step=1, key=f"note_frame_{key}")
            text = st.text_area("Note", max_chars=4000, key=f"note_text_{key}")
            person = None if guest else current_person()
            name = person or guest or st.text_input("Your name", key=f"note_name_{key}",
                                           help="Anyone can type a name: it says who wrote the note, nothing more")
            if st.form_submit_button("Add note", icon=":material/add_comment:"):
                try:
                    author = (guest if guest else Author(person, signed_in=True) if person and signed_in_as()
                              else Author.typed(name))
                    made = desk.add_note(job.id, int(frame), text, author)
                except RequestRefused as exc:
                    st.error(plain(exc), icon=":material/block:")
                    return
                st.toast(plain(f"Note added at {clock.timecode(made.frame)}"), icon=":material/sticky_note_2:")
                st.rerun()
