"""Videos once asked for: retrieve (with a poll hint), list, content and delete."""

from __future__ import annotations

import time
from collections import Counter

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..faults import FaultPlan
from ..state import EngineJob, JobBook, expired
from .errors import APIError, NoSuchRoute
from .fault_answers import faulty_stream
from .gate import RequestGate
from .videos import find, public

CONTENT_TYPES = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}


class Reading:
    """The read routes over a JobBook, counting the status requests each video gets."""

    def __init__(self, book: JobBook, plan: FaultPlan, gate: RequestGate, poll_after_ms: int | None) -> None:
        self.book, self.plan, self.gate = book, plan, gate
        self.poll_after_ms = poll_after_ms
        self.status_requests: Counter[str] = Counter()
        """Status requests (`GET /v1/videos/{id}`) answered per video: what polling costs (tests, benchmarks)."""

    def routes(self) -> list[Route]:
        return [
            Route("/v1/videos", self.list, methods=["GET"]),
            Route("/v1/videos/{video_id}", self.retrieve, methods=["GET"]),
            Route("/v1/videos/{video_id}", self.delete, methods=["DELETE"]),
            Route("/v1/videos/{video_id}/content", self.content, methods=["GET"]),
        ]

    async def retrieve(self, request: Request) -> Response:
        await self.gate.guard(request)
        job = find(self.book, request.path_params["video_id"])
        self.status_requests[job.id] += 1
        headers = {}
        if job.status in ("queued", "in_progress") and not self.plan.faults.omit_poll_hint:
            headers["openai-poll-after-ms"] = str(self._poll_hint(job))
        return JSONResponse(public(job, self.plan), headers=headers)

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

    async def list(self, request: Request) -> Response:
        await self.gate.guard(request)
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
        data = [public(j, self.plan) for j in jobs[:limit]]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": len(jobs) > limit,
            }
        )

    async def delete(self, request: Request) -> Response:
        await self.gate.guard(request)
        if self.plan.faults.refuse_delete:  # a gateway without the route, FastAPI-style
            raise NoSuchRoute(405)
        video_id = request.path_params["video_id"]
        job = find(self.book, video_id)
        if job.status in ("queued", "in_progress"):
            raise APIError(
                409,
                f"Video '{video_id}' is still {job.status}; delete it once it has finished.",
                code="video_not_finished",
            )
        await run_in_threadpool(self.book.delete, video_id)
        return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})

    async def content(self, request: Request) -> Response:
        await self.gate.guard(request)
        job = find(self.book, request.path_params["video_id"])
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
            return faulty_stream(path, media_type, fault, self.plan.faults.stall_s)
        return FileResponse(path, media_type=media_type)
