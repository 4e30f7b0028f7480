"""Storyboards: a titled scene of ordered shots, a style block every shot shares, takes picked per shot.

This module holds the records (`Board`, `Shot`, `Style`) and the pure rules on them (a shot's prompt, the
limits); `Storyboards` (storyboards.py) keeps the rules below with its collaborators: `BoardBook` (editing.py),
`Launcher` (launching.py) and `Assembler` (assembling.py).

A board is a plain record in the store's `boards` table (the same journal as the jobs, so the same
guarantees: durable when a write returns, shared by processes, field-level writes). Its shots hold
the ids of their takes, which are ordinary jobs (tagged `board:<id>`), so History, Variants and
Compare see them like any other take.

The rules this package keeps, away from the page:
- every shot's prompt is the shot's words, its camera, then the board's style block (subject, light,
  colour grade, lens, mood), so the grade is said the same way to every shot;
- a board launches only when the cost of everything it still has to make fits today's budget, so a
  team never starts a board it cannot finish;
- continuity: a shot may start from the previous shot's picked take, either from its last frame sent
  as the reference image (any provider that takes an image) or as an extension of it (where the
  provider extends). Such a shot waits until the previous shot has a picked, finished take;
- a retake adds takes to one shot and touches no other; picking one of them re-assembles the board
  when it had been assembled.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dailies.errors import ValidationError
from dailies.jobs import Job

if TYPE_CHECKING:
    from dailies.media import MediaLibrary

__all__ = [
    "BOARDS_TABLE",
    "CONTINUITY",
    "Board",
    "Cut",
    "Shot",
    "ShotState",
    "Style",
    "prompt_of",
]

BOARDS_TABLE = "boards"
CHAIN_CLAIMS = "board_chain_launches"
"""Claims on "board:shot:source take": a chained shot launched on a pick is launched once, by one process."""
CHAIN_CLAIM_S = 30 * 24 * 3600.0
NONE, LAST_FRAME, EXTEND = "none", "last_frame", "extend"
CONTINUITY: dict[str, str] = {
    NONE: "Stands alone",
    LAST_FRAME: "Starts from the previous shot's last frame",
    EXTEND: "Extends the previous shot",
}
ASSEMBLY_PROVIDER = "storyboard"
DEFAULT_TAKES = 2
MAX_TAKES = 4
STYLE_LABELS = {"subject": "subject", "light": "light", "grade": "colour grade", "lens": "lens", "mood": "mood"}
"""The style block's parts, as each is named in a prompt."""


@dataclass
class Style:
    """What every shot of a board shares, written into each shot's prompt."""

    subject: str = ""
    light: str = ""
    grade: str = ""
    lens: str = ""
    mood: str = ""

    def text(self) -> str:
        """The style block as it is added to a prompt (empty parts left out)."""
        parts = [f"{label}: {value.strip()}" for name, label in STYLE_LABELS.items()
                 if (value := getattr(self, name)).strip()]
        return "; ".join(parts)

    def to_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in STYLE_LABELS}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Style:
        data = data or {}
        return cls(**{name: str(data.get(name) or "") for name in STYLE_LABELS})


@dataclass
class Shot:
    id: str
    name: str
    prompt: str = ""
    seconds: int = 4
    camera: str = ""
    reference_path: str | None = None
    """A reference image of the team's own (used when the shot stands alone)."""
    continuity: str = NONE
    asset: dict[str, Any] | None = None
    """A library asset (`library.asset_record`: id, name, image paths), sent at launch the way the board's model
    takes it (`library.with_asset`): the opening frame of a shot that stands alone, or subject references."""
    takes: list[str] = field(default_factory=list)
    """Job ids of its takes, oldest first (a retake adds to them)."""
    picked: str | None = None
    started_from: str | None = None
    """The previous shot's take this shot's latest takes continued from."""
    chain_refused: str = ""
    """Why this chained shot was not launched when the shot before it was picked (the budget, a problem);
    empty once it launches."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shot:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["takes"] = list(values.get("takes") or [])
        return cls(**values)


@dataclass
class Board:
    id: str
    title: str
    style: Style = field(default_factory=Style)
    shots: list[Shot] = field(default_factory=list)
    takes_per_shot: int = DEFAULT_TAKES
    model: str = ""
    size: str = "1280x720"
    version: int = 1
    parent_id: str | None = None
    """The board this one was duplicated from (its previous version)."""
    crossfade: float = 0.0
    chain_launch: bool = True
    """Launch a chained shot as soon as the shot before it is picked (within the budget and checks)."""
    assembly_id: str | None = None
    """The job holding the board's latest assembly."""
    assembled_from: list[str] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def shot(self, shot_id: str) -> Shot:
        for shot in self.shots:
            if shot.id == shot_id:
                return shot
        raise ValidationError(f"This board has no shot {shot_id!r}.")

    def index(self, shot_id: str) -> int:
        return self.shots.index(self.shot(shot_id))

    @property
    def picks(self) -> list[str | None]:
        return [shot.picked for shot in self.shots]

    def to_dict(self) -> dict[str, Any]:
        """The stored record: each shot a field of its own (`shot:<id>`) and `order` listing them, so that
        two people (or processes) editing different shots of one board both keep their change."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "shots"}
        data["style"] = self.style.to_dict()
        data["assembled_from"] = list(self.assembled_from)
        data["order"] = [shot.id for shot in self.shots]
        data.update({f"shot:{shot.id}": dataclasses.asdict(shot) for shot in self.shots})
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Board:
        known = {f.name for f in dataclasses.fields(cls)} - {"shots"}
        values = {k: v for k, v in data.items() if k in known}
        values["style"] = Style.from_dict(values.get("style"))
        values["assembled_from"] = list(values.get("assembled_from") or [])
        shots = [Shot.from_dict(data[f"shot:{sid}"]) for sid in data.get("order") or [] if f"shot:{sid}" in data]
        board = cls(**values, shots=shots)
        board._stored = data  # what was read, so that a save writes only the fields that changed
        return board


@dataclass(frozen=True)
class ShotState:
    """Where a shot stands, for the page: its takes, whether it can be launched and why not."""

    shot: Shot
    takes: list[Job]
    ready: bool
    waiting_for: str | None
    stale: bool
    """It continued from a take of the previous shot that is no longer the picked one."""

    @property
    def running(self) -> bool:
        return any(job.is_active for job in self.takes)

    @property
    def picked(self) -> Job | None:
        return next((job for job in self.takes if job.id == self.shot.picked), None)


@dataclass(frozen=True)
class Cut:
    """The cut from one shot into the next, and how far apart in colour its two frames are."""

    before: str
    after: str
    delta_e: float
    chained: bool


def new_board_id() -> str:
    return f"brd_{uuid.uuid4().hex[:12]}"


def new_shot_id() -> str:
    return f"sh_{uuid.uuid4().hex[:8]}"


def check_takes(count: int) -> None:
    if not 1 <= int(count) <= MAX_TAKES:
        raise ValidationError(f"A shot gets 1 to {MAX_TAKES} takes, not {count}.", field="takes")


def check_continuity(value: str) -> None:
    if value not in CONTINUITY:
        raise ValidationError(f"Continuity is one of {', '.join(CONTINUITY)}, not {value!r}.", field="continuity")


def prompt_of(board: Board, shot: Shot) -> str:
    """What is sent for the shot: its words, its camera, then the board's style block."""
    words = ", ".join(part for part in (shot.prompt.strip(), shot.camera.strip() and
                                        f"camera: {shot.camera.strip()}") if part)
    style = board.style.text()
    return f"{words}. {style}" if style and words else words or style


def video_path(media: MediaLibrary, job: Job) -> Path:
    """The take's video in the media folder: what a next shot continues from and what an assembly joins."""
    record = job.files.get("video")
    if record is None:
        raise ValidationError(f"{job.id} has no video yet.")
    return media.resolve(record.path)
