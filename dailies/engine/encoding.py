"""How the engine encodes its renders: a leaf module (no PyAV, no numpy), so that configuring an engine does not
load the renderer."""

from __future__ import annotations

import os
from dataclasses import dataclass

PRESET_VAR = "DAILIES_ENGINE_PRESET"
PRESETS = ("veryfast", "superfast", "ultrafast")
"""x264's speed presets a render may use, slowest first."""


@dataclass(frozen=True)
class Encoding:
    """How a render is encoded: encoder threads, and x264's speed preset.

    `veryfast` is the default. `ultrafast` renders about 40% quicker for about twice the bytes (1280x720, 4 s: 0.64
    CPU-s instead of 1.08, 0.54 MB instead of 0.24), still H.264 that every browser plays: for drafts on a slow
    machine, and for the test suite, which renders hundreds of takes. `DAILIES_ENGINE_PRESET` chooses it for every
    engine a process starts (`from_environment`).
    """

    threads: int = 1
    preset: str = "veryfast"

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"{PRESET_VAR}={self.preset!r} is not an encoder preset; use one of {', '.join(PRESETS)}.")

    @classmethod
    def from_environment(cls, threads: int = 1) -> Encoding:
        """`threads` per render, the preset from `DAILIES_ENGINE_PRESET` (the default when it is unset or empty)."""
        return cls(threads, os.environ.get(PRESET_VAR, "").strip().lower() or cls.preset)


DEFAULT = Encoding()
"""One encoder thread, `veryfast`: what a render uses when it is not told."""
