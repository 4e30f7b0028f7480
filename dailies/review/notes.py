"""Notes pinned to a frame (or an in/out range) of a take, their replies, and who marked them done.

One record per note in `review_notes` (key: the note's id) and one per reply in `review_replies` (key: the
reply's id, pointing at its note), so two reviewers writing at once, in two processes, never write the
same record: nothing is read-modified-written. The only fields changed after a note is written are its
done flag and who/when, set field by field. Frames are checked against the take's `Clock` before anything
is written; text is plain and bounded (`dailies.review.text`), drawings checked (`dailies.review.drawing`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from dailies.errors import ValidationError
from dailies.review.drawing import check_drawing
from dailies.review.ids import new_id
from dailies.review.text import MAX_NAME, MAX_NOTE, plain_text
from dailies.review.timecode import Clock

__all__ = ["NOTES_TABLE", "REPLIES_TABLE", "Author", "Note", "NoteBook", "Reply"]

NOTES_TABLE = "review_notes"
REPLIES_TABLE = "review_replies"


@dataclass(frozen=True)
class Author:
    """Who wrote something: a signed-in identity (`signed_in`), or a name typed in the browser tab or sent
    by a script, which anyone can type (shown as such, grants nothing)."""

    name: str
    signed_in: bool = False

    @classmethod
    def typed(cls, name: Any) -> Author:
        checked = plain_text(name, MAX_NAME, what="author", lines=False)
        if not checked:
            raise ValidationError("A note needs an author: a name.", field="author")
        return cls(checked)


@dataclass
class Reply:
    id: str
    note: str
    text: str
    author: str
    author_signed_in: bool
    created_at: float


@dataclass
class Note:
    """One note: where it is pinned, what it says, who wrote it, whether it is done."""

    id: str
    take: str
    frame: int
    text: str
    author: str
    author_signed_in: bool = False
    version: int = 1
    """The take's place in its version stack when the note was written (v1, v2, ...)."""
    end_frame: int | None = None
    """The out frame of an in/out range (inclusive); None for a note at one frame."""
    created_at: float = 0.0
    drawing: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    done_by: str = ""
    done_at: float | None = None
    replies: list[Reply] = field(default_factory=list)

    @classmethod
    def from_record(cls, key: str, data: dict[str, Any], replies: list[Reply] | None = None) -> Note:
        end = data.get("end_frame")
        return cls(id=key, take=str(data.get("take") or ""), frame=int(data.get("frame") or 0),
                   text=str(data.get("text") or ""), author=str(data.get("author") or ""),
                   author_signed_in=bool(data.get("author_signed_in")), version=int(data.get("version") or 1),
                   end_frame=int(end) if end is not None else None, created_at=float(data.get("created_at") or 0),
                   drawing=list(data.get("drawing") or []), done=bool(data.get("done")),
                   done_by=str(data.get("done_by") or ""), done_at=data.get("done_at"), replies=replies or [])

    @property
    def frames(self) -> int:
        """How many frames the note covers (1 for a note at one frame)."""
        return (self.end_frame - self.frame + 1) if self.end_frame is not None else 1

    def view(self, clock: Clock) -> dict[str, Any]:
        """The note as the API and exports show it: with its timecodes at the take's rate."""
        data = asdict(self)
        data["timecode"] = clock.timecode(self.frame)
        data["end_timecode"] = clock.timecode(self.end_frame) if self.end_frame is not None else None
        return data


class NoteBook:
    """Notes and replies over the store's tables. Thread- and process-safe as the store is; no locks here."""

    def __init__(self, store: Any) -> None:
        self._notes = store.table(NOTES_TABLE)
        self._replies = store.table(REPLIES_TABLE)

    def add(self, take: str, clock: Clock, frame: Any, text: Any, author: Author, *, end_frame: Any = None,
            drawing: Any = None, version: int = 1) -> Note:
        """Write a note at `frame` (to `end_frame`, inclusive) of `take`; ValidationError, and nothing written,
        when the frame is not the take's, the range runs backwards, the text is empty or too long, or the
        drawing is not one."""
        frame = clock.check(frame)
        if end_frame is not None:
            end_frame = clock.check(end_frame, "end_frame")
            if end_frame < frame:
                raise ValidationError(f"end_frame {end_frame} is before frame {frame}: an out point comes after "
                                      "the in point.", field="end_frame")
            if end_frame == frame:
                end_frame = None
        body = plain_text(text, MAX_NOTE, what="text")
        shapes = check_drawing(drawing)
        if not body and not shapes:
            raise ValidationError("A note needs its text (or a drawing).", field="text")
        note = Note(id=new_id("note"), take=take, frame=frame, end_frame=end_frame, text=body, author=author.name,
                    author_signed_in=author.signed_in, created_at=time.time(), drawing=shapes,
                    version=version)
        record = asdict(note)
        del record["id"], record["replies"]
        self._notes.set(note.id, **record)
        return note

    def get(self, note_id: str) -> Note:
        data = self._notes.get(note_id) if isinstance(note_id, str) else None
        if data is None:
            raise ValidationError(f"No note {note_id!r}.", field="note")
        return Note.from_record(note_id, data, self._replies_of({note_id}).get(note_id, []))

    def of_take(self, take: str) -> list[Note]:
        """The take's notes in frame order (then in the order they were written), each with its replies."""
        found = {key: data for key, data in self._notes.all().items() if data.get("take") == take}
        replies = self._replies_of(set(found))
        notes = [Note.from_record(key, data, replies.get(key, [])) for key, data in found.items()]
        return sorted(notes, key=lambda n: (n.frame, n.created_at, n.id))

    def open_of(self, take: str) -> list[Note]:
        """The take's notes nobody has marked done yet, in frame order."""
        return [note for note in self.of_take(take) if not note.done]

    def reply(self, note_id: str, text: Any, author: Author) -> Reply:
        note = self.get(note_id)
        body = plain_text(text, MAX_NOTE, what="text")
        if not body:
            raise ValidationError("A reply needs its text.", field="text")
        reply = Reply(id=new_id("reply"), note=note.id, text=body, author=author.name,
                      author_signed_in=author.signed_in, created_at=time.time())
        record = asdict(reply)
        del record["id"]
        self._replies.set(reply.id, **record)
        return reply

    def mark_done(self, note_id: str, by: Author, done: bool = True) -> Note:
        """Mark the note done (who, when), or open again; only these fields of its record are written."""
        self.get(note_id)
        if done:
            self._notes.set(note_id, done=True, done_by=by.name, done_at=time.time())
        else:
            self._notes.set(note_id, done=False, done_by="", done_at=None)
        return self.get(note_id)

    def _replies_of(self, notes: set[str]) -> dict[str, list[Reply]]:
        out: dict[str, list[Reply]] = {}
        for key, data in self._replies.all().items():
            if data.get("note") in notes:
                out.setdefault(data["note"], []).append(
                    Reply(id=key, note=data["note"], text=str(data.get("text") or ""),
                          author=str(data.get("author") or ""), author_signed_in=bool(data.get("author_signed_in")),
                          created_at=float(data.get("created_at") or 0)))
        for replies in out.values():
            replies.sort(key=lambda r: (r.created_at, r.id))
        return out
