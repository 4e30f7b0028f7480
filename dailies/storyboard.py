"""Storyboards: a titled scene of ordered shots, a style block every shot shares, takes picked per shot.

A board is a plain record in the store's `boards` table (the same journal as the jobs, so the same
guarantees: durable when a write returns, shared by processes, field-level writes). Its shots hold
the ids of their takes, which are ordinary jobs (tagged `board:<id>`), so History, Variants and
Compare see them like any other take.

The rules kept here, away from the page:
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

import contextlib
import dataclasses
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from dailies import assemble
from dailies.errors import APIError, RequestRefused, ValidationError
from dailies.handoff import HandoffClip
from dailies.jobs import FileRecord, Job, JobKind, JobRequest, JobStatus, new_job_id
from dailies.library import asset_from_record, with_asset
from dailies.media import make_thumbnail, probe_video, sha256_file
from dailies.review.approvals import Approvals
from dailies.review.notes import NoteBook
from dailies.studio import Preflight, Studio, new_group_id, numbered_takes

__all__ = [
    "BOARDS_TABLE",
    "CONTINUITY",
    "Board",
    "Cut",
    "Shot",
    "ShotState",
    "Storyboards",
    "Style",
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


class Storyboards:
    """The team's boards, kept in the store's `boards` table. Share one per studio."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.store = studio.store
        self.table = studio.store.table(BOARDS_TABLE)
        self.folder = studio.home / "boards"

    # -- reading -------------------------------------------------------------------------------

    def all(self) -> list[Board]:
        """Every board, newest first."""
        boards = [Board.from_dict(data) for data in self.table.all().values()]
        return sorted(boards, key=lambda b: b.created_at, reverse=True)

    def get(self, board_id: str) -> Board:
        data = self.table.get(board_id)
        if data is None:
            raise ValidationError(f"No board with id {board_id!r}.")
        return Board.from_dict(data)

    def save(self, board: Board) -> Board:
        """Write the fields of the board that changed since it was read (all of them for a new board)."""
        board.updated_at = time.time()
        record = board.to_dict()
        stored: dict[str, Any] = getattr(board, "_stored", None) or {}
        self.table.set(board.id, **{k: v for k, v in record.items() if stored.get(k) != v})
        board._stored = record
        return board

    # -- making and changing a board ----------------------------------------------------------

    def create(self, title: str, style: Style | None = None, *, model: str = "", size: str = "1280x720",
               takes_per_shot: int = DEFAULT_TAKES) -> Board:
        title = title.strip()
        if not title:
            raise ValidationError("A board needs a title.", field="title")
        _check_takes(takes_per_shot)
        model = model or self.studio.capabilities().default_model
        board = Board(new_board_id(), title, style or Style(), model=model, size=size,
                      takes_per_shot=takes_per_shot)
        return self.save(board)

    def update(self, board_id: str, **changes: Any) -> Board:
        """Change the board's title, style, takes per shot, model, size, crossfade or chained launching."""
        allowed = {"title", "style", "takes_per_shot", "model", "size", "crossfade", "chain_launch"}
        if unknown := set(changes) - allowed:
            raise ValidationError(f"A board's {', '.join(sorted(unknown))} cannot be changed this way.")
        if "takes_per_shot" in changes:
            _check_takes(int(changes["takes_per_shot"]))
        if "title" in changes and not str(changes["title"]).strip():
            raise ValidationError("A board needs a title.", field="title")
        if "crossfade" in changes and not 0 <= float(changes["crossfade"]) <= 2:
            raise ValidationError("A crossfade is 0 to 2 seconds.", field="crossfade")
        board = self.get(board_id)
        for name, value in changes.items():
            setattr(board, name, value)
        return self.save(board)

    def add_shot(self, board_id: str, prompt: str = "", *, name: str = "", seconds: int = 4, camera: str = "",
                 continuity: str = NONE, reference_path: str | None = None,
                 asset: dict[str, Any] | None = None) -> Board:
        board = self.get(board_id)
        _check_continuity(continuity)
        shot = Shot(new_shot_id(), name.strip() or f"Shot {len(board.shots) + 1}", prompt.strip(), int(seconds),
                    camera.strip(), reference_path, continuity, asset)
        board.shots.append(shot)
        return self.save(board)

    def update_shot(self, board_id: str, shot_id: str, **changes: Any) -> Board:
        """Change a shot's words (name, prompt, seconds, camera, reference, asset, continuity); its takes stay."""
        allowed = {"name", "prompt", "seconds", "camera", "reference_path", "asset", "continuity"}
        if unknown := set(changes) - allowed:
            raise ValidationError(f"A shot's {', '.join(sorted(unknown))} cannot be changed this way.")
        if "continuity" in changes:
            _check_continuity(changes["continuity"])
        board = self.get(board_id)
        index = board.index(shot_id)
        board.shots[index] = dataclasses.replace(board.shots[index], **changes)
        return self.save(board)

    def move_shot(self, board_id: str, shot_id: str, by: int) -> Board:
        """Move a shot earlier (negative) or later; it stays within the board."""
        board = self.get(board_id)
        index = board.index(shot_id)
        to = min(max(0, index + by), len(board.shots) - 1)
        board.shots.insert(to, board.shots.pop(index))
        return self.save(board)

    def duplicate_shot(self, board_id: str, shot_id: str) -> Board:
        """A copy of the shot's words right after it, with no takes of its own."""
        board = self.get(board_id)
        index = board.index(shot_id)
        source = board.shots[index]
        copy = dataclasses.replace(source, id=new_shot_id(), name=f"{source.name} (copy)", takes=[], picked=None,
                                   started_from=None)
        board.shots.insert(index + 1, copy)
        return self.save(board)

    def delete_shot(self, board_id: str, shot_id: str) -> Board:
        """Remove the shot from the board; its takes stay in History."""
        board = self.get(board_id)
        board.shots.pop(board.index(shot_id))
        return self.save(board)

    def duplicate(self, board_id: str) -> Board:
        """The board as a new version: same shots, takes and picks, so it can change without losing this one."""
        source = self.get(board_id)
        copy = Board.from_dict(json.loads(json.dumps(source.to_dict())))
        copy._stored = None  # a new record: every field is written
        copy.id, copy.version, copy.parent_id = new_board_id(), source.version + 1, source.id
        copy.assembly_id, copy.assembled_from = None, []
        copy.created_at = time.time()
        return self.save(copy)

    def delete(self, board_id: str) -> None:
        """Forget the board; its takes and assemblies stay in History."""
        self.table.delete(board_id)

    # -- prompts, requests and cost -----------------------------------------------------------

    @staticmethod
    def prompt_of(board: Board, shot: Shot) -> str:
        """What is sent for the shot: its words, its camera, then the board's style block."""
        words = ", ".join(part for part in (shot.prompt.strip(), shot.camera.strip() and
                                            f"camera: {shot.camera.strip()}") if part)
        style = board.style.text()
        return f"{words}. {style}" if style and words else words or style

    def _pricing_request(self, board: Board, shot: Shot) -> JobRequest:
        """A request that prices and checks the shot before its inputs exist (no source, no last frame yet), with
        its asset as the board's model will be sent it."""
        request = JobRequest(prompt=self.prompt_of(board, shot), model=board.model, size=board.size,
                             seconds=int(shot.seconds),
                             reference_path=shot.reference_path if shot.continuity == NONE else None)
        return self._with_asset(shot, request)

    def _with_asset(self, shot: Shot, request: JobRequest) -> JobRequest:
        """The shot's asset on one of its requests; an extension takes none (its source is the picture)."""
        if shot.continuity == EXTEND or not shot.asset:
            return request
        return with_asset(request, asset_from_record(shot.asset), self.studio.capabilities(),
                          frame_taken=shot.continuity != NONE)

    def preflight(self, board: Board, shots: Iterable[Shot] | None = None, *,
                  takes: dict[str, int] | None = None) -> Preflight:
        """The cost and problems of `shots` (every shot by default), each × its takes (`takes` by shot id,
        else the board's takes per shot), before anything is sent."""
        chosen = list(board.shots if shots is None else shots)
        counts = takes or {}
        requests = [self._pricing_request(board, shot) for shot in chosen
                    for _ in range(counts.get(shot.id, board.takes_per_shot))]
        problems: list[str] = []
        caps = self.studio.capabilities()
        for shot in chosen:
            if shot.continuity == EXTEND and not caps.extend:
                problems.append(f"{shot.name}: this provider cannot extend; start it from the last frame instead.")
            if shot.continuity != NONE and board.shots and board.shots[0].id == shot.id:
                problems.append(f"{shot.name}: the first shot has no shot before it to continue from.")
            if not shot.prompt.strip():
                problems.append(f"{shot.name}: write what happens in the shot.")
        check = self.studio.preflight(requests)
        if problems:
            check = dataclasses.replace(check, problems=(*problems, *check.problems))
        return check

    def remaining(self, board: Board) -> list[Shot]:
        """Shots that have no takes yet: what the board still has to make."""
        return [shot for shot in board.shots if not shot.takes]

    def states(self, board: Board) -> list[ShotState]:
        states: list[ShotState] = []
        for index, shot in enumerate(board.shots):
            takes = [job for job_id in shot.takes if (job := self.store.get(job_id)) is not None]
            waiting = self._waiting_for(board, index)
            previous = board.shots[index - 1] if index else None
            stale = bool(shot.continuity != NONE and shot.started_from and previous is not None
                         and previous.picked and previous.picked != shot.started_from)
            states.append(ShotState(shot, takes, waiting is None, waiting, stale))
        return states

    def _waiting_for(self, board: Board, index: int) -> str | None:
        """What a shot waits for before it can be launched, or None."""
        shot = board.shots[index]
        if shot.continuity == NONE:
            return None
        if index == 0:
            return "the first shot has no shot before it to continue from"
        previous = board.shots[index - 1]
        source = self.store.get(previous.picked) if previous.picked else None
        if source is None or source.status is not JobStatus.COMPLETED or not source.has_video:
            return f"a picked, finished take of {previous.name}"
        return None

    # -- launching ---------------------------------------------------------------------------

    def launch(self, board_id: str, shot_ids: Iterable[str] | None = None, *, takes: int | None = None) -> Board:
        """Send takes of the given shots (by default every shot without takes that is ready).

        Refused as a whole, with nothing sent, when any chosen shot is not ready or when what the board
        still has to make does not fit today's budget.
        """
        board = self.get(board_id)
        states = {state.shot.id: state for state in self.states(board)}
        chosen = [board.shot(s) for s in shot_ids] if shot_ids is not None else [
            shot for shot in self.remaining(board) if states[shot.id].ready]
        if not chosen:
            raise ValidationError("No shot is ready to launch: " + "; ".join(
                f"{s.shot.name} waits for {s.waiting_for}" for s in states.values() if s.waiting_for
            ) if any(s.waiting_for for s in states.values()) else "No shot is ready to launch.")
        for shot in chosen:
            if waiting := states[shot.id].waiting_for:
                raise ValidationError(f"{shot.name} waits for {waiting}.")
        count = takes or board.takes_per_shot
        _check_takes(count)
        still = {s.id for s in self.remaining(board)} | {s.id for s in chosen}
        check = self.preflight(board, [s for s in board.shots if s.id in still],
                               takes={shot.id: count for shot in chosen})
        if not check.ok:
            raise ValidationError(" ".join(check.problems))
        requests: list[tuple[Shot, list[JobRequest]]] = [(shot, self._requests(board, shot, count))
                                                          for shot in chosen]
        launched_from: dict[str, str | None] = {}
        made: dict[str, list[str]] = {}
        errors: list[str] = []
        for shot, batch in requests:
            result = self.studio.launch(batch)
            made[shot.id] = [job.id for job in result.jobs]
            errors.extend(f"{shot.name}: {error}" for _, error in result.errors)
            index = board.index(shot.id)
            launched_from[shot.id] = board.shots[index - 1].picked if shot.continuity != NONE and index else None
        board = self.get(board_id)  # as it is now: another session may have changed it meanwhile
        for shot_id, ids in made.items():
            with contextlib.suppress(ValidationError):  # a shot deleted meanwhile: its takes stay in History
                shot = board.shot(shot_id)
                shot.takes.extend(ids)
                shot.started_from = launched_from[shot_id]
        self.save(board)
        if errors and not any(made.values()):
            raise ValidationError(" ".join(errors))
        return board

    def retake(self, board_id: str, shot_id: str, takes: int | None = None) -> Board:
        """New takes of one shot, nothing else touched; the current pick stays until another is picked."""
        return self.launch(board_id, [shot_id], takes=takes or 1)

    def _requests(self, board: Board, shot: Shot, count: int) -> list[JobRequest]:
        index = board.index(shot.id)
        prompt = self.prompt_of(board, shot)
        group = new_group_id()
        common: dict[str, Any] = {"group_id": group, "tags": [f"board:{board.id}"]}
        axes = {"board": board.title, "shot": shot.name}
        if shot.continuity == NONE:
            return numbered_takes(self._with_asset(shot, JobRequest(
                prompt=prompt, model=board.model, size=board.size, seconds=int(shot.seconds),
                reference_path=shot.reference_path, axes=axes, **common)), count, group)
        source = self.store.require(board.shots[index - 1].picked or "")
        if shot.continuity == EXTEND:
            return numbered_takes(JobRequest(prompt=prompt, model=source.model, size=source.size,
                                             seconds=int(shot.seconds), kind=JobKind.EXTEND, source_job_id=source.id,
                                             axes=axes, **common), count, group)
        reference = self.last_frame_image(board, source)
        return numbered_takes(self._with_asset(shot, JobRequest(
            prompt=prompt, model=board.model, size=board.size, seconds=int(shot.seconds),
            reference_path=str(reference), axes=axes, **common)), count, group)

    def last_frame_image(self, board: Board, job: Job) -> Path:
        """The take's last frame as a PNG (made once per take), the next shot's reference image."""
        path = self.folder / board.id / f"{job.id}-last.png"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            rgb = assemble.last_frame(self._video(job))
            tmp = path.with_name(f".{path.name}.part")
            Image.fromarray(rgb).save(tmp, format="PNG")
            tmp.replace(path)
        return path

    # -- picking, continuity, assembling -----------------------------------------------------

    def pick(self, board_id: str, shot_id: str, job_id: str | None) -> Board:
        """Pick a take for the shot (None: no pick). The board's assembly, when it has one, is made again."""
        board = self.get(board_id)
        shot = board.shot(shot_id)
        if job_id is not None and job_id not in shot.takes:
            raise ValidationError(f"{job_id} is not a take of {shot.name}.")
        with self.store.batch():
            for take in shot.takes:
                if (job := self.store.get(take)) is not None and job.picked != (take == job_id):
                    self.studio.review(take, picked=take == job_id)
        shot.picked = job_id
        board = self.save(board)
        if job_id is not None:
            board = self._launch_chained(board, shot_id)
        if board.assembly_id and self.assembly_missing(board) == []:
            board = self.assemble(board.id)
        return board

    def _launch_chained(self, board: Board, shot_id: str) -> Board:
        """Launch the shot after `shot_id` when it is chained to it, has no takes yet and can start now
        (the board's `chain_launch` on): once, whichever process made the pick and however many made it at
        once (a claim per shot and source take decides). Refused (budget, preflight), nothing is sent and
        the shot keeps the reason to show."""
        index = board.index(shot_id)
        if not board.chain_launch or index + 1 >= len(board.shots):
            return board
        after = board.shots[index + 1]
        if after.continuity == NONE or after.takes or self._waiting_for(board, index + 1) is not None:
            return board
        key = f"{board.id}:{after.id}:{board.shots[index].picked}"
        if not self.store.claims(CHAIN_CLAIMS).claim(key, {"board": board.id}, CHAIN_CLAIM_S).claimed:
            return board
        try:
            board = self.launch(board.id, [after.id])
        except (ValidationError, RequestRefused, APIError) as exc:
            self.store.claims(CHAIN_CLAIMS).release(key)  # a later pick may try again
            board = self.get(board.id)
            with contextlib.suppress(ValidationError):
                board.shot(after.id).chain_refused = f"Not launched when {board.shots[index].name} was picked: {exc}"
                board = self.save(board)
            return board
        with contextlib.suppress(ValidationError):
            if board.shot(after.id).chain_refused:
                board.shot(after.id).chain_refused = ""
                board = self.save(board)
        return board

    def _video(self, job: Job) -> Path:
        record = job.files.get("video")
        if record is None:
            raise ValidationError(f"{job.id} has no video yet.")
        return self.studio.media.resolve(record.path)

    def _clip(self, board: Board, shot: Shot) -> assemble.Clip:
        """The picked take as a clip; an extension starts where its source ended (the source is its own shot)."""
        job = self.store.require(shot.picked or "")
        start = 0.0
        if job.kind is JobKind.EXTEND and job.source_job_id and (source := self.store.get(job.source_job_id)):
            start = source.duration
        return assemble.Clip(self._video(job), start)

    def cuts(self, board: Board) -> list[Cut | None]:
        """For each cut between neighbouring shots: ΔE across it, or None until both have a finished pick."""
        found: list[Cut | None] = []
        for before, after in zip(board.shots, board.shots[1:], strict=False):
            jobs = [self.store.get(s.picked) if s.picked else None for s in (before, after)]
            if not all(j is not None and j.status is JobStatus.COMPLETED and j.has_video for j in jobs):
                found.append(None)
                continue
            a, b = self._clip(board, before), self._clip(board, after)
            chained = after.continuity != NONE and after.started_from == before.picked
            found.append(Cut(before.id, after.id, _delta_e_cached(a, b, _digest(jobs[0]), _digest(jobs[1])), chained))
        return found

    def assembly_missing(self, board: Board) -> list[str]:
        """Shots that have no finished pick yet (so the board cannot be assembled), by name."""
        missing = []
        for shot in board.shots:
            job = self.store.get(shot.picked) if shot.picked else None
            if job is None or job.status is not JobStatus.COMPLETED or not job.has_video:
                missing.append(shot.name)
        return missing

    def assemble(self, board_id: str, *, force_reencode: bool = False) -> Board:
        """Join the picked takes into one MP4, kept as a job of its own whose lineage is the board."""
        board = self.get(board_id)
        if not board.shots:
            raise ValidationError("The board has no shots to assemble.")
        if missing := self.assembly_missing(board):
            raise ValidationError(f"Pick a finished take of {', '.join(missing)} first.")
        clips = [self._clip(board, shot) for shot in board.shots]
        job_id = new_job_id()
        folder = self.studio.media.job_dir(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            result = assemble.join(clips, folder / "video.mp4", crossfade=board.crossfade,
                                   force_reencode=force_reencode)
            info = probe_video(result.path)
            video = FileRecord(self.studio.media.relative(result.path), result.path.stat().st_size,
                               sha256_file(result.path), "video/mp4", duration=info.duration)
            thumb = make_thumbnail(result.path, folder / "thumbnail.webp")
            thumb = dataclasses.replace(thumb, path=self.studio.media.relative(thumb.path))
        except BaseException:
            self.studio.media.remove_job(job_id)
            raise
        now = time.time()
        picks = [shot.picked or "" for shot in board.shots]
        job = Job(
            id=job_id, provider=ASSEMBLY_PROVIDER, model="pyav", kind=JobKind.ASSEMBLE,
            prompt=f"{board.title} (v{board.version}): " + " | ".join(shot.name for shot in board.shots),
            size=f"{info.width}x{info.height}", seconds=round(info.duration), status=JobStatus.COMPLETED,
            progress=100, created_at=now, updated_at=now, completed_at=now,
            params={"board_id": board.id, "board_version": board.version, "picks": picks, "method": result.method,
                    "method_reason": result.reason, "crossfade": board.crossfade},
            files={"video": video, "thumbnail": thumb}, tags=[f"board:{board.id}"],
        )
        self.store.insert(job)
        self.studio.tracker.upload_soon(job_id)  # the team's bucket keeps the sequence as it keeps takes
        board = self.get(board_id)
        board.assembly_id, board.assembled_from = job_id, picks
        return self.save(board)

    def handoff(self, board: Board) -> list[HandoffClip]:
        """The picked takes as an editor receives them (timeline, zip, contact sheet), in shot order."""
        if missing := self.assembly_missing(board):
            raise ValidationError(f"Pick a finished take of {', '.join(missing)} first.")
        notes, approvals = NoteBook(self.store), Approvals(self.store)
        clips = []
        for shot in board.shots:
            clip = self._clip(board, shot)
            take = shot.picked or ""
            clips.append(HandoffClip(shot.name, self.prompt_of(board, shot), take, clip.path, clip.start,
                                     notes=tuple(notes.of_take(take)), status=str(approvals.status(take))))
        return clips

    def assembly(self, board: Board) -> Job | None:
        return self.store.get(board.assembly_id) if board.assembly_id else None

    def assembly_current(self, board: Board) -> bool:
        """The assembly joins exactly the picks the board has now."""
        return bool(board.assembly_id) and board.assembled_from == [s.picked or "" for s in board.shots]


def _check_takes(count: int) -> None:
    if not 1 <= int(count) <= MAX_TAKES:
        raise ValidationError(f"A shot gets 1 to {MAX_TAKES} takes, not {count}.", field="takes")


def _check_continuity(value: str) -> None:
    if value not in CONTINUITY:
        raise ValidationError(f"Continuity is one of {', '.join(CONTINUITY)}, not {value!r}.", field="continuity")


def _digest(job: Job | None) -> str:
    return job.files["video"].sha256 if job is not None else ""


_DELTA_CACHE: dict[tuple[str, str, float], float] = {}


def _delta_e_cached(a: assemble.Clip, b: assemble.Clip, digest_a: str, digest_b: str) -> float:
    """ΔE across a cut, worked out once per pair of files (a board is redrawn often, files rarely change)."""
    key = (digest_a, digest_b, b.start)
    if key not in _DELTA_CACHE:
        if len(_DELTA_CACHE) > 512:
            _DELTA_CACHE.clear()
        _DELTA_CACHE[key] = assemble.cut_delta_e(a, b)
    return _DELTA_CACHE[key]
