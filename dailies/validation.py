"""Checks of a request against what the provider accepts, with messages that name the allowed values.

These run before anything is sent or written: a request that fails here changes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

from dailies.errors import ValidationError
from dailies.jobs import JobKind, JobRequest
from dailies.providers.base import Capabilities

MAX_REFERENCE_BYTES = 20 * 1024 * 1024
MAX_SOURCE_VIDEO_BYTES = 200 * 1024 * 1024
REFERENCE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
READABLE_FORMATS = "PNG, JPEG or WebP"
REFERENCE_SUFFIXES = ("png", "jpg", "jpeg", "webp")
"""File name endings an upload of those formats may have."""


AXIS_SEPARATORS = re.compile(r"[,|;\n]")
"""What people type between an axis's values: commas, pipes, semicolons or one value a line."""


def split_axis_values(text: str | None) -> list[str]:
    """The values typed for one axis, in order, without blanks or repeats ("dawn | dusk" is two)."""
    values: list[str] = []
    for part in AXIS_SEPARATORS.split(text or ""):
        value = " ".join(part.split())
        if value and value not in values:
            values.append(value)
    return values


def _allowed(values: tuple[object, ...]) -> str:
    return ", ".join(str(v) for v in values)


def prompt_length(prompt: str | None) -> int:
    """The length the limit applies to (what is sent: the prompt without surrounding blanks)."""
    return len((prompt or "").strip())


def validate_prompt(prompt: str, max_chars: int) -> str:
    text = (prompt or "").strip()
    if not text:
        raise ValidationError("Write a prompt first: it is empty.", field="prompt")
    if len(text) > max_chars:
        raise ValidationError(
            f"The prompt is {len(text):,} characters; the limit is {max_chars:,}. Shorten it by "
            f"{len(text) - max_chars:,}.",
            field="prompt",
        )
    return text


def validate_request(request: JobRequest, caps: Capabilities) -> None:
    """Raise ValidationError naming what to change; return quietly when the request may be sent."""
    validate_prompt(request.prompt, caps.max_prompt_chars)
    if not caps.supports(request.kind):
        said = caps.unsupported.get(str(request.kind))  # the provider's own reason, when it gave one
        raise ValidationError(said or f"This provider cannot {request.kind}.", field="kind")
    if request.kind in (JobKind.REMIX, JobKind.EXTEND, JobKind.EDIT) and not (
        request.source_job_id or request.reference_path
    ):
        raise ValidationError(f"A {request.kind} needs a source video: pick a finished job.", field="source")
    if request.kind is JobKind.GENERATE:
        if request.model not in caps.models:
            raise ValidationError(
                f"Unknown model {request.model!r}. Choose one of: {_allowed(caps.models)}.", field="model"
            )
        sizes = caps.sizes_for(request.model)
        if request.size not in sizes:
            raise ValidationError(
                f"Size {request.size!r} is not offered for {request.model}. Choose one of: {_allowed(sizes)}.",
                field="size",
            )
        if request.seconds not in caps.seconds:
            raise ValidationError(
                f"{request.seconds} seconds is not offered. Choose one of: {_allowed(caps.seconds)} seconds.",
                field="seconds",
            )
        if request.reference_path:
            if not caps.reference_image:
                raise ValidationError("This provider does not take a reference image.", field="reference")
            if not caps.takes_image(request.model):
                raise ValidationError(f"{request.model} takes no reference image: choose a model that takes one, "
                                      "or take the reference off.", field="reference")
            check_reference_image(request.reference_path)
        check_subject_references(request, caps)
        if not request.audio and not caps.can_be_silent(request.model):
            raise ValidationError(f"{request.model} always renders sound; it cannot make a silent take. Turn sound "
                                  "on, or choose a model that can be silent.", field="audio")
    elif request.kind is JobKind.EXTEND and request.seconds not in caps.extend_seconds:
        raise ValidationError(
            f"An extension adds {_allowed(caps.extend_seconds)} seconds, not {request.seconds}.", field="seconds"
        )
    if request.reference_images and request.kind is not JobKind.GENERATE:
        raise ValidationError(f"Subject reference images go with a new take only ({request.kind} takes none): "
                              "take them off.",
                              field="reference_images")
    if request.kind in (JobKind.EXTEND, JobKind.EDIT) and request.reference_path and not request.source_job_id:
        check_source_video(request.reference_path)


def check_subject_references(request: JobRequest, caps: Capabilities) -> None:
    """Subject reference images go only to a model that takes that many (`Capabilities.subject_references`),
    each one an image we can send: anything else is refused here, before a take is recorded or sent, naming the
    model and its limit, in words that say what to change (take the library asset off, when they came from one)."""
    most, count = caps.subject_references(request.model), len(request.reference_images)
    if not count:
        return
    if not most:
        if request.library_asset:
            frame = " (only an opening frame)" if caps.takes_image(request.model) else ""
            raise ValidationError(f"{request.model} takes no subject reference images{frame}: choose a model that "
                                  "takes them, or take the asset off.", field="reference_images")
        raise ValidationError(f"{request.model} takes no subject reference images; take the {count} off, or choose "
                              "a model that takes them.", field="reference_images")
    if count > most:
        raise ValidationError(f"{request.model} takes up to {most} subject reference images, not {count}: take "
                              f"{count - most} off.", field="reference_images")
    for path in request.reference_images:
        check_reference_image(path)


def check_reference_image(path: str | Path, shown_name: str | None = None) -> str:
    """The file is a PNG, JPEG or WebP image within the size limit; returns its content type.

    `shown_name` is the name the person knows the file by (an upload is kept under a generated
    name), so the message names their file and not ours.
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    name = shown_name or p.name
    if not p.is_file():
        raise ValidationError(f"The reference file {name!r} is not there.", field="reference")
    size = p.stat().st_size
    if size > MAX_REFERENCE_BYTES:
        raise ValidationError(
            f"The reference image {name!r} is {size / 2**20:.1f} MB; "
            f"the limit is {MAX_REFERENCE_BYTES / 2**20:.0f} MB.",
            field="reference",
        )
    try:
        with Image.open(p) as image:
            image.verify()
            fmt = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError(
            f"{name!r} is not an image (or is damaged), whatever its name says. Choose a {READABLE_FORMATS} "
            "image.",
            field="reference",
        ) from exc
    if fmt not in REFERENCE_FORMATS:
        raise ValidationError(
            f"{name!r} is a {fmt or 'kind of'} image this provider does not take. Choose a {READABLE_FORMATS} "
            "image.",
            field="reference",
        )
    return REFERENCE_FORMATS[fmt]


def check_source_video(path: str | Path) -> None:
    from dailies.media import probe_video

    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"The source video {p.name!r} is not there.", field="reference")
    if p.stat().st_size > MAX_SOURCE_VIDEO_BYTES:
        raise ValidationError(f"The source video is over {MAX_SOURCE_VIDEO_BYTES / 2**20:.0f} MB.", field="reference")
    try:
        probe_video(p)
    except ValueError as exc:
        raise ValidationError(f"The source file is not a video we can read: {exc}", field="reference") from exc
