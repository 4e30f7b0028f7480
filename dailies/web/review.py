"""The review routes of the pipeline API: comments at frames, approvals, and notes for the editor.

`/api/v1/takes/{id}/comments`, `/approvals` and `/notes.{otio,edl,csv,zip}` answer under the pipeline API's own
checks (`PipelineAPI.refusal`: this server's names only, no requests a web page sends, the bearer token), read a
body of at most `BodyLimits.review`, and leave every rule to `ReviewDesk`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dailies.errors import RequestRefused, ValidationError
from dailies.request_bodies import BodyTooLarge, read_json
from dailies.review import IllegalTransition, Locked, NoSuchTake, NotReviewable
from dailies.review.api import EXPORTS, add_comment, decide, mark_done, reply
from dailies.web.answers import error
from dailies.web.api import PipelineAPI
from dailies.web.paths import APPROVALS_ROUTE, COMMENTS_ROUTE, DONE_ROUTE, NOTES_ROUTE, REPLIES_ROUTE

__all__ = ["ReviewAPI"]


def _refused(exc: Exception) -> JSONResponse:
    """A desk's refusal as its status: 404 unknown take, 409 against the take's state, 400 malformed."""
    if isinstance(exc, BodyTooLarge):
        return error(413, exc.message)
    if isinstance(exc, NoSuchTake):
        return error(404, str(exc))
    if isinstance(exc, Locked | IllegalTransition | NotReviewable):
        return error(409, str(exc))
    return error(400, str(exc), field=getattr(exc, "field", None))


class ReviewAPI:
    """The review routes, over the pipeline API's desk and checks."""

    def __init__(self, api: PipelineAPI) -> None:
        self.api = api
        self.desk = api.desk

    def routes(self) -> list[Route]:
        return [Route(COMMENTS_ROUTE, self.take_comments, methods=["GET", "POST"]),
                Route(REPLIES_ROUTE, self.comment_reply, methods=["POST"]),
                Route(DONE_ROUTE, self.comment_done, methods=["POST"]),
                Route(APPROVALS_ROUTE, self.take_approvals, methods=["GET", "POST"]),
                Route(NOTES_ROUTE, self.take_notes, methods=["GET"])]

    async def _body(self, request: Request) -> dict[str, Any]:
        if "application/json" not in request.headers.get("content-type", ""):
            raise ValidationError("Send the body as JSON (Content-Type: application/json).")
        try:
            fields = await read_json(request, self.api.settings.limits.review)
        except ValueError as exc:
            raise ValidationError(f"The body is not valid JSON: {exc}.") from None
        if not isinstance(fields, dict):
            raise ValidationError("The body must be a JSON object.")
        return fields

    async def take_comments(self, request: Request) -> Response:
        """`POST /api/v1/takes/{id}/comments` pins a comment; `GET` lists them in frame order."""
        if (refused := self.api.refusal(request)) is not None:
            return refused
        take = request.path_params["take_id"]
        try:
            if request.method == "GET":
                views = await run_in_threadpool(self.desk.note_views, take)  # (frame order; one clock for all)
                return JSONResponse({"object": "list", "data": [{**view, "object": "comment"} for view in views]})
            fields = await self._body(request)
            made = await run_in_threadpool(add_comment, self.desk, take, fields)
        except (RequestRefused, BodyTooLarge) as exc:
            return _refused(exc)
        return JSONResponse(made, status_code=201)

    async def comment_reply(self, request: Request) -> Response:
        """`POST /api/v1/takes/{id}/comments/{comment_id}/replies`: a reply; the comment with its replies (201)."""
        return await self._on_comment(request, reply, 201)

    async def comment_done(self, request: Request) -> Response:
        """`POST /api/v1/takes/{id}/comments/{comment_id}/done`: marks the comment done (or open again)."""
        return await self._on_comment(request, mark_done, 200)

    async def _on_comment(self, request: Request, action: Callable[..., dict[str, Any]], status: int) -> Response:
        if (refused := self.api.refusal(request)) is not None:
            return refused
        take, comment = request.path_params["take_id"], request.path_params["comment_id"]
        try:
            fields = await self._body(request)
            made = await run_in_threadpool(action, self.desk, take, comment, fields)
        except (RequestRefused, BodyTooLarge) as exc:
            return _refused(exc)
        return JSONResponse(made, status_code=status)

    async def take_approvals(self, request: Request) -> Response:
        """`POST /api/v1/takes/{id}/approvals` records a decision; `GET` shows the take's approval and history."""
        if (refused := self.api.refusal(request)) is not None:
            return refused
        take = request.path_params["take_id"]
        try:
            if request.method == "GET":
                await run_in_threadpool(self.desk.take, take)
                return JSONResponse(await run_in_threadpool(self.desk.approval, take))
            fields = await self._body(request)
            made = await run_in_threadpool(decide, self.desk, take, fields)
        except (RequestRefused, BodyTooLarge) as exc:
            return _refused(exc)
        return JSONResponse(made, status_code=201)

    async def take_notes(self, request: Request) -> Response:
        """`GET /api/v1/takes/{id}/notes.{otio,edl,csv,zip}`: the take's comments for an editor, as a download."""
        if (refused := self.api.refusal(request)) is not None:
            return refused
        take, fmt = request.path_params["take_id"], request.path_params["format"]
        if fmt not in EXPORTS:
            return error(404, f"Notes export as {', '.join(sorted(EXPORTS))}.")
        try:
            job = await run_in_threadpool(self.desk.take, take)
            data = await run_in_threadpool(functools.partial(self.desk.export, take, fmt,
                                                             url=self.api.file_url(job, "video")))
        except RequestRefused as exc:
            return _refused(exc)
        return Response(data, media_type=EXPORTS[fmt],
                        headers={"Content-Disposition": f'attachment; filename="{job.id}-notes.{fmt}"'})
