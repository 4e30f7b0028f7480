"""Making videos: create, remix, extend and edit (`POST /v1/videos`, `.../remix`, `/extensions`, `/edits`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dailies.videos_spec import DEFAULT_SECONDS, DEFAULT_SIZE, EXTEND_SECONDS, SECONDS, SIZES, sizes_for

from ..faults import FaultPlan
from ..state import EngineJob, JobBook, new_id
from .catalogue import Catalogue
from .errors import APIError
from .fault_answers import dropped_answer
from .fields import model_of, new_job, prompt_of, seconds_of, text
from .gate import RequestGate
from .uploads import probe, reference, save_video
from .videos import completed, public


class Creating:
    """The create routes over a JobBook: each checks its request, adds a job and answers with it."""

    def __init__(self, book: JobBook, plan: FaultPlan, gate: RequestGate, catalogue: Catalogue) -> None:
        self.book, self.plan, self.gate, self.catalogue = book, plan, gate, catalogue

    def routes(self) -> list[Route]:
        return [
            Route("/v1/videos", self.create, methods=["POST"]),
            Route("/v1/videos/{video_id}/remix", self.remix, methods=["POST"]),
            Route("/v1/videos/extensions", self.extend, methods=["POST"]),
            Route("/v1/videos/edits", self.edit, methods=["POST"]),
        ]

    async def create(self, request: Request) -> Response:
        body, prompt = await self._asked(request)
        model = self.catalogue.model(text(body.get("model")))
        size = text(body.get("size")) or DEFAULT_SIZE
        allowed_sizes = sizes_for(model)
        if size not in allowed_sizes:
            extra = " (1024x1792 and 1792x1024 need the pro model)" if size in SIZES else ""
            raise APIError(
                400,
                f"Invalid size '{size}' for {model}. Supported sizes: {', '.join(allowed_sizes)}{extra}.",
                code="invalid_size",
                param="size",
            )
        seconds = seconds_of(body.get("seconds"), SECONDS, DEFAULT_SECONDS)
        reference_path = await reference(body.get("input_reference"), self.book.uploads_dir)
        job = new_job("generate", model, prompt, size, seconds, body)
        job.reference_path = reference_path
        return await self._added(job)

    async def remix(self, request: Request) -> Response:
        body, prompt = await self._asked(request, "remix")
        source = completed(self.book, request.path_params["video_id"])
        job = new_job("remix", source.model, prompt, source.size, source.seconds, body)
        # Same layout and camera (seed and motion of the source), the new prompt's look.
        job.seed = source.seed
        job.motion_prompt = source.motion_prompt or source.prompt
        job.look_prompt = prompt
        job.remixed_from_video_id = source.id
        job.reference_path = source.reference_path
        return await self._added(job)

    async def extend(self, request: Request) -> Response:
        body, prompt = await self._asked(request, "extend")
        added = seconds_of(body.get("seconds"), EXTEND_SECONDS, None)
        source_path, source = await self._source_video(body.get("video"))
        width, height, duration = await run_in_threadpool(probe, source_path)
        job = new_job("extend", model_of(body, source), prompt, f"{width}x{height}", round(duration) + added, body)
        job.extra["added_seconds"] = added
        job.source_id = source.id if source else None
        job.source_path = str(source_path)
        return await self._added(job)

    async def edit(self, request: Request) -> Response:
        body, prompt = await self._asked(request, "edit")
        source_path, source = await self._source_video(body.get("video"))
        width, height, duration = await run_in_threadpool(probe, source_path)
        job = new_job("edit", model_of(body, source), prompt, f"{width}x{height}", max(1, round(duration)), body)
        job.source_id = source.id if source else None
        job.source_path = str(source_path)
        return await self._added(job)

    async def _asked(self, request: Request, operation: str | None = None) -> tuple[dict[str, Any], str]:
        """The request let through (key, faults, and `operation` offered) and read: its body and prompt."""
        await self.gate.guard(request, create=True)
        if operation:
            self.gate.offer(operation)
        body = await self.gate.body(request)
        return body, prompt_of(body)

    async def _added(self, job: EngineJob) -> Response:
        """The answer to a create once its job is added, or (as a fault) a connection dropped after it was."""
        added = await run_in_threadpool(self.book.add, job)
        if self.plan.lose_create_answer():
            return dropped_answer()
        return JSONResponse(public(added, self.plan))

    async def _source_video(self, value: Any) -> tuple[Path, EngineJob | None]:
        """The video an extension or edit starts from: a completed one of ours (`{"id": ...}` or its id),
        or an uploaded file."""
        named = text(value["id"]) if isinstance(value, dict) and value.get("id") else None
        if named is None and isinstance(value, str) and value.strip():
            named = value.strip()
        if named is not None:
            job = completed(self.book, named)
            return self.book.folder(job.id) / "video.mp4", job
        if isinstance(value, UploadFile):
            path = self.book.uploads_dir / f"{new_id('upload')}.mp4"
            await save_video(value, path)
            return path, None
        raise APIError(
            400,
            "Send the source video as a file or as {\"id\": ...} in the 'video' field.",
            param="video",
            code="missing_video",
        )
