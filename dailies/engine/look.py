"""From a prompt to a look: palette, camera motion, caption and edit operations.

The engine is a preview renderer, not a model: it reads a small vocabulary of colour, light and
movement words, so that a prompt visibly steers the picture and takes of one prompt can be compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RGB = tuple[int, int, int]

# Palettes: sky top, sky bottom / ground, accent. The first word found wins; order is priority.
PALETTES: dict[str, tuple[RGB, RGB, RGB]] = {
    "golden hour": ((255, 176, 84), (120, 60, 40), (255, 224, 150)),
    "sunset": ((250, 110, 70), (70, 30, 60), (255, 200, 120)),
    "sunrise": ((255, 190, 150), (90, 90, 140), (255, 240, 200)),
    "dawn": ((190, 170, 220), (70, 70, 110), (255, 220, 200)),
    "dusk": ((90, 70, 140), (30, 25, 60), (250, 170, 120)),
    "neon": ((20, 10, 45), (60, 0, 80), (0, 255, 220)),
    "night": ((8, 12, 40), (2, 4, 16), (230, 230, 255)),
    "moonlight": ((30, 40, 80), (8, 10, 30), (210, 220, 255)),
    "overcast": ((160, 165, 170), (90, 95, 100), (220, 220, 220)),
    "rain": ((110, 120, 135), (50, 55, 65), (180, 200, 220)),
    "fog": ((200, 200, 205), (150, 150, 155), (240, 240, 240)),
    "morning": ((150, 200, 255), (90, 140, 90), (255, 250, 210)),
    "noon": ((110, 180, 255), (180, 160, 110), (255, 255, 240)),
    "underwater": ((20, 120, 160), (5, 40, 70), (120, 240, 230)),
    "forest": ((120, 170, 110), (20, 60, 30), (200, 230, 120)),
    "desert": ((250, 210, 150), (200, 140, 80), (255, 240, 200)),
    "snow": ((230, 240, 250), (190, 200, 215), (255, 255, 255)),
    "ocean": ((90, 170, 230), (10, 60, 120), (240, 250, 255)),
    "autumn": ((230, 140, 60), (110, 50, 20), (250, 200, 90)),
    "studio": ((40, 40, 45), (15, 15, 18), (240, 240, 240)),
}
DEFAULT_PALETTE: tuple[RGB, RGB, RGB] = ((120, 150, 200), (50, 60, 80), (240, 220, 180))

COLOURS: dict[str, RGB] = {
    "red": (220, 40, 40),
    "orange": (250, 140, 30),
    "yellow": (250, 220, 40),
    "green": (40, 180, 80),
    "teal": (0, 160, 160),
    "blue": (40, 90, 230),
    "purple": (140, 60, 200),
    "pink": (250, 120, 180),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
    "gold": (230, 180, 60),
    "silver": (190, 195, 205),
}

# Motions: name -> (pan x, pan y in world fractions per second, zoom per second, orbit, handheld).
MOTIONS: dict[str, tuple[float, float, float, bool, bool]] = {
    "pan left": (-0.05, 0.0, 0.0, False, False),
    "pan right": (0.05, 0.0, 0.0, False, False),
    "tilt up": (0.0, -0.04, 0.0, False, False),
    "tilt down": (0.0, 0.04, 0.0, False, False),
    "zoom in": (0.0, 0.0, 0.06, False, False),
    "dolly in": (0.0, 0.0, 0.05, False, False),
    "push in": (0.0, 0.0, 0.05, False, False),
    "zoom out": (0.0, 0.0, -0.05, False, False),
    "dolly out": (0.0, 0.0, -0.04, False, False),
    "pull out": (0.0, 0.0, -0.04, False, False),
    "orbit": (0.0, 0.0, 0.0, True, False),
    "handheld": (0.0, 0.0, 0.0, False, True),
    "static": (0.0, 0.0, 0.0, False, False),
    "locked off": (0.0, 0.0, 0.0, False, False),
}
DEFAULT_MOTION = "slow drift"


@dataclass(frozen=True)
class Motion:
    name: str = DEFAULT_MOTION
    pan_x: float = 0.012
    pan_y: float = 0.0
    zoom: float = 0.01
    orbit: bool = False
    handheld: bool = False
    speed: float = 1.0
    """'slow' halves the motion, 'fast' doubles it."""


@dataclass(frozen=True)
class Look:
    palette_name: str
    sky_top: RGB
    sky_bottom: RGB
    accent: RGB
    motion: Motion
    caption: str
    words: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class EditOps:
    """What an edit prompt asks of a source video, in the order they are applied."""

    grayscale: bool = False
    mirror: bool = False
    flip: bool = False
    reverse: bool = False
    speed: float = 1.0
    grade: str | None = None  # "warm" | "cool" | None
    brightness: float = 1.0
    contrast: float = 1.0

    @property
    def is_identity(self) -> bool:
        return self == EditOps()


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", text) is not None


_GRADE = re.compile(r"(?<![a-z])(?:colou?r grade|grade|palette)\s*:\s*([^;.\n]*)")
"""A "colour grade: …" clause (a storyboard's style block writes one): its palette and colour win over
words elsewhere in the prompt, so every shot of a board keeps the board's grade."""


def read_look(prompt: str) -> Look:
    text = " ".join(prompt.lower().split())
    graded = _GRADE.search(text)
    places = (graded.group(1), text) if graded else (text,)
    palette_name, palette = "default", DEFAULT_PALETTE
    accent: RGB | None = None
    for place in places:
        found = next(((name, colours) for name, colours in PALETTES.items() if _has(place, name)), None)
        if found:
            palette_name, palette = found
            break
    for place in places:
        accent = next((colour for name, colour in COLOURS.items() if _has(place, name)), None)
        if accent:
            break
    accent = accent or palette[2]
    motion = Motion()
    for name, (px, py, zoom, orbit, handheld) in MOTIONS.items():
        if _has(text, name):
            motion = Motion(name, px, py, zoom, orbit, handheld)
            break
    if _has(text, "handheld") and not motion.handheld:
        motion = Motion(motion.name + " handheld", motion.pan_x, motion.pan_y, motion.zoom, motion.orbit, True)
    if _has(text, "slow") or _has(text, "slowly"):
        motion = _scaled(motion, 0.5)
    elif _has(text, "fast") or _has(text, "quick") or _has(text, "rapid"):
        motion = _scaled(motion, 2.0)
    found = tuple(w for w in (*PALETTES, *COLOURS, *MOTIONS) if _has(text, w))
    return Look(palette_name, palette[0], palette[1], accent, motion, caption_of(prompt), found)


def _scaled(motion: Motion, factor: float) -> Motion:
    return Motion(
        motion.name, motion.pan_x, motion.pan_y, motion.zoom, motion.orbit, motion.handheld, motion.speed * factor
    )


def caption_of(prompt: str, limit: int = 42) -> str:
    """The subject, roughly: the prompt's first clause, trimmed to fit the frame."""
    first = re.split(r"[,.;:\n]", prompt.strip(), maxsplit=1)[0].strip() or prompt.strip()
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def read_edit(prompt: str) -> EditOps:
    text = " ".join(prompt.lower().split())
    speed = 1.0
    if any(_has(text, w) for w in ("slow motion", "slow-mo", "slower", "half speed", "slow down")):
        speed = 0.5
    elif any(_has(text, w) for w in ("faster", "speed up", "double speed", "timelapse", "time-lapse", "2x")):
        speed = 2.0
    grade = None
    if any(_has(text, w) for w in ("warm", "warmer", "golden", "sepia")):
        grade = "warm"
    elif any(_has(text, w) for w in ("cool", "cooler", "cold", "blue tint", "teal")):
        grade = "cool"
    return EditOps(
        grayscale=any(
            _has(text, w)
            for w in ("black and white", "black & white", "monochrome", "grayscale", "greyscale", "b&w", "noir")
        ),
        mirror=any(_has(text, w) for w in ("mirror", "mirrored", "flip horizontally", "horizontal flip")),
        flip=any(_has(text, w) for w in ("upside down", "flip vertically", "vertical flip")),
        reverse=any(_has(text, w) for w in ("reverse", "reversed", "backwards", "rewind")),
        speed=speed,
        grade=grade,
        brightness=1.25 if _has(text, "brighter") else 0.75 if _has(text, "darker") else 1.0,
        contrast=1.3 if _has(text, "more contrast") or _has(text, "punchy") else 1.0,
    )
