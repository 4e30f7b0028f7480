"""The OpenAI Videos API, served: routes, request parsing, validation and OpenAI-shaped errors.

Bodies arrive as the official `openai` package sends them (multipart, nested objects as bracketed
fields such as `video[id]`) or as JSON; both are read into one dict before anything is checked.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hmac
import io
import math
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from dailies.media import NoVideoStream, probe_video
from dailies.request_bodies import BodyTooLarge, read_bounded, read_form, read_json
from dailies.videos_spec import (
    DEFAULT_SECONDS,
    DEFAULT_SIZE,
    EXTEND_SECONDS,
    MAX_PROMPT_CHARS,
    MODELS,
    SECONDS,
    SIZES,
    sizes_for,
)

from .faults import FaultPlan
from .state import EngineJob, JobBook, expired, new_id, random_seed

PREVIEW_MODEL = "dailies-preview"
PREVIEW_PRO_MODEL = "dailies-preview-pro"
ENGINE_MODELS: tuple[str, ...] = (PREVIEW_MODEL, PREVIEW_PRO_MODEL, "sora-2", "sora-2-pro")
"""What `/v1/models` lists: our preview names first, then Sora's, all rendered as local previews."""
OWNER = "dailies-local-preview"
MAX_UPLOAD = 200 * 1024 * 1024
"""The largest source video (edit, extend, character) accepted, in bytes."""
MAX_REFERENCE = 20 * 1024 * 1024
"""The largest input reference image, in bytes (the workbench's upload limit too)."""
MAX_REFERENCE_PIXELS = 4096 * 4096
"""Larger images are refused before they are decoded (a small PNG can decode to gigabytes)."""
MAX_SOURCE_SIDE = 1920
MAX_SOURCE_SECONDS = 60.0
MAX_BODY = MAX_UPLOAD + 1024 * 1024
"""The largest form body, in bytes: a source video and the fields beside it."""
MAX_JSON_BODY = MAX_REFERENCE * 4 // 3 + 1024 * 1024
"""The largest JSON body (and a form's fields that are not files, together), in bytes: a reference image as
a base64 data URL, and the rest."""
MAX_FILES = 4
"""The most files in one form (the API takes one: a reference image or a source video)."""
MAX_FIELDS = 200
"""The most fields in one form."""
CONTENT_TYPES = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}


class APIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type_: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.type = status, message, code, param, type_
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def resolve_model(requested: str | None) -> str:
    """The model a request named, echoed back as the OpenAI API does, when the engine renders it.

    The engine renders every model it lists as a preview; Sora's names are listed and accepted so
    that code written against Sora 2 runs unchanged and sees its own model name in every answer.
    """
    model = (requested or "sora-2").strip()
    if model in ENGINE_MODELS or model in MODELS:
        return model
    allowed = ", ".join(dict.fromkeys((*ENGINE_MODELS, *MODELS)))
    raise APIError(400, f"Invalid model '{model}'. Supported models: {allowed}.", code="invalid_model", param="model")


class VideosAPI:
    """Route handlers over a JobBook. One per engine."""

    def __init__(self, book: JobBook, plan: FaultPlan, api_key: str | None, poll_after_ms: int | None,
                 served_models: tuple[str, ...] = ()) -> None:
        self.book = book
        self.served_models = served_models
        """When set, the only models listed and accepted (a one-model server such as vLLM-Omni stood in for)."""
        self.plan = plan
        self._key = api_key
        self.poll_after_ms = poll_after_ms
        self.started = int(time.time())
        self.status_requests: Counter[str] = Counter()
        """Status requests (`GET /v1/videos/{id}`) answered per video: what polling costs (tests, benchmarks)."""

    def routes(self) -> list[Route]:
        return [
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/videos", self.create, methods=["POST"]),
            Route("/v1/videos", self.list, methods=["GET"]),
            Route("/v1/videos/extensions", self.extend, methods=["POST"]),
            Route("/v1/videos/edits", self.edit, methods=["POST"]),
            Route("/v1/videos/characters", self.create_character, methods=["POST"]),
            Route("/v1/videos/characters/{character_id}", self.get_character, methods=["GET"]),
            Route("/v1/videos/{video_id}", self.retrieve, methods=["GET"]),
            Route("/v1/videos/{video_id}", self.delete, methods=["DELETE"]),
            Route("/v1/videos/{video_id}/content", self.content, methods=["GET"]),
            Route("/v1/videos/{video_id}/remix", self.remix, methods=["POST"]),
        ]

    # -- guards ------------------------------------------------------------------------------------

    def _without_route(self, operation: str) -> Response | None:
        """FastAPI's answer for a route the server does not have, when `operation` is refused (see
        `Faults.refuse_operations`); None when it is offered."""
        if operation not in self.plan.faults.refuse_operations:
            return None
        if operation in ("extend", "edit"):
            return JSONResponse({"detail": "Method Not Allowed"}, status_code=405)
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    def _model(self, requested: str | None) -> str:
        """The model a create names: one of `served_models` when the engine stands in for a one-model server
        (none named: its model, as vLLM does), otherwise `resolve_model`."""
        if not self.served_models:
            return resolve_model(requested)
        model = (requested or self.served_models[0]).strip()
        if model not in self.served_models:
            raise APIError(404, f"The model `{model}` does not exist.", code="model_not_found", param="model")
        return model

    async def _guard(self, request: Request, *, faults: bool = True, create: bool = False) -> None:
        if self._key:
            header = request.headers.get("authorization", "")
            given = header[7:] if header.lower().startswith("bearer ") else ""
            if not hmac.compare_digest(given.encode(), self._key.encode()):
                shown = f"{given[:3]}***{given[-4:]}" if len(given) > 8 else "(none)"
                raise APIError(
                    401,
                    f"Incorrect API key provided: {shown}. Check the key the engine was started with.",
                    code="invalid_api_key",
                )
        faults_cfg = self.plan.faults
        if faults_cfg.latency_ms:
            await asyncio.sleep(faults_cfg.latency_ms / 1000)
        if not faults:
            return
        status = self.plan.request_fault(create=create)
        if status == 429:
            wait = faults_cfg.retry_after_s
            raise APIError(
                429,
                "Rate limit reached for requests (injected fault). Try again shortly.",
                code="rate_limit_exceeded",
                type_="requests",
                headers={"retry-after": str(max(1, math.ceil(wait))), "retry-after-ms": str(int(wait * 1000))},
            )
        if status:
            raise APIError(
                status,
                "The engine had an error while processing your request (injected fault).",
                code="server_error",
                type_="server_error",
            )

    async def _body(self, request: Request) -> dict[str, Any]:
        """JSON or form fields as one dict; `a[b]` fields become nested `{"a": {"b": ...}}`.

        JSON is read up to `MAX_JSON_BODY` and parsed off the event loop; a form up to `MAX_BODY` in all (its
        files spill to disk, its other fields are `MAX_JSON_BODY` at most). Past its limit, however it is
        sent, the body is refused with a 413.
        """
        content_type = request.headers.get("content-type", "")
        try:
            if "application/json" in content_type:
                try:
                    data = await read_json(request, MAX_JSON_BODY)
                except ValueError as exc:
                    raise APIError(400, f"The body is not valid JSON: {exc}", code="invalid_json") from exc
                if not isinstance(data, dict):
                    raise APIError(400, "The body must be a JSON object.", code="invalid_json")
                return data
            if "multipart/form-data" in content_type or "application/x-www-form-urlencoded" in content_type:
                try:
                    form = await read_form(request, MAX_BODY, max_files=MAX_FILES, max_fields=MAX_FIELDS,
                                           max_field_bytes=MAX_JSON_BODY)
                except ValueError as exc:
                    raise APIError(400, f"The form could not be read: {exc}", code="invalid_form") from exc
                data: dict[str, Any] = {}
                for key, value in form.multi_items():
                    if "[" in key and key.endswith("]"):
                        outer, inner = key[:-1].split("[", 1)
                        nested = data.setdefault(outer, {})
                        if isinstance(nested, dict):
                            nested[inner] = value
                    else:
                        data[key] = value
                return data
            if not await read_bounded(request, MAX_JSON_BODY):
                return {}
        except BodyTooLarge as exc:
            raise APIError(413, exc.message, code="body_too_large") from None
        raise APIError(
            400,
            f"Unsupported content type {content_type!r}; send multipart/form-data or JSON.",
            code="unsupported_content_type",
        )

    # -- routes ------------------------------------------------------------------------------------

    async def models(self, request: Request) -> Response:
        await self._guard(request, faults=False)
        data = [
            {"id": m, "object": "model", "created": self.started, "owned_by": OWNER,
             "description": "a local preview render by the Dailies engine, not the vendor's model"}
            for m in ENGINE_MODELS
        ] if not self.served_models else [
            {"id": m, "object": "model", "created": self.started, "owned_by": "vllm"} for m in self.served_models
        ]
        return JSONResponse({"object": "list", "data": data})

    async def create(self, request: Request) -> Response:
        await self._guard(request, create=True)
        body = await self._body(request)
        prompt = _prompt(body)
        model = self._model(_text(body.get("model")))
        size = _text(body.get("size")) or DEFAULT_SIZE
        allowed_sizes = sizes_for(model)
        if size not in allowed_sizes:
            extra = " (1024x1792 and 1792x1024 need the pro model)" if size in SIZES else ""
            raise APIError(
                400,
                f"Invalid size '{size}' for {model}. Supported sizes: {', '.join(allowed_sizes)}{extra}.",
                code="invalid_size",
                param="size",
            )
        seconds = _seconds(body.get("seconds"), SECONDS, DEFAULT_SECONDS)
        reference = await _reference(body.get("input_reference"), self.book.uploads_dir)
        job = self._new_job("generate", model, prompt, size, seconds, body)
        job.reference_path = reference
        return self._created(await run_in_threadpool(self.book.add, job))

    async def remix(self, request: Request) -> Response:
        await self._guard(request, create=True)
        if refused := self._without_route("remix"):
            return refused
        body = await self._body(request)
        prompt = _prompt(body)
        source = self._completed(request.path_params["video_id"])
        job = self._new_job("remix", source.model, prompt, source.size, source.seconds, body)
        # Same layout and camera (seed and motion of the source), the new prompt's look.
        job.seed = source.seed
        job.motion_prompt = source.motion_prompt or source.prompt
        job.look_prompt = prompt
        job.remixed_from_video_id = source.id
        job.reference_path = source.reference_path
        return self._created(await run_in_threadpool(self.book.add, job))

    async def extend(self, request: Request) -> Response:
        await self._guard(request, create=True)
        if refused := self._without_route("extend"):
            return refused
        body = await self._body(request)
        prompt = _prompt(body)
        added = _seconds(body.get("seconds"), EXTEND_SECONDS, None)
        source_path, source = await self._source_video(body.get("video"))
        width, height, duration = await run_in_threadpool(_probe, source_path)
        total = round(duration) + added
        model = _model_of(body, source)
        job = self._new_job("extend", model, prompt, f"{width}x{height}", total, body)
        job.extra["added_seconds"] = added
        job.source_id = source.id if source else None
        job.source_path = str(source_path)
        job.look_prompt = prompt
        job.motion_prompt = prompt
        return self._created(await run_in_threadpool(self.book.add, job))

    async def edit(self, request: Request) -> Response:
        await self._guard(request, create=True)
        if refused := self._without_route("edit"):
            return refused
        body = await self._body(request)
        prompt = _prompt(body)
        source_path, source = await self._source_video(body.get("video"))
        width, height, duration = await run_in_threadpool(_probe, source_path)
        model = _model_of(body, source)
        job = self._new_job("edit", model, prompt, f"{width}x{height}", max(1, round(duration)), body)
        job.source_id = source.id if source else None
        job.source_path = str(source_path)
        return self._created(await run_in_threadpool(self.book.add, job))

    async def list(self, request: Request) -> Response:
        await self._guard(request)
        if self.plan.faults.refuse_list:
            raise APIError(400, "Listing videos is not supported by this server (injected fault).",
                           code="list_not_supported")
        params = request.query_params
        order = params.get("order", "desc")
        if order not in ("asc", "desc"):
            raise APIError(400, f"Invalid order '{order}'. Use 'asc' or 'desc'.", param="order", code="invalid_order")
        try:
            limit = int(params.get("limit", "20"))
        except ValueError:
            limit = -1
        if not 1 <= limit <= 100:
            raise APIError(400, "limit must be an integer from 1 to 100.", param="limit", code="invalid_limit")
        jobs = self.book.listed()
        if order == "desc":
            jobs.reverse()
        after = params.get("after")
        if after:
            ids = [j.id for j in jobs]
            if after not in ids:
                raise APIError(
                    404, f"No video found with id '{after}' (the 'after' cursor).", param="after", code="not_found"
                )
            jobs = jobs[ids.index(after) + 1 :]
        page = jobs[:limit]
        data = [self._public(j) for j in page]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": len(jobs) > limit,
            }
        )

    async def retrieve(self, request: Request) -> Response:
        await self._guard(request)
        job = self._find(request.path_params["video_id"])
        self.status_requests[job.id] += 1
        headers = {}
        if job.status in ("queued", "in_progress") and not self.plan.faults.omit_poll_hint:
            headers["openai-poll-after-ms"] = str(self._poll_hint(job))
        return JSONResponse(self._public(job), headers=headers)

    def _public(self, job: EngineJob) -> dict[str, Any]:
        """The video object as this engine reports it (progress 0 until done, when told to hide it)."""
        video = job.public()
        if self.plan.faults.hide_progress and job.status in ("queued", "in_progress"):
            video["progress"] = 0
        return video

    def _poll_hint(self, job: EngineJob) -> int:
        """When to ask again: the configured value, the time a paced job has left, or else the time left
        at the job's rate so far."""
        if self.poll_after_ms is not None:
            return self.poll_after_ms
        if job.status == "queued" or not job.started_at or job.progress <= 1:
            return 1000
        elapsed = time.time() - job.started_at
        paced_left = self.book.job_seconds(job) - elapsed
        if paced_left > 0:  # a job of known duration: the time it has left is known exactly
            return int(min(5000, max(250, paced_left * 1000)))
        if self.book.job_seconds(job) > 0 and job.progress >= 98:
            return 250  # its time is up and its render done: it is only finishing (98 % would say 2 % to go)
        remaining = elapsed * (100 - job.progress) / max(job.progress, 1)
        return int(min(5000, max(250, remaining * 1000)))

    async def delete(self, request: Request) -> Response:
        await self._guard(request)
        if self.plan.faults.refuse_delete:  # a gateway without the route, FastAPI-style
            return JSONResponse({"detail": "Method Not Allowed"}, status_code=405)
        video_id = request.path_params["video_id"]
        job = self._find(video_id)
        if job.status in ("queued", "in_progress"):
            raise APIError(
                409,
                f"Video '{video_id}' is still {job.status}; delete it once it has finished.",
                code="video_not_finished",
            )
        await run_in_threadpool(self.book.delete, video_id)
        return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})

    async def content(self, request: Request) -> Response:
        await self._guard(request)
        job = self._find(request.path_params["video_id"])
        variant = request.query_params.get("variant", "video")
        if variant not in CONTENT_TYPES:
            raise APIError(
                400,
                f"Invalid variant '{variant}'. Use video, thumbnail or spritesheet.",
                param="variant",
                code="invalid_variant",
            )
        if job.status != "completed":
            raise APIError(
                404,
                f"Video '{job.id}' is {job.status}; its content is available once it has completed.",
                code="video_not_ready",
            )
        if expired(job):
            raise APIError(
                404,
                f"The content of video '{job.id}' expired at {job.expires_at} and is no longer available.",
                code="video_expired",
            )
        name, media_type = CONTENT_TYPES[variant]
        path = self.book.folder(job.id) / name
        if not path.is_file():
            raise APIError(404, f"Video '{job.id}' has no {variant}.", code="not_found")
        fault = self.plan.download_fault()
        if fault:
            return _faulty_stream(path, media_type, fault, self.plan.faults.stall_s)
        return FileResponse(path, media_type=media_type)

    async def create_character(self, request: Request) -> Response:
        await self._guard(request)
        if refused := self._without_route("characters"):
            return refused
        body = await self._body(request)
        name = _text(body.get("name")).strip()
        if not name:
            raise APIError(400, "A character needs a name.", param="name", code="missing_name")
        upload = body.get("video")
        if not isinstance(upload, UploadFile):
            raise APIError(
                400, "Send the character's video as a file in the 'video' field.", param="video", code="missing_video"
            )
        character_id = new_id("char")
        path = self.book.data_dir / "characters" / f"{character_id}.mp4"
        await _save_upload(upload, path)
        await run_in_threadpool(functools.partial(_probe, path, upload=True))
        record = {"id": character_id, "object": "character", "created_at": int(time.time()), "name": name}
        self.book.characters[character_id] = record
        await run_in_threadpool(self.book.save)
        return JSONResponse(record)

    async def get_character(self, request: Request) -> Response:
        await self._guard(request)
        if refused := self._without_route("characters"):
            return refused
        record = self.book.characters.get(request.path_params["character_id"])
        if record is None:
            raise APIError(
                404, f"No character found with id '{request.path_params['character_id']}'.", code="not_found"
            )
        return JSONResponse(record)

    # -- helpers -----------------------------------------------------------------------------------

    def _created(self, job: EngineJob) -> Response:
        """The answer to a create, or (as a fault) a connection dropped after the job was made."""
        if self.plan.lose_create_answer():
            return _dropped_answer()
        return JSONResponse(self._public(job))

    def _new_job(self, kind: str, model: str, prompt: str, size: str, seconds: int, body: dict[str, Any]) -> EngineJob:
        seed_field = _text(body.get("seed"))
        try:
            seed = int(seed_field) if seed_field else random_seed()
        except ValueError as exc:
            raise APIError(400, f"seed must be an integer, got {seed_field!r}.", param="seed") from exc
        return EngineJob(
            id=new_id("video"),
            kind=kind,
            model=model,
            prompt=prompt,
            size=size,
            seconds=seconds,
            seed=seed,
            created_at=int(time.time()),
            look_prompt=prompt,
            motion_prompt=prompt,
        )

    def _find(self, video_id: str) -> EngineJob:
        job = self.book.get(video_id)
        if job is None:
            raise APIError(404, f"No video found with id '{video_id}'.", code="not_found", param="video_id")
        return job

    def _completed(self, video_id: str) -> EngineJob:
        job = self._find(video_id)
        if job.status != "completed":
            raise APIError(
                400,
                f"Video '{video_id}' is {job.status}; only a completed video can be used.",
                code="video_not_ready",
                param="video_id",
            )
        if expired(job):
            raise APIError(404, f"Video '{video_id}' has expired.", code="video_expired", param="video_id")
        return job

    async def _source_video(self, value: Any) -> tuple[Path, EngineJob | None]:
        if isinstance(value, dict) and value.get("id"):
            job = self._completed(_text(value["id"]))
            return self.book.folder(job.id) / "video.mp4", job
        if isinstance(value, str) and value.strip():
            job = self._completed(value.strip())
            return self.book.folder(job.id) / "video.mp4", job
        if isinstance(value, UploadFile):
            path = self.book.uploads_dir / f"{new_id('upload')}.mp4"
            await _save_upload(value, path)
            await run_in_threadpool(functools.partial(_probe, path, upload=True))
            return path, None
        raise APIError(
            400,
            "Send the source video as a file or as {\"id\": ...} in the 'video' field.",
            param="video",
            code="missing_video",
        )


# -- parsing ------------------------------------------------------------------------------------------


def _model_of(body: dict[str, Any], source: EngineJob | None) -> str:
    """An extension or edit keeps its source's model unless the request names one (gateways route by it)."""
    named = _text(body.get("model"))
    if named:
        return resolve_model(named)
    return source.model if source else PREVIEW_MODEL


def _text(value: Any) -> str:
    if value is None or isinstance(value, UploadFile):
        return ""
    return str(value)


def _prompt(body: dict[str, Any]) -> str:
    prompt = _text(body.get("prompt")).strip()
    if not prompt:
        raise APIError(400, "A prompt is required and must not be empty.", param="prompt", code="missing_prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise APIError(
            400,
            f"The prompt is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}.",
            param="prompt",
            code="prompt_too_long",
        )
    return prompt


def _seconds(value: Any, allowed: tuple[int, ...], default: int | None) -> int:
    text = _text(value).strip()
    if not text:
        if default is None:
            raise APIError(
                400,
                f"seconds is required. Supported values: {', '.join(map(str, allowed))}.",
                param="seconds",
                code="missing_seconds",
            )
        return default
    try:
        seconds = int(text)
    except ValueError:
        seconds = -1
    if seconds not in allowed:
        raise APIError(
            400,
            f"Invalid seconds '{text}'. Supported values: {', '.join(map(str, allowed))}.",
            param="seconds",
            code="invalid_seconds",
        )
    return seconds


async def _save_upload(upload: UploadFile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with open(path, "wb") as out:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD:
                out.close()
                path.unlink(missing_ok=True)
                raise APIError(400, f"The video is over {MAX_UPLOAD // 2**20} MB, the limit for a source video.",
                               param="video", code="file_too_large")
            out.write(chunk)


def _probe(path: Path, *, upload: bool = False) -> tuple[int, int, float]:
    """Width, height (even) and duration of a video; an upload beyond the source bounds is deleted and refused."""
    try:
        info = probe_video(path)
    except NoVideoStream:
        raise APIError(400, "The uploaded file has no video stream.", param="video", code="invalid_video") from None
    except ValueError as exc:
        path.unlink(missing_ok=True)
        raise APIError(
            400, "The uploaded file is not a video the engine can read.", param="video", code="invalid_video"
        ) from exc
    width, height, duration = info.width, info.height, info.duration
    problem = None
    if upload and max(width, height) > MAX_SOURCE_SIDE:
        problem = f"The video is {width}x{height}; the engine takes sources up to {MAX_SOURCE_SIDE} pixels a side."
    elif upload and duration > MAX_SOURCE_SECONDS:
        problem = f"The video is {duration:.0f} s long; the engine takes sources up to {MAX_SOURCE_SECONDS:.0f} s."
    if problem:
        path.unlink(missing_ok=True)
        raise APIError(400, problem, param="video", code="video_too_large")
    return width // 2 * 2, height // 2 * 2, duration


async def _reference(value: Any, uploads: Path) -> str | None:
    """An input reference (uploaded image or `{image_url}` data URL) saved as a PNG; its path."""
    if value is None or value == "":
        return None
    too_big = APIError(400, f"input_reference is over {MAX_REFERENCE // 2**20} MB, the limit for a reference "
                            "image.", param="input_reference", code="file_too_large")
    if isinstance(value, UploadFile):
        data = await value.read(MAX_REFERENCE + 1)
        if len(data) > MAX_REFERENCE:
            raise too_big
    elif isinstance(value, dict):
        if value.get("file_id"):
            raise APIError(
                400,
                "This engine has no file store; upload the image or send a data: URL as input_reference[image_url].",
                param="input_reference.file_id",
                code="unsupported",
            )
        url = _text(value.get("image_url"))
        if not url.startswith("data:"):
            raise APIError(
                400,
                "This engine has no network access and does not fetch image URLs; upload the "
                "image or send a data: URL.",
                param="input_reference.image_url",
                code="unsupported_url",
            )
        if len(url) > MAX_REFERENCE * 4 // 3 + 1024:
            raise too_big
        try:
            data = base64.b64decode(url.split(",", 1)[1], validate=False)
        except (IndexError, binascii.Error) as exc:
            raise APIError(400, "The data URL is not valid base64.", param="input_reference.image_url") from exc
    else:
        raise APIError(400, "input_reference must be an image file or {image_url}.", param="input_reference")
    return await run_in_threadpool(_save_reference, data, uploads)


def _save_reference(data: bytes, uploads: Path) -> str:
    """Decode (size checked first) and save a reference as PNG; in a worker thread, off the event loop."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_REFERENCE_PIXELS:
                raise APIError(400, f"input_reference is {image.width}x{image.height}; the limit is "
                                    f"{MAX_REFERENCE_PIXELS:,} pixels (4096x4096).",
                               param="input_reference", code="image_too_large")
            image.load()
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise APIError(
            400,
            "input_reference is not an image the engine can read (PNG, JPEG or WebP).",
            param="input_reference",
            code="invalid_image",
        ) from exc
    path = uploads / f"{new_id('ref')}.png"
    picture.save(path)
    return str(path)


def _faulty_stream(path: Path, media_type: str, fault: str, stall_s: float) -> Response:
    """A download that stalls or drops halfway, with the full Content-Length promised."""
    size = path.stat().st_size
    half = size // 2

    async def body() -> AsyncIterator[bytes]:
        with open(path, "rb") as handle:
            yield handle.read(half)
            if fault == "drop":
                raise ConnectionAbortedError("injected fault: connection dropped midway")
            await asyncio.sleep(stall_s)
            yield handle.read()

    return StreamingResponse(body(), media_type=media_type, headers={"content-length": str(size)})


def _dropped_answer() -> Response:
    """Headers promising a body, then the connection dropped: the answer to a create is lost."""

    async def body() -> AsyncIterator[bytes]:
        raise ConnectionAbortedError("injected fault: the answer to a create was lost")
        yield b""  # pragma: no cover - makes this an async generator

    return StreamingResponse(body(), media_type="application/json", headers={"content-length": "512"})
