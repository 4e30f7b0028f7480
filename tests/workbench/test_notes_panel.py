"""The Notes panel on a take's card: notes as text with timecodes, a note pinned at a frame, a final take closed."""

from __future__ import annotations

import pytest
from page_helpers import no_exception
from streamlit.testing.v1 import AppTest

from dailies.jobs import JobRequest
from dailies.review import Author, ReviewDesk


def card(job_id: str) -> None:
    from components.notes_panel import notes_panel
    from components.runtime import studio

    notes_panel(studio().store.require(job_id), "t")


@pytest.mark.slow
def test_a_reviewer_reads_and_pins_notes_on_a_takes_card(open_page, studio_of) -> None:
    open_page("generate.py")
    shared = studio_of()
    job = shared.submit(JobRequest(prompt="a paper boat on a pond", model="dailies-preview", size="1280x720",
                                   seconds=4))
    assert shared.tracker.run_until_idle(timeout=90)
    desk = ReviewDesk(shared.store, shared.media)
    desk.add_note(job.id, 60, "[click](https://evil.example) too dark", Author("Ben"), end_frame=70)

    at = no_exception(AppTest.from_function(card, args=(job.id,), default_timeout=30).run())
    assert at.expander[0].label.startswith("Notes (1)")
    assert at.text[0].value == "00:00:02:12–00:00:02:22  Ben: [click](https://evil.example) too dark"
    at.number_input(key="note_frame_t").set_value(37)
    at.text_area(key="note_text_t").input("hold this beat longer")
    at.text_input(key="note_name_t").input("Ann")
    at = no_exception(next(b for b in at.button if b.label == "Add note").click().run())
    notes = desk.notes_of(job.id)
    assert [(n.frame, n.author, n.text) for n in notes] == [(37, "Ann", "hold this beat longer"),
                                                            (60, "Ben", "[click](https://evil.example) too dark")]
    assert at.text[0].value.splitlines()[0] == "00:00:01:13  Ann: hold this beat longer"

    for decision in ("approved", "final"):
        desk.decide(job.id, decision, Author("Ann"))
    at = no_exception(AppTest.from_function(card, args=(job.id,), default_timeout=30).run())
    assert "final" in at.expander[0].label and not at.number_input and "final" in at.info[0].value


@pytest.mark.slow
def test_reviewers_decide_on_the_card_and_the_players_bad_notes_store_nothing(open_page, studio_of) -> None:
    from components.review_player import save_note

    open_page("generate.py")
    shared = studio_of()
    job = shared.submit(JobRequest(prompt="a kite at dusk", model="dailies-preview", size="1280x720", seconds=4))
    assert shared.tracker.run_until_idle(timeout=90)
    desk = ReviewDesk(shared.store, shared.media)

    at = no_exception(AppTest.from_function(card, args=(job.id,), default_timeout=30).run())
    assert [b.label for b in at.button if b.label != "Add note"] == ["Approve", "Request changes"]
    at.text_input(key="decide_name_t").input("Ann")
    at = no_exception(next(b for b in at.button if b.label == "Approve").click().run())
    at.text_input(key="decide_name_t").input("Ben")
    at.text_input(key="decide_text_t").input("the kite is too small")
    at = no_exception(next(b for b in at.button if b.label == "Request changes").click().run())
    approval = desk.approval(job.id)
    assert approval["status"] == "changes_requested"
    assert [(d["author"], d["decision"]) for d in approval["reviewers"]] == [("Ann", "approved"),
                                                                            ("Ben", "changes_requested")]
    assert "Ann: approved\nBen: changes requested (the kite is too small)" in [t.value for t in at.text]

    # What the player sends is checked by the core: a frame past the take, a bad drawing, no author.
    for event, author, says in [({"frame": 96, "text": "late"}, Author("Ann"), "not in this take"),
                                ({"frame": 3, "text": "x", "drawing": [{"kind": "blob"}]}, Author("Ann"), "kind"),
                                ({"frame": 3, "text": "x"}, None, "name"),
                                ("<script>", Author("Ann"), "not a note")]:
        saved = save_note(desk, job.id, event, author)
        assert saved.note is None and says in saved.refused, saved
    assert desk.notes_of(job.id) == [], "nothing stored"
    box = [{"kind": "rect", "colour": "red", "box": [0.5, 0.6, 0.2, 0.3]}]
    saved = save_note(desk, job.id, {"frame": 12, "end_frame": 20, "text": "here", "drawing": box}, Author("Ann"))
    assert saved.note is not None and (saved.note.frame, saved.note.end_frame) == (12, 20)
    assert desk.notes_of(job.id)[0].drawing == [{"kind": "rect", "colour": "red", "box": [0.2, 0.3, 0.5, 0.6]}]


def guest_card(job_id: str, name: str) -> None:
    from components.notes_panel import notes_panel
    from components.runtime import studio
    from dailies.review import Author

    notes_panel(studio().store.require(job_id), "g", guest=Author.typed(name))


@pytest.mark.slow
def test_a_guest_sees_only_this_versions_notes_and_writes_as_the_guest(open_page, studio_of) -> None:
    """A guest link scoped to v2 must not read v1's notes (v1 is outside its scope), nor be offered
    decisions or links into the workbench; the guest's note carries the guest's name."""
    open_page("generate.py")
    shared = studio_of()
    first = shared.submit(JobRequest(prompt="a paper boat on a pond", model="dailies-preview", size="1280x720",
                                     seconds=4))
    second = shared.submit(JobRequest(prompt="a paper boat on a pond", model="dailies-preview", size="1280x720",
                                      seconds=4))
    assert shared.tracker.run_until_idle(timeout=90)
    desk = ReviewDesk(shared.store, shared.media)
    desk.add_note(first.id, 12, "the secret ending shows here", Author("Ben"))
    desk.add_version(second.id, of=first.id)
    assert [n.text for n in desk.previous_open_notes(second.id)] == ["the secret ending shows here"]

    team = no_exception(AppTest.from_function(card, args=(second.id,), default_timeout=30).run())
    assert any("the secret ending" in t.value for t in team.text), "the team sees the previous version's notes"

    at = no_exception(AppTest.from_function(guest_card, args=(second.id, "guest: Gil"), default_timeout=30).run())
    assert not any("the secret ending" in t.value for t in at.text)
    assert not any("Version" in str(c.value) for c in at.caption)
    assert [b.label for b in at.button] == ["Add note"], "no decisions, no links: the guest view has its own"
    at.number_input(key="note_frame_g").set_value(20)
    at.text_area(key="note_text_g").input("the boat drifts too fast")
    no_exception(next(b for b in at.button if b.label == "Add note").click().run())
    assert [(n.frame, n.author) for n in desk.notes_of(second.id)] == [(20, "guest: Gil")]


@pytest.mark.slow
def test_a_reviewer_replies_to_a_note_and_marks_it_done_on_the_card_and_in_the_player(open_page, studio_of) -> None:
    """The panel's reply and done store through the desk, shown as text; the player's reply and done events
    do the same, and one naming another take's note is refused with nothing stored."""
    from components.review_player import save_note

    open_page("generate.py")
    shared = studio_of()
    job = shared.submit(JobRequest(prompt="a kite at dusk", model="dailies-preview", size="1280x720", seconds=4))
    other = shared.submit(JobRequest(prompt="a kite at noon", model="dailies-preview", size="1280x720", seconds=4))
    assert shared.tracker.run_until_idle(timeout=90)
    desk = ReviewDesk(shared.store, shared.media)
    note = desk.add_note(job.id, 24, "kite too small", Author("Ben"))
    elsewhere = desk.add_note(other.id, 5, "not this take's", Author("Ben"))

    at = no_exception(AppTest.from_function(card, args=(job.id,), default_timeout=30).run())
    at.text_input(key="decide_name_t").input("Ann")
    at.text_input(key="note_reply_t").input("<b>bigger</b> by a third?")
    at = no_exception(at.button(key="note_reply_send_t").click().run())
    assert [(r.author, r.text) for r in desk.notes_of(job.id)[0].replies] == [("Ann", "<b>bigger</b> by a third?")]
    assert "\n    ↳ Ann: <b>bigger</b> by a third?" in at.text[0].value, "the reply shown as text, under its note"
    assert at.button(key="note_done_t").label == "Mark done"
    at = no_exception(at.button(key="note_done_t").click().run())
    assert desk.notes_of(job.id)[0].done and desk.notes_of(job.id)[0].done_by == "Ann"
    assert "(done, Ann)" in at.text[0].value and at.button(key="note_done_t").label == "Open again"

    # The player's note list: a reply and "open again" as events, and a note of another take refused.
    saved = save_note(desk, job.id, {"action": "reply", "id": note.id, "text": "agreed"}, Author("Cy"))
    assert saved.replied and [r.text for r in saved.note.replies] == ["<b>bigger</b> by a third?", "agreed"]
    saved = save_note(desk, job.id, {"action": "done", "id": note.id, "done": False}, Author("Cy"))
    assert saved.replied and not desk.notes_of(job.id)[0].done
    saved = save_note(desk, job.id, {"action": "done", "id": elsewhere.id}, Author("Cy"))
    assert "not one of this take's" in saved.refused and not desk.notes_of(other.id)[0].done
    saved = save_note(desk, job.id, {"action": "reply", "id": note.id, "text": "x"}, None)
    assert "name" in saved.refused and len(desk.notes_of(job.id)[0].replies) == 2
