"""Files a request brings: source videos (saved, then probed against the source bounds) and reference images
(decoded off the event loop, size checked first, saved as PNG)."""

from __future__ import annotations

import base64
import binascii
import functools
import io
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dailies.media import NoVideoStream, probe_video

from ..state import new_id
from .errors import APIError
from .fields import text
from .limits import MAX_REFERENCE, MAX_REFERENCE_PIXELS, MAX_SOURCE_SECONDS, MAX_SOURCE_SIDE, MAX_UPLOAD


async def save_video(upload: UploadFile, path: Path) -> None:
    """Save an uploaded video at `path` and check it is one the engine takes; refused (and deleted) if not."""
    await _save_upload(upload, path)
    await run_in_threadpool(functools.partial(probe, path, upload=True))


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


def probe(path: Path, *, upload: bool = False) -> tuple[int, int, float]:
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


async def reference(value: Any, uploads: Path) -> str | None:
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
        url = text(value.get("image_url"))
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
