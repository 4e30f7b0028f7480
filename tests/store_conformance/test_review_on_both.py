"""Reviews live in the store's own tables, so they work on whichever backend is configured: notes, replies,
done marks, decisions and versions written through one store are read back through another opened on the
same data (as another server would), on the journal and on PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from review_fixtures import store_take, tiny_video
from store_backends import Backend

from dailies.errors import RequestRefused
from dailies.media import MediaLibrary
from dailies.review import Author, ReviewDesk


def test_notes_decisions_and_versions_are_shared_through_the_store(backend: Backend, tmp_path: Path) -> None:
    media = MediaLibrary(backend.home / "media")
    writer = backend.open()
    video = tiny_video(tmp_path / "clip.mp4", fps=24, frames=48)
    first = store_take(writer, media, video, "a kite, first cut")
    second = store_take(writer, media, video, "a kite, retake")
    desk = ReviewDesk(writer, media)
    note = desk.add_note(first.id, 37, "the kite is too small", Author("Ann"), end_frame=40)
    desk.reply(note.id, "bigger in the retake", Author("Bob"))
    desk.add_note(first.id, 12, "hold this beat", Author.typed("guest: Gil"))
    desk.add_version(second.id, of=first.id)
    desk.decide(first.id, "changes_requested", Author("Ann"), "see notes")
    desk.decide(second.id, "approved", Author("Ann"))
    desk.decide(second.id, "final", Author("Ann"))

    reader = ReviewDesk(backend.open(), media)  # another process or server on the same data
    assert [(n.frame, n.end_frame, n.author, n.text) for n in reader.notes_of(first.id)] == [
        (12, None, "guest: Gil", "hold this beat"), (37, 40, "Ann", "the kite is too small")]
    assert [r.text for r in reader.notes_of(first.id)[1].replies] == ["bigger in the retake"]
    assert [n.text for n in reader.previous_open_notes(second.id)] == ["hold this beat", "the kite is too small"]
    assert reader.statuses() == {first.id: "changes_requested", second.id: "final"}
    assert reader.approval(second.id)["locked"]
    with pytest.raises(RequestRefused):
        reader.add_note(second.id, 3, "one more thing", Author("Bob"))  # final: locked on every server
