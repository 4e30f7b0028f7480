"""The pipeline API's routes, on the app's own server: `/api/v1/takes` for CMS hooks and scripts.

Every route but the OpenAPI description needs `Authorization: Bearer $DAILIES_API_TOKEN` (environment
or secrets; unset, the API is off and says so). Like the media and webhook routes, it answers only for
this server's names and refuses requests a web page sends (`Origin`). The rules are `dailies.pipeline`'s.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from components.mounts import API_PREFIX
from components.runtime import studio
from components.webhook_route import host_ok, public_url
from dailies.bucket import BucketError
from dailies.config import Environment
from dailies.errors import APIError, RequestRefused, ValidationError
from dailies.jobs import Job
from dailies.pipeline import (
    CALLBACK_SECRET_VAR,
    TOKEN_VAR,
    Conflict,
    Pipeline,
    Refusal,
    body_digest,
    token_matches,
)
from dailies.request_bodies import BodyTooLarge, read_form, read_json
from dailies.review import ReviewDesk
from dailies.review.api import OPENAPI_SCHEMAS, openapi_paths

MAX_BODY = 25 * 1024 * 1024
"""The largest order, JSON or form, in bytes (a reference image is most of it)."""
MAX_FIELDS = 100
"""The most fields in an order sent as a form (tags are a field each)."""


@functools.cache
def _token() -> str | None:
    return Environment.load().values.get(TOKEN_VAR) or None


def _base() -> str:
    """Where file URLs point: the public URL when there is one, else this server on loopback."""
    return public_url() or f"http://127.0.0.1:{st.get_option('server.port')}"


def file_url(job: Job, variant: str) -> str:
    return f"{_base()}{API_PREFIX}/takes/{job.id}/files/{variant}"


@functools.cache
def pipeline() -> Pipeline:
    """The one pipeline of this process, over the shared studio, sending callbacks from the start."""
    made = Pipeline(studio(), callback_secret=Environment.load().values.get(CALLBACK_SECRET_VAR) or None)
    made.start(file_url)
    return made


@functools.cache
def desk() -> ReviewDesk:
    """The review desk of this process (notes, approvals, versions), over the pipeline's studio."""
    studio = pipeline().studio
    return ReviewDesk(studio.store, studio.media)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"message": message, **extra}}, status_code=status)


def _refusal(request: Request) -> JSONResponse | None:
    """The checks every route makes before anything else: host, origin, token."""
    if not host_ok(request):
        return _error(421, "This server does not answer for that host.")
    if request.headers.get("origin") is not None:
        return _error(403, "Requests sent by a web page are refused; call the API from a script or a server.")
    token = _token()
    if not token:
        return _error(503, f"The pipeline API is off: set {TOKEN_VAR} in the environment or secrets and restart.")
    if not token_matches(request.headers.get("authorization"), token):
        return JSONResponse({"error": {"message": "Send Authorization: Bearer <the API token>."}}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    return None


async def _fields(request: Request) -> tuple[dict[str, Any], tuple[str, bytes] | None]:
    """The order's fields from JSON or a form, and an uploaded reference image (field `reference`);
    `BodyTooLarge` past `MAX_BODY`, however the body is sent."""
    kind = request.headers.get("content-type", "")
    if "application/json" in kind:
        try:
            fields = await read_json(request, MAX_BODY)
        except ValueError as exc:
            raise ValidationError(f"The body is not valid JSON: {exc}.") from None
        if not isinstance(fields, dict):
            raise ValidationError("The body must be a JSON object.")
        return fields, None
    if "multipart/form-data" in kind or "application/x-www-form-urlencoded" in kind:
        try:
            form = await read_form(request, MAX_BODY, max_files=1, max_fields=MAX_FIELDS, max_field_bytes=MAX_BODY)
        except ValueError as exc:
            raise ValidationError(f"The form could not be read: {exc}") from None
        fields, upload = {}, None
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != "reference":
                    raise ValidationError(f"Only the field 'reference' takes a file, not {key!r}.")
                upload = (value.filename or "reference", await value.read())
            elif key == "tags":
                fields.setdefault("tags", []).append(value)
            else:
                fields[key] = value
        return fields, upload
    raise ValidationError("Send the order as JSON (Content-Type: application/json) or as multipart/form-data.")


async def create_take(request: Request) -> Response:
    """`POST /api/v1/takes`: check, price and send one take (once per `Idempotency-Key`)."""
    if (refused := _refusal(request)) is not None:
        return refused
    made = pipeline()
    try:
        fields, upload = await _fields(request)
        order = await run_in_threadpool(made.parse, fields, upload)
        job, cost, new = await run_in_threadpool(made.order, order, request.headers.get("idempotency-key"),
                                                 body_digest(fields, upload))
    except BodyTooLarge as exc:
        return JSONResponse({"error": {"message": exc.message}}, status_code=413)
    except Refusal as exc:
        return _error(400, str(exc), problems=list(exc.problems), estimate_usd=exc.cost)
    except Conflict as exc:
        return _error(409, str(exc))
    except ValidationError as exc:
        return _error(400, str(exc), field=getattr(exc, "field", None))
    except RequestRefused as exc:
        return _error(400, str(exc))
    except APIError as exc:
        return _error(502, f"The provider refused the take: {exc}")
    return JSONResponse(made.view(job, file_url, cost), status_code=201 if new else 200)


async def get_take(request: Request) -> Response:
    """`GET /api/v1/takes/{id}`: status, progress and, once complete, file URLs."""
    if (refused := _refusal(request)) is not None:
        return refused
    job = pipeline().studio.store.get(request.path_params["take_id"])
    if job is None:
        return _error(404, "No such take.")
    state = await run_in_threadpool(desk().approval, job.id)
    approval = {"status": state["status"], "locked": state["locked"], "reviewers": state["reviewers"]}
    return JSONResponse({**pipeline().view(job, file_url), "approval": approval})


async def list_takes(request: Request) -> Response:
    """`GET /api/v1/takes?tag=...&status=...&limit=...`: newest first."""
    if (refused := _refusal(request)) is not None:
        return refused
    params = request.query_params
    limit = params.get("limit", "100")
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        return _error(400, "limit must be a whole number from 1 to 1000.")
    made = pipeline()
    jobs = await run_in_threadpool(made.takes, tag=params.get("tag"), status=params.get("status"), limit=int(limit))
    return JSONResponse({"object": "list", "data": [made.view(job, file_url) for job in jobs]})


async def take_file(request: Request) -> Response:
    """`GET /api/v1/takes/{id}/files/{variant}`: the video, thumbnail or spritesheet (Range answered)."""
    if (refused := _refusal(request)) is not None:
        return refused
    job = pipeline().studio.store.get(request.path_params["take_id"])
    variant = request.path_params["variant"]
    record = job.files.get(variant) if job is not None else None
    media = pipeline().studio.media
    path = media.servable(record.path) if record is not None else None
    if record is not None and path is None and record.in_bucket and not media.root.joinpath(record.path).exists():
        # Dropped here after it was checked safe in the team's bucket: a presigned URL of the object.
        with contextlib.suppress(BucketError):
            bucket = pipeline().studio.bucket()
            if bucket is not None and (url := bucket.presigned_url(record)):
                return RedirectResponse(url, status_code=307)
    if path is None:  # (a link in the take's folder is not served: only regular files inside the media folder)
        return _error(404, "No such file.")
    return FileResponse(path, media_type=record.content_type, filename=f"{job.id}-{path.name}")


async def openapi(request: Request) -> Response:
    """`GET /api/v1/openapi.json`: the routes described (no token needed to read it)."""
    if not host_ok(request):
        return _error(421, "This server does not answer for that host.")
    return JSONResponse(OPENAPI)


_TAKE = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "object": {"const": "take"},
        "status": {"enum": ["queued", "in_progress", "downloading", "completed", "failed", "timed_out",
                            "needs_look"]},
        "progress": {"type": "integer"}, "prompt": {"type": "string"}, "model": {"type": "string"},
        "size": {"type": "string"}, "seconds": {"type": "integer"}, "provider": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}}, "estimate_usd": {"type": "number"},
        "files": {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}},
        "error": {"type": ["object", "null"]}, "callback": {"type": "object"},
        "approval": {"$ref": "#/components/schemas/Approval", "description": "on GET /takes/{id} only"},
    },
}
_ORDER = {
    "type": "object", "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string"}, "model": {"type": "string"}, "size": {"type": "string", "example": "720x1280"},
        "seconds": {"type": "integer", "example": 4}, "provider": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "reference_url": {"type": "string", "description": "https or data: URL of a reference image"},
        "audio": {"type": "boolean", "default": True,
                  "description": "sound with the picture, on a model that renders it; sent and priced as chosen"},
        "callback_url": {"type": "string", "format": "uri",
                         "description": "receives take.completed / take.failed, signed the Standard Webhooks way "
                                        f"with {CALLBACK_SECRET_VAR}"},
    },
}
_ERRORS = {str(code): {"description": text} for code, text in (
    (400, "malformed or refused (validation, moderation, budget): nothing was sent"),
    (401, "missing or wrong bearer token"), (409, "Idempotency-Key reused with another body, or in flight"),
    (413, f"the body is over {MAX_BODY // 2**20} MB, however it is sent"),
    (502, "the provider refused the take"), (503, f"the API is off ({TOKEN_VAR} unset)"))}
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Dailies pipeline API", "version": "1",
             "description": "Order takes from scripts and CMS hooks under the same rules as the pages."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                   "schemas": {"Take": _TAKE, "Order": _ORDER, **OPENAPI_SCHEMAS}},
    "security": [{"bearer": []}],
    "paths": {
        f"{API_PREFIX}/takes": {
            "post": {
                "summary": "Order one take",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"},
                                "description": "a retried POST with the same key returns the first take"}],
                "requestBody": {"content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Order"}},
                    "multipart/form-data": {"schema": {"allOf": [{"$ref": "#/components/schemas/Order"}, {
                        "properties": {"reference": {"type": "string", "format": "binary"}}}]}}}},
                "responses": {"201": {"description": "sent", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Take"}}}},
                              "200": {"description": "the first take of this Idempotency-Key"}, **_ERRORS},
            },
            "get": {
                "summary": "List takes, newest first",
                "parameters": [{"name": n, "in": "query", "schema": {"type": t}}
                               for n, t in (("tag", "string"), ("status", "string"), ("limit", "integer"))],
                "responses": {"200": {"description": "a list of takes"}},
            },
        },
        f"{API_PREFIX}/takes/{{take_id}}": {"get": {
            "summary": "One take: status, progress, file URLs",
            "parameters": [{"name": "take_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the take", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Take"}}}}, "404": {"description": "no such take"}}}},
        f"{API_PREFIX}/takes/{{take_id}}/files/{{variant}}": {"get": {
            "summary": "A file of a completed take (video, thumbnail, spritesheet)",
            "parameters": [{"name": "take_id", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "variant", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "the file"}, "404": {"description": "no such file"}}}},
        **openapi_paths(API_PREFIX),
    },
}
