"""A create's fields read and checked: prompt, seconds, seed, and the model an extension or edit keeps."""

from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import UploadFile

from dailies.videos_spec import MAX_PROMPT_CHARS

from ..state import EngineJob, new_id, random_seed
from .catalogue import PREVIEW_MODEL, resolve_model
from .errors import APIError


def text(value: Any) -> str:
    """A field as text; a file (or nothing) is the empty string."""
    if value is None or isinstance(value, UploadFile):
        return ""
    return str(value)


def prompt_of(body: dict[str, Any]) -> str:
    prompt = text(body.get("prompt")).strip()
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


def seconds_of(value: Any, allowed: tuple[int, ...], default: int | None) -> int:
    """The `seconds` field, one of `allowed`; `default` when absent (None: it is required)."""
    given = text(value).strip()
    if not given:
        if default is None:
            raise APIError(
                400,
                f"seconds is required. Supported values: {', '.join(map(str, allowed))}.",
                param="seconds",
                code="missing_seconds",
            )
        return default
    try:
        seconds = int(given)
    except ValueError:
        seconds = -1
    if seconds not in allowed:
        raise APIError(
            400,
            f"Invalid seconds '{given}'. Supported values: {', '.join(map(str, allowed))}.",
            param="seconds",
            code="invalid_seconds",
        )
    return seconds


def model_of(body: dict[str, Any], source: EngineJob | None) -> str:
    """An extension or edit keeps its source's model unless the request names one (gateways route by it)."""
    named = text(body.get("model"))
    if named:
        return resolve_model(named)
    return source.model if source else PREVIEW_MODEL


def new_job(kind: str, model: str, prompt: str, size: str, seconds: int, body: dict[str, Any]) -> EngineJob:
    """A job as a create asks for it, seeded by its `seed` field or at random."""
    seed_field = text(body.get("seed"))
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
