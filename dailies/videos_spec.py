"""What the OpenAI Videos API accepts, as the official `openai` package 3.51.0 documents it.

Both sides of the wire read these: the embedded engine validates requests against them and the
OpenAI-compatible provider advertises them as its capabilities, so a request that passes our own
validation is one the reference API would accept.
"""

from __future__ import annotations

SIZES: tuple[str, ...] = ("720x1280", "1280x720", "1024x1792", "1792x1024")
"""Every size the API names; the last two are for the pro model only."""

DEFAULT_SIZE = "720x1280"
SIZES_720P: tuple[str, ...] = ("720x1280", "1280x720")
PRO_ONLY_SIZES: tuple[str, ...] = ("1024x1792", "1792x1024")

SECONDS: tuple[int, ...] = (4, 8, 12)
"""Durations a create accepts."""
DEFAULT_SECONDS = 4
EXTEND_SECONDS: tuple[int, ...] = (4, 8, 12, 16, 20)
"""Durations of the new segment an extension accepts."""

MODELS: tuple[str, ...] = (
    "sora-2",
    "sora-2-pro",
    "sora-2-2025-10-06",
    "sora-2-2025-12-08",
    "sora-2-pro-2025-10-06",
)
DEFAULT_MODEL = "sora-2"

MAX_PROMPT_CHARS = 4000
"""The API does not publish a limit; 4,000 characters is where we stop a prompt before it leaves."""

STATUSES: tuple[str, ...] = ("queued", "in_progress", "completed", "failed")
VARIANTS: tuple[str, ...] = ("video", "thumbnail", "spritesheet")
POLL_AFTER_HEADER = "openai-poll-after-ms"


def is_pro(model: str) -> bool:
    return "-pro" in model


def sizes_for(model: str) -> tuple[str, ...]:
    """Sizes a model renders: pro models add the tall and wide 1792 sizes."""
    return SIZES if is_pro(model) else SIZES_720P


def parse_size(size: str) -> tuple[int, int]:
    """`"1280x720"` -> `(1280, 720)`; raises ValueError on anything else."""
    width, sep, height = size.partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise ValueError(f"size must look like WIDTHxHEIGHT, got {size!r}")
    return int(width), int(height)
