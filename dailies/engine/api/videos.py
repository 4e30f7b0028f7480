"""A video as requests name it and as answers show it: found by id, completed for use, reported."""

from __future__ import annotations

from typing import Any

from ..faults import FaultPlan
from ..state import EngineJob, JobBook, expired
from .errors import APIError


def find(book: JobBook, video_id: str) -> EngineJob:
    job = book.get(video_id)
    if job is None:
        raise APIError(404, f"No video found with id '{video_id}'.", code="not_found", param="video_id")
    return job


def completed(book: JobBook, video_id: str) -> EngineJob:
    """A video a new one is made from (remix, extend, edit): it must have completed and not expired."""
    job = find(book, video_id)
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


def public(job: EngineJob, plan: FaultPlan) -> dict[str, Any]:
    """The video object as this engine reports it (progress 0 until done, when told to hide it)."""
    video = job.public()
    if plan.faults.hide_progress and job.status in ("queued", "in_progress"):
        video["progress"] = 0
    return video
