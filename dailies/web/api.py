"""The pipeline API's routes: `/api/v1/takes` for CMS hooks and scripts.

Every route but the OpenAPI description needs `Authorization: Bearer $DAILIES_API_TOKEN` (unset, the API is off
and says so). Like the media and webhook routes, it answers only for this server's names and refuses requests a
web page sends (`Origin`). The rules are `dailies.pipeline`'s; the review routes (`dailies.web.review`) share
these checks.
"""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from dailies.bucket import BucketError
from dailies.errors import APIError, RequestRefused, ValidationError
from dailies.jobs import Job
from dailies.pipeline import TOKEN_VAR, Conflict, Pipeline, Refusal, body_digest, token_matches
from dailies.request_bodies import BodyTooLarge, read_form, read_json
from dailies.review import ReviewDesk
from dailies.web.answers import WRONG_HOST, error, host_ok
from dailies.web.openapi import openapi_document
from dailies.web.paths import OPENAPI_ROUTE, TAKE_FILE_ROUTE, TAKE_ROUTE, TAKES_ROUTE
from dailies.web.settings import WebSettings

__all__ = ["PipelineAPI"]


class PipelineAPI:
    """The takes routes over one pipeline (and the review desk whose approval a take shows)."""

    def __init__(self, pipeline: Pipeline, desk: ReviewDesk, settings: WebSettings) -> None:
        self.pipeline = pipeline
        self.desk = desk
        self.settings = settings
        self.document = openapi_document(settings.limits)

    def routes(self) -> list[Route]:
        return [Route(OPENAPI_ROUTE, self.openapi, methods=["GET"]),
                Route(TAKES_ROUTE, self.create_take, methods=["POST"]),
                Route(TAKES_ROUTE, self.list_takes, methods=["GET"]),
                Route(TAKE_ROUTE, self.get_take, methods=["GET"]),
                Route(TAKE_FILE_ROUTE, self.take_file, methods=["GET"])]

    def file_url(self, job: Job, variant: str) -> str:
        return self.settings.file_base + TAKE_FILE_ROUTE.format(take_id=job.id, variant=variant)

    def refusal(self, request: Request) -> JSONResponse | None:
        """The checks every route makes before anything else: host, origin, token."""
        if not host_ok(request, self.settings):
            return error(421, WRONG_HOST)
        if request.headers.get("origin") is not None:
            return error(403, "Requests sent by a web page are refused; call the API from a script or a server.")
        token = self.settings.api_token
        if not token:
            return error(503, f"The pipeline API is off: set {TOKEN_VAR} in the environment or secrets and restart.")
        if not token_matches(request.headers.get("authorization"), token):
            return JSONResponse({"error": {"message": "Send Authorization: Bearer <the API token>."}}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return None

    async def _fields(self, request: Request) -> tuple[dict[str, Any], tuple[str, bytes] | None]:
        """The order's fields from JSON or a form, and an uploaded reference image (field `reference`);
        `BodyTooLarge` past the order's limit, however the body is sent."""
        kind = request.headers.get("content-type", "")
        limits = self.settings.limits
        if "application/json" in kind:
            try:
                fields = await read_json(request, limits.order)
            except ValueError as exc:
                raise ValidationError(f"The body is not valid JSON: {exc}.") from None
            if not isinstance(fields, dict):
                raise ValidationError("The body must be a JSON object.")
            return fields, None
        if "multipart/form-data" in kind or "application/x-www-form-urlencoded" in kind:
            try:
                form = await read_form(request, limits.order, max_files=1, max_fields=limits.order_fields,
                                       max_field_bytes=limits.order)
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

    async def create_take(self, request: Request) -> Response:
        """`POST /api/v1/takes`: check, price and send one take (once per `Idempotency-Key`)."""
        if (refused := self.refusal(request)) is not None:
            return refused
        made = self.pipeline
        try:
            fields, upload = await self._fields(request)
            order = await run_in_threadpool(made.parse, fields, upload)
            job, cost, new = await run_in_threadpool(made.order, order, request.headers.get("idempotency-key"),
                                                     body_digest(fields, upload))
        except BodyTooLarge as exc:
            return JSONResponse({"error": {"message": exc.message}}, status_code=413)
        except Refusal as exc:
            return error(400, str(exc), problems=list(exc.problems), estimate_usd=exc.cost)
        except Conflict as exc:
            return error(409, str(exc))
        except ValidationError as exc:
            return error(400, str(exc), field=getattr(exc, "field", None))
        except RequestRefused as exc:
            return error(400, str(exc))
        except APIError as exc:
            return error(502, f"The provider refused the take: {exc}")
        return JSONResponse(made.view(job, self.file_url, cost), status_code=201 if new else 200)

    async def get_take(self, request: Request) -> Response:
        """`GET /api/v1/takes/{id}`: status, progress and, once complete, file URLs."""
        if (refused := self.refusal(request)) is not None:
            return refused
        job = self.pipeline.studio.store.get(request.path_params["take_id"])
        if job is None:
            return error(404, "No such take.")
        state = await run_in_threadpool(self.desk.approval, job.id)
        approval = {"status": state["status"], "locked": state["locked"], "reviewers": state["reviewers"]}
        return JSONResponse({**self.pipeline.view(job, self.file_url), "approval": approval})

    async def list_takes(self, request: Request) -> Response:
        """`GET /api/v1/takes?tag=...&status=...&limit=...`: newest first."""
        if (refused := self.refusal(request)) is not None:
            return refused
        params = request.query_params
        limit = params.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 1000:
            return error(400, "limit must be a whole number from 1 to 1000.")
        jobs = await run_in_threadpool(self.pipeline.takes, tag=params.get("tag"), status=params.get("status"),
                                       limit=int(limit))
        return JSONResponse({"object": "list", "data": [self.pipeline.view(job, self.file_url) for job in jobs]})

    async def take_file(self, request: Request) -> Response:
        """`GET /api/v1/takes/{id}/files/{variant}`: the video, thumbnail or spritesheet (Range answered)."""
        if (refused := self.refusal(request)) is not None:
            return refused
        studio = self.pipeline.studio
        job = studio.store.get(request.path_params["take_id"])
        record = job.files.get(request.path_params["variant"]) if job is not None else None
        path = studio.media.servable(record.path) if record is not None else None
        if record is not None and path is None and record.in_bucket and not studio.media.root.joinpath(
                record.path).exists():
            # Dropped here after it was checked safe in the team's bucket: a presigned URL of the object.
            with contextlib.suppress(BucketError):
                bucket = studio.bucket()
                if bucket is not None and (url := bucket.presigned_url(record)):
                    return RedirectResponse(url, status_code=307)
        if path is None:  # (a link in the take's folder is not served: only regular files inside the media folder)
            return error(404, "No such file.")
        return FileResponse(path, media_type=record.content_type, filename=f"{job.id}-{path.name}")

    async def openapi(self, request: Request) -> Response:
        """`GET /api/v1/openapi.json`: the routes described (no token needed to read it)."""
        if not host_ok(request, self.settings):
            return error(421, WRONG_HOST)
        return JSONResponse(self.document)
