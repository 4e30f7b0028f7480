"""The review's part of the pipeline API, without HTTP: what a request may hold, what an answer shows, and
how the routes are described in the OpenAPI document.

The routes themselves (`components/review_route.py`) check Host, Origin and the bearer token as every
pipeline route does, read a bounded body, and hand the fields here; every rule is `ReviewDesk`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dailies.errors import ValidationError
from dailies.review.desk import NoSuchTake, ReviewDesk
from dailies.review.notes import Author, Note

__all__ = ["COMMENT_FIELDS", "DECISION_FIELDS", "EXPORTS", "MAX_REVIEW_BODY", "OPENAPI_SCHEMAS", "add_comment",
           "comment_view", "decide", "mark_done", "openapi_paths", "reply"]

MAX_REVIEW_BODY = 1024 * 1024
"""The largest comment or decision body, in bytes: a note of 4,000 characters with a long drawing fits."""
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


_TAKE_ID = {"name": "take_id", "in": "path", "required": True, "schema": {"type": "string"}}
_COMMENT_ID = {"name": "comment_id", "in": "path", "required": True, "schema": {"type": "string"}}
_SHAPE = {
    "type": "object", "required": ["kind"],
    "properties": {
        "kind": {"enum": ["line", "arrow", "rect", "ellipse", "text"]},
        "colour": {"enum": ["red", "orange", "yellow", "green", "blue", "white", "black"]},
        "points": {"type": "array", "items": {"type": "array", "items": {"type": "number", "minimum": 0,
                                                                           "maximum": 1}}},
        "box": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}, "minItems": 4,
                "maxItems": 4},
        "text": {"type": "string", "maxLength": 200},
    },
    "description": "coordinates are fractions of the frame (0..1 from the top left); line: 2+ points, "
                   "arrow: 2, text: 1 and its text; rect/ellipse: box [x0, y0, x1, y1]",
}
OPENAPI_SCHEMAS: dict[str, Any] = {
    "CommentIn": {
        "type": "object", "required": ["author"],
        "properties": {
            "frame": {"type": "integer", "minimum": 0, "example": 37,
                      "description": "the frame the comment is pinned to (0 is the first); or give timecode"},
            "end_frame": {"type": "integer", "example": 48, "description": "the out frame of a range (inclusive)"},
            "timecode": {"type": "string", "example": "00:00:01:13", "description": "HH:MM:SS:FF at the take's rate"},
            "text": {"type": "string", "maxLength": 4000}, "author": {"type": "string", "maxLength": 120},
            "drawing": {"type": "array", "maxItems": 64, "items": _SHAPE},
        },
    },
    "Comment": {
        "type": "object",
        "properties": {
            "id": {"type": "string"}, "object": {"const": "comment"}, "take": {"type": "string"},
            "version": {"type": "integer"}, "frame": {"type": "integer"}, "end_frame": {"type": ["integer", "null"]},
            "timecode": {"type": "string"}, "end_timecode": {"type": ["string", "null"]},
            "text": {"type": "string"}, "author": {"type": "string"}, "author_signed_in": {"type": "boolean"},
            "created_at": {"type": "number"}, "done": {"type": "boolean"}, "done_by": {"type": "string"},
            "drawing": {"type": "array", "items": _SHAPE}, "replies": {"type": "array"},
        },
    },
    "DecisionIn": {
        "type": "object", "required": ["decision", "author"],
        "properties": {
            "decision": {"enum": ["in_review", "changes_requested", "approved", "final", "reopen"]},
            "author": {"type": "string"}, "text": {"type": "string"},
        },
        "description": "in_review → changes_requested | approved; changes_requested → in_review | approved; "
                       "approved → changes_requested | final; final → in_review (reopen). Deciding the status "
                       "a take already has (not final) records a concurring reviewer.",
    },
    "Approval": {
        "type": "object",
        "properties": {
            "status": {"enum": ["in_review", "changes_requested", "approved", "final"]},
            "locked": {"type": "boolean", "description": "final: new comments and decisions are refused"},
            "reviewers": {"type": "array", "description": "each reviewer's latest decision"},
            "history": {"type": "array"},
        },
    },
}
_REFUSED = {"400": {"description": "malformed: unknown field, bad frame (past the take's last frame), text, "
                                   "drawing; nothing stored"},
            "401": {"description": "missing or wrong bearer token"}, "404": {"description": "no such take"},
            "409": {"description": "the take is final (locked), the decision is not allowed from its status, "
                                   "or the take has no video yet"},
            "413": {"description": f"the body is over {MAX_REVIEW_BODY // 1024} KB"}}


def openapi_paths(prefix: str) -> dict[str, Any]:
    """The review routes' part of the pipeline API's OpenAPI `paths`, under `prefix` (`/api/v1`)."""
    def body(schema: str) -> dict[str, Any]:
        ref = {"$ref": f"#/components/schemas/{schema}"}
        return {"required": True, "content": {"application/json": {"schema": ref}}}

    return {
        f"{prefix}/takes/{{take_id}}/comments": {
            "post": {"summary": "Pin a comment to a frame (or an in/out range) of a finished take",
                     "parameters": [_TAKE_ID], "requestBody": body("CommentIn"),
                     "responses": {"201": {"description": "the comment", "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/Comment"}}}}, **_REFUSED}},
            "get": {"summary": "The take's comments in frame order", "parameters": [_TAKE_ID],
                    "responses": {"200": {"description": '{"data": [Comment, ...]}'},
                                  "404": {"description": "no such take"}}},
        },
        f"{prefix}/takes/{{take_id}}/comments/{{comment_id}}/replies": {"post": {
            "summary": "Reply to a comment", "parameters": [_TAKE_ID, _COMMENT_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["author", "text"],
                "properties": {"author": {"type": "string"}, "text": {"type": "string"}}}}}},
            "responses": {"201": {"description": "the comment with its replies"}, **_REFUSED}}},
        f"{prefix}/takes/{{take_id}}/comments/{{comment_id}}/done": {"post": {
            "summary": "Mark a comment done (or open again with done: false)", "parameters": [_TAKE_ID, _COMMENT_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["author"],
                "properties": {"author": {"type": "string"}, "done": {"type": "boolean", "default": True}}}}}},
            "responses": {"200": {"description": "the comment"}, **_REFUSED}}},
        f"{prefix}/takes/{{take_id}}/approvals": {
            "post": {"summary": "Record a reviewer's decision (approval state machine)", "parameters": [_TAKE_ID],
                     "requestBody": body("DecisionIn"),
                     "responses": {"201": {"description": "the decision, and the take's approval after it"},
                                   **_REFUSED}},
            "get": {"summary": "The take's approval: status, each reviewer's latest decision, history",
                    "parameters": [_TAKE_ID], "responses": {"200": {"description": "the approval", "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Approval"}}}},
                                                        "404": {"description": "no such take"}}},
        },
        f"{prefix}/takes/{{take_id}}/notes.{{format}}": {"get": {
            "summary": "The take's comments for an editor: otio (a timeline, the take as a clip, a marker per "
                       "comment at its frame), fcpxml (the same for Final Cut Pro), edl (DaVinci Resolve's "
                       "timeline-marker EDL), csv, zip (PNG of each noted frame with its drawing, and notes.txt)",
            "parameters": [_TAKE_ID, {"name": "format", "in": "path", "required": True,
                                      "schema": {"enum": sorted(EXPORTS)}}],
            "responses": {"200": {"description": "the file"}, "404": {"description": "no such take or format"}}}},
    }
