"""The review's part of the pipeline API, without HTTP: what a request may hold and what an answer shows.

The routes themselves (`dailies/web/review.py`) check Host, Origin and the bearer token as every
pipeline route does, read a bounded body, and hand the fields here; every rule is `ReviewDesk`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dailies.errors import ValidationError
from dailies.review.desk import NoSuchTake, ReviewDesk
from dailies.review.notes import Author, Note

__all__ = ["COMMENT_FIELDS", "DECISION_FIELDS", "EXPORTS", "add_comment", "comment_view", "decide", "mark_done",
           "reply"]

COMMENT_FIELDS = {"frame", "end_frame", "timecode", "text", "author", "drawing"}
DECISION_FIELDS = {"decision", "author", "text"}
REPLY_FIELDS = {"author", "text"}
DONE_FIELDS = {"author", "done"}
EXPORTS = {"otio": "application/json", "fcpxml": "application/xml",
           "edl": "text/plain; charset=utf-8", "csv": "text/csv; charset=utf-8",
           "zip": "application/zip"}
"""`GET /takes/{id}/notes.<format>`: the formats and their content types."""


def _known(fields: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(unknown)}. Known: {', '.join(sorted(allowed))}.")


def comment_view(note: Note, desk: ReviewDesk) -> dict[str, Any]:
    """A note as the API shows it: id, frame(s), timecode(s), text, author, when, done, replies, drawing."""
    view = note.view(desk.clock(note.take))
    view["object"] = "comment"
    return view


def add_comment(desk: ReviewDesk, take: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Pin the comment `fields` describe to the take (at `frame`, or at `timecode` of the take's rate)."""
    _known(fields, COMMENT_FIELDS)
    frame = fields.get("frame")
    if frame is None and fields.get("timecode") is not None:
        if not isinstance(fields["timecode"], str):
            raise ValidationError("timecode must be text: HH:MM:SS:FF.", field="timecode")
        frame = desk.clock(take).frame_at(fields["timecode"])
    if frame is None:
        raise ValidationError("frame is required: the frame number the comment is pinned to (0 is the first).",
                              field="frame")
    note = desk.add_note(take, frame, fields.get("text"), Author.typed(fields.get("author")),
                         end_frame=fields.get("end_frame"), drawing=fields.get("drawing"))
    return comment_view(note, desk)


def _note_of(desk: ReviewDesk, take: str, note_id: str) -> Note:
    desk.take(take)
    try:
        note: Note | None = desk.notes.get(note_id)
    except ValidationError:
        note = None
    if note is None or note.take != take:  # (a comment of another take is not reached through this one)
        raise NoSuchTake(f"No comment {note_id!r} on take {take}.", field="note")
    return note


def reply(desk: ReviewDesk, take: str, note_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Reply to a comment of the take; the comment, with its replies, as it is then."""
    _known(fields, REPLY_FIELDS)
    note = _note_of(desk, take, note_id)
    desk.reply(note.id, fields.get("text"), Author.typed(fields.get("author")))
    return comment_view(desk.notes.get(note.id), desk)


def mark_done(desk: ReviewDesk, take: str, note_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Mark a comment of the take done (`"done": true`, the default) or open again (`false`)."""
    _known(fields, DONE_FIELDS)
    done = fields.get("done", True)
    if not isinstance(done, bool):
        raise ValidationError("done must be true or false.", field="done")
    note = _note_of(desk, take, note_id)
    return comment_view(desk.mark_done(note.id, Author.typed(fields.get("author")), done), desk)


def decide(desk: ReviewDesk, take: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    _known(fields, DECISION_FIELDS)
    if not fields.get("decision"):
        raise ValidationError("decision is required.", field="decision")
    made = desk.decide(take, fields["decision"], Author.typed(fields.get("author")), fields.get("text"))
    return {**made.view(), "object": "decision", "approval": desk.approval(take)}
