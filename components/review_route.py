"""The review routes of the pipeline API: comments at frames, approvals, and notes for the editor.

`/api/v1/takes/{id}/comments`, `/approvals` and `/notes.{otio,edl,csv,zip}` answer under the pipeline API's
own rules (`components.pipeline_route._refusal`: this server's names only, no requests a web page sends,
the bearer token), read a body of at most `MAX_REVIEW_BODY`, and leave every rule to `ReviewDesk`.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from components.pipeline_route import _error, _refusal, desk, file_url
from dailies.errors import RequestRefused, ValidationError
from dailies.request_bodies import BodyTooLarge, read_json
from dailies.review import IllegalTransition, Locked, NoSuchTake, NotReviewable
from dailies.review.api import EXPORTS, MAX_REVIEW_BODY, add_comment, decide, mark_done, reply


def _refused(exc: Exception) -> JSONResponse:
    """A desk's refusal as its status: 404 unknown take, 409 against the take's state, 400 malformed."""
    if isinstance(exc, BodyTooLarge):
        return _error(413, exc.message)
    if isinstance(exc, NoSuchTake):
        return _error(404, str(exc))
    if isinstance(exc, Locked | IllegalTransition | NotReviewable):
        return _error(409, str(exc))
    return _error(400, str(exc), field=getattr(exc, "field", None))


async def _body(request: Request) -> dict[str, Any]:
    if "application/json" not in request.headers.get("content-type", ""):
        raise ValidationError("Send the body as JSON (Content-Type: application/json).")
    try:
        fields = await read_json(request, MAX_REVIEW_BODY)
    except ValueError as exc:
        raise ValidationError(f"The body is not valid JSON: {exc}.") from None
    if not isinstance(fields, dict):
        raise ValidationError("The body must be a JSON object.")
    return fields


async def take_comments(request: Request) -> Response:
    """`POST /api/v1/takes/{id}/comments` pins a comment; `GET` lists them in frame order."""
    if (refused := _refusal(request)) is not None:
        return refused
    take = request.path_params["take_id"]
    try:
        if request.method == "GET":
            views = await run_in_threadpool(desk().note_views, take)  # (frame order; one clock for all)
            return JSONResponse({"object": "list", "data": [{**view, "object": "comment"} for view in views]})
        fields = await _body(request)
        made = await run_in_threadpool(add_comment, desk(), take, fields)
    except (RequestRefused, BodyTooLarge) as exc:
        return _refused(exc)
    return JSONResponse(made, status_code=201)


async def comment_reply(request: Request) -> Response:
    """`POST /api/v1/takes/{id}/comments/{comment_id}/replies`: a reply; the comment with its replies (201)."""
    return await _on_comment(request, reply, 201)


async def comment_done(request: Request) -> Response:
    """`POST /api/v1/takes/{id}/comments/{comment_id}/done`: marks the comment done (or open again)."""
    return await _on_comment(request, mark_done, 200)


async def _on_comment(request: Request, action: Any, status: int) -> Response:
    if (refused := _refusal(request)) is not None:
        return refused
    take, comment = request.path_params["take_id"], request.path_params["comment_id"]
    try:
        fields = await _body(request)
        made = await run_in_threadpool(action, desk(), take, comment, fields)
    except (RequestRefused, BodyTooLarge) as exc:
        return _refused(exc)
    return JSONResponse(made, status_code=status)


async def take_approvals(request: Request) -> Response:
    """`POST /api/v1/takes/{id}/approvals` records a decision; `GET` shows the take's approval and history."""
    if (refused := _refusal(request)) is not None:
        return refused
    take = request.path_params["take_id"]
    try:
        if request.method == "GET":
            await run_in_threadpool(desk().take, take)
            return JSONResponse(await run_in_threadpool(desk().approval, take))
        fields = await _body(request)
        made = await run_in_threadpool(decide, desk(), take, fields)
    except (RequestRefused, BodyTooLarge) as exc:
        return _refused(exc)
    return JSONResponse(made, status_code=201)


async def take_notes(request: Request) -> Response:
    """`GET /api/v1/takes/{id}/notes.{otio,edl,csv,zip}`: the take's comments for an editor, as a download."""
    if (refused := _refusal(request)) is not None:
        return refused
    take, fmt = request.path_params["take_id"], request.path_params["format"]
    if fmt not in EXPORTS:
        return _error(404, f"Notes export as {', '.join(sorted(EXPORTS))}.")
    try:
        job = await run_in_threadpool(desk().take, take)
        data = await run_in_threadpool(functools.partial(desk().export, take, fmt, url=file_url(job, "video")))
    except RequestRefused as exc:
        return _refused(exc)
    return Response(data, media_type=EXPORTS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{job.id}-notes.{fmt}"'})
