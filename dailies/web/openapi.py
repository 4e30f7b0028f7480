"""The pipeline API described: typed models of its bodies and answers, and the OpenAPI document made from them.

The models say what a client sends and gets; the rules (and their error messages) stay `dailies.pipeline`'s and
`ReviewDesk`'s, which read the bodies themselves. Enumerations come from the domain (`JobStatus`, the approval
`State`, a drawing's kinds and colours), so the document cannot fall behind them; `tests/test_web_app.py` holds
the models to the fields the rules take and to real answers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AnyUrl, BaseModel, Field
from pydantic.json_schema import models_json_schema

from dailies.jobs import JobStatus
from dailies.pipeline import CALLBACK_SECRET_VAR, TOKEN_VAR
from dailies.review.api import EXPORTS
from dailies.review.approvals import ALIASES, State
from dailies.review.drawing import KINDS, MAX_SHAPE_TEXT, MAX_SHAPES, PALETTE
from dailies.web.paths import (
    APPROVALS_ROUTE,
    COMMENTS_ROUTE,
    DONE_ROUTE,
    NOTES_ROUTE,
    REPLIES_ROUTE,
    TAKE_FILE_ROUTE,
    TAKE_ROUTE,
    TAKES_ROUTE,
)
from dailies.web.settings import BodyLimits

__all__ = ["Approval", "Comment", "CommentIn", "DecisionIn", "Order", "Take", "openapi_document"]

Unit = Annotated[float, Field(ge=0, le=1)]
"""A fraction of the frame's width or height."""


class Order(BaseModel):
    """One take to order (JSON, or the same fields as multipart/form-data with a `reference` file)."""

    prompt: str
    model: str | None = None
    size: str | None = Field(None, examples=["720x1280"])
    seconds: int | None = Field(None, examples=[4])
    provider: str | None = None
    tags: list[str] | None = None
    reference_url: str | None = Field(None, description="https or data: URL of a reference image")
    audio: bool = Field(True, description="sound with the picture, on a model that renders it; sent and priced as "
                                          "chosen")
    callback_url: AnyUrl | None = Field(None, description="receives take.completed / take.failed, signed the "
                                                          f"Standard Webhooks way with {CALLBACK_SECRET_VAR}")


class TakeError(BaseModel):
    message: str
    code: str | None = None


class CallbackState(BaseModel):
    state: str | None = None
    attempts: int | None = None
    last_status: int | None = None
    reason: str | None = Field(None, description="why the callback was refused")


class ApprovalSummary(BaseModel):
    status: State
    locked: bool = Field(description="final: new comments and decisions are refused")
    reviewers: list[dict[str, Any]] = Field(description="each reviewer's latest decision")


class Approval(ApprovalSummary):
    history: list[dict[str, Any]]


class Take(BaseModel):
    """A take as the API shows it: status, progress, file URLs, price, and what went wrong."""

    id: str
    object: Literal["take"]
    status: JobStatus
    progress: int
    prompt: str
    model: str
    size: str
    seconds: int
    provider: str
    provider_video_id: str | None = None
    tags: list[str]
    created_at: float
    completed_at: float | None = None
    estimate_usd: float
    files: dict[str, AnyUrl] = Field(description="once completed: each file's URL (video, thumbnail, spritesheet)")
    error: TakeError | None = None
    callback: CallbackState | None = Field(None, description="takes ordered with a callback_url")
    approval: ApprovalSummary | None = Field(None, description="on GET /takes/{id} only")


class Shape(BaseModel):
    """Coordinates are fractions of the frame (0..1 from the top left); line: 2+ points, arrow: 2, text: 1 and its
    text; rect/ellipse: box [x0, y0, x1, y1]."""

    kind: Literal[*KINDS]  # type: ignore[valid-type]
    colour: Literal[*PALETTE] | None = None  # type: ignore[valid-type]
    points: list[list[Unit]] | None = None
    box: list[Unit] | None = Field(None, min_length=4, max_length=4)
    text: str | None = Field(None, max_length=MAX_SHAPE_TEXT)


class CommentIn(BaseModel):
    frame: int | None = Field(None, ge=0, examples=[37],
                              description="the frame the comment is pinned to (0 is the first); or give timecode")
    end_frame: int | None = Field(None, examples=[48], description="the out frame of a range (inclusive)")
    timecode: str | None = Field(None, examples=["00:00:01:13"], description="HH:MM:SS:FF at the take's rate")
    text: str | None = Field(None, max_length=4000)
    author: str = Field(max_length=120)
    drawing: list[Shape] | None = Field(None, max_length=MAX_SHAPES)


class Comment(BaseModel):
    id: str
    object: Literal["comment"]
    take: str
    version: int
    frame: int
    end_frame: int | None = None
    timecode: str
    end_timecode: str | None = None
    text: str
    author: str
    author_signed_in: bool
    created_at: float
    done: bool
    done_by: str | None = None
    drawing: list[Shape]
    replies: list[dict[str, Any]]


class DecisionIn(BaseModel):
    """in_review → changes_requested | approved; changes_requested → in_review | approved; approved →
    changes_requested | final; final → in_review (reopen). Deciding the status a take already has (not final)
    records a concurring reviewer."""

    decision: State | Literal[*ALIASES]  # type: ignore[valid-type]
    author: str
    text: str | None = None


class ReplyIn(BaseModel):
    author: str
    text: str


class DoneIn(BaseModel):
    author: str
    done: bool = True


MODELS: tuple[type[BaseModel], ...] = (Order, Take, CommentIn, Comment, DecisionIn, ReplyIn, DoneIn, Approval)


def _schemas() -> dict[str, Any]:
    _, top = models_json_schema([(model, "validation") for model in MODELS],
                                ref_template="#/components/schemas/{model}")
    return top["$defs"]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _in_path(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names]


def _paths(limits: BodyLimits) -> dict[str, Any]:
    refused = {str(code): {"description": text} for code, text in (
        (400, "malformed or refused (validation, moderation, budget): nothing was sent"),
        (401, "missing or wrong bearer token"), (409, "Idempotency-Key reused with another body, or in flight"),
        (413, f"the body is over {limits.order // 2**20} MB, however it is sent"),
        (502, "the provider refused the take"), (503, f"the API is off ({TOKEN_VAR} unset)"))}
    review_refused = {
        "400": {"description": "malformed: unknown field, bad frame (past the take's last frame), text, drawing; "
                               "nothing stored"},
        "401": {"description": "missing or wrong bearer token"}, "404": {"description": "no such take"},
        "409": {"description": "the take is final (locked), the decision is not allowed from its status, or the take "
                               "has no video yet"},
        "413": {"description": f"the body is over {limits.review // 1024} KB"}}
    take, comment = _in_path("take_id"), _in_path("take_id", "comment_id")
    return {
        TAKES_ROUTE: {
            "post": {
                "summary": "Order one take",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"},
                                "description": "a retried POST with the same key returns the first take"}],
                "requestBody": {"content": {
                    "application/json": {"schema": _ref("Order")},
                    "multipart/form-data": {"schema": {"allOf": [_ref("Order"), {
                        "properties": {"reference": {"type": "string", "format": "binary"}}}]}}}},
                "responses": {"201": _json("Take", "sent"),
                              "200": {"description": "the first take of this Idempotency-Key"}, **refused},
            },
            "get": {
                "summary": "List takes, newest first",
                "parameters": [{"name": "tag", "in": "query", "schema": {"type": "string"}},
                               {"name": "status", "in": "query", "schema": _ref("JobStatus")},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                          "maximum": 1000}}],
                "responses": {"200": {"description": "a list of takes"}},
            },
        },
        TAKE_ROUTE: {"get": {"summary": "One take: status, progress, file URLs", "parameters": take,
                             "responses": {"200": _json("Take", "the take"), "404": {"description": "no such take"}}}},
        TAKE_FILE_ROUTE: {"get": {
            "summary": "A file of a completed take (video, thumbnail, spritesheet)",
            "parameters": _in_path("take_id", "variant"),
            "responses": {"200": {"description": "the file"}, "404": {"description": "no such file"}}}},
        COMMENTS_ROUTE: {
            "post": {"summary": "Pin a comment to a frame (or an in/out range) of a finished take", "parameters": take,
                     "requestBody": _body("CommentIn"),
                     "responses": {"201": _json("Comment", "the comment"), **review_refused}},
            "get": {"summary": "The take's comments in frame order", "parameters": take,
                    "responses": {"200": {"description": '{"data": [Comment, ...]}'},
                                  "404": {"description": "no such take"}}},
        },
        REPLIES_ROUTE: {"post": {"summary": "Reply to a comment", "parameters": comment,
                                 "requestBody": _body("ReplyIn"),
                                 "responses": {"201": {"description": "the comment with its replies"},
                                               **review_refused}}},
        DONE_ROUTE: {"post": {"summary": "Mark a comment done (or open again with done: false)", "parameters": comment,
                              "requestBody": _body("DoneIn"),
                              "responses": {"200": {"description": "the comment"}, **review_refused}}},
        APPROVALS_ROUTE: {
            "post": {"summary": "Record a reviewer's decision (approval state machine)", "parameters": take,
                     "requestBody": _body("DecisionIn"),
                     "responses": {"201": {"description": "the decision, and the take's approval after it"},
                                   **review_refused}},
            "get": {"summary": "The take's approval: status, each reviewer's latest decision, history",
                    "parameters": take, "responses": {"200": _json("Approval", "the approval"),
                                                      "404": {"description": "no such take"}}},
        },
        NOTES_ROUTE: {"get": {
            "summary": "The take's comments for an editor: otio (a timeline, the take as a clip, a marker per comment "
                       "at its frame), fcpxml (the same for Final Cut Pro), edl (DaVinci Resolve's timeline-marker "
                       "EDL), csv, zip (PNG of each noted frame with its drawing, and notes.txt)",
            "parameters": [*take, {"name": "format", "in": "path", "required": True,
                                   "schema": {"enum": sorted(EXPORTS)}}],
            "responses": {"200": {"description": "the file"}, "404": {"description": "no such take or format"}}}},
    }


def openapi_document(limits: BodyLimits) -> dict[str, Any]:
    """The OpenAPI 3.1 document `GET /api/v1/openapi.json` serves."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Dailies pipeline API", "version": "1",
                 "description": "Order takes from scripts and CMS hooks under the same rules as the pages."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": _schemas()},
        "security": [{"bearer": []}],
        "paths": _paths(limits),
    }


