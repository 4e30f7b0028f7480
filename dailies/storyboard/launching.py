"""Launching a board's shots: each shot's prompt and requests, the budget for what the board still has to make,
continuity from the previous shot's pick, and the chained launch a pick sets off.

Kept apart from the records because this is the part that sends and spends: every take goes through the
studio's launch, after a preflight of the whole board, so a team never starts a board it cannot finish.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image

from dailies.errors import APIError, RequestRefused, ValidationError
from dailies.files import replaced_path
from dailies.jobs import Job, JobKind, JobRequest, JobStatus
from dailies.library import asset_from_record, with_asset
from dailies.media import last_frame
from dailies.storyboard.boards import (
    CHAIN_CLAIM_S,
    CHAIN_CLAIMS,
    EXTEND,
    NONE,
    Board,
    Shot,
    ShotState,
    check_takes,
    prompt_of,
    video_path,
)
from dailies.storyboard.editing import BoardBook
from dailies.studio import Preflight, Studio, new_group_id


class Launcher:
    """Sends a board's takes through the studio, shot by shot, within the budget and the continuity rules."""

    def __init__(self, studio: Studio, book: BoardBook) -> None:
        self.studio = studio
        self.store = studio.store
        self.book = book
        self.folder = studio.home / "boards"

    def _pricing_request(self, board: Board, shot: Shot) -> JobRequest:
        """A request that prices and checks the shot before its inputs exist (no source, no last frame yet), with
        its asset as the board's model will be sent it."""
        request = JobRequest(prompt=prompt_of(board, shot), model=board.model, size=board.size,
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

    def launch(self, board_id: str, shot_ids: Iterable[str] | None = None, *, takes: int | None = None,
               made_by: str | None = None) -> Board:
        """Send takes of the given shots (by default every shot without takes that is ready).

        Refused as a whole, with nothing sent, when any chosen shot is not ready or when what the board
        still has to make does not fit today's budget. `made_by` as for `Studio.launch`.
        """
        board = self.book.get(board_id)
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
        check_takes(count)
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
            result = self.studio.launch(batch, made_by=made_by)
            made[shot.id] = [job.id for job in result.jobs]
            errors.extend(f"{shot.name}: {error}" for _, error in result.errors)
            index = board.index(shot.id)
            launched_from[shot.id] = board.shots[index - 1].picked if shot.continuity != NONE and index else None
        board = self.book.get(board_id)  # as it is now: another session may have changed it meanwhile
        for shot_id, ids in made.items():
            with contextlib.suppress(ValidationError):  # a shot deleted meanwhile: its takes stay in History
                shot = board.shot(shot_id)
                shot.takes.extend(ids)
                shot.started_from = launched_from[shot_id]
        self.book.save(board)
        if errors and not any(made.values()):
            raise ValidationError(" ".join(errors))
        return board

    def retake(self, board_id: str, shot_id: str, takes: int | None = None) -> Board:
        """New takes of one shot, nothing else touched; the current pick stays until another is picked."""
        return self.launch(board_id, [shot_id], takes=takes or 1)

    def _requests(self, board: Board, shot: Shot, count: int) -> list[JobRequest]:
        index = board.index(shot.id)
        prompt = prompt_of(board, shot)
        group = new_group_id()
        common: dict[str, Any] = {"group_id": group, "tags": [f"board:{board.id}"]}
        axes = {"board": board.title, "shot": shot.name}
        if shot.continuity == NONE:
            return [self._with_asset(shot, JobRequest(
                prompt=prompt, model=board.model, size=board.size, seconds=int(shot.seconds),
                reference_path=shot.reference_path, axes={**axes, "take": str(n + 1)}, **common))
                    for n in range(count)]
        source = self.store.require(board.shots[index - 1].picked or "")
        if shot.continuity == EXTEND:
            return [JobRequest(prompt=prompt, model=source.model, size=source.size, seconds=int(shot.seconds),
                               kind=JobKind.EXTEND, source_job_id=source.id, axes={**axes, "take": str(n + 1)},
                               **common) for n in range(count)]
        reference = self.last_frame_image(board, source)
        return [self._with_asset(shot, JobRequest(
            prompt=prompt, model=board.model, size=board.size, seconds=int(shot.seconds),
            reference_path=str(reference), axes={**axes, "take": str(n + 1)}, **common)) for n in range(count)]

    def last_frame_image(self, board: Board, job: Job) -> Path:
        """The take's last frame as a PNG (made once per take), the next shot's reference image."""
        path = self.folder / board.id / f"{job.id}-last.png"
        if not path.exists():
            rgb = last_frame(video_path(self.studio.media, job))
            with replaced_path(path) as tmp:
                Image.fromarray(rgb).save(tmp, format="PNG")
        return path

    def launch_next(self, board: Board, shot_id: str) -> Board:
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
        # Who picked is asked before the claim, and only then: in a page's callback, reading the session is where
        # Streamlit stops a run when another run was asked for meanwhile; a run stopped there after the claim
        # launched nothing and kept the shot from ever launching (seen under load: the pick landed, the chained shot
        # never came). Once claimed, nothing here reads the session.
        who = self.studio.person() or ""
        key = f"{board.id}:{after.id}:{board.shots[index].picked}"
        if not self.store.claims(CHAIN_CLAIMS).claim(key, {"board": board.id}, CHAIN_CLAIM_S).claimed:
            return board
        try:
            board = self.launch(board.id, [after.id], made_by=who)
        except (ValidationError, RequestRefused, APIError) as exc:
            self.store.claims(CHAIN_CLAIMS).release(key)  # a later pick may try again
            board = self.book.get(board.id)
            with contextlib.suppress(ValidationError):
                board.shot(after.id).chain_refused = f"Not launched when {board.shots[index].name} was picked: {exc}"
                board = self.book.save(board)
            return board
        with contextlib.suppress(ValidationError):
            if board.shot(after.id).chain_refused:
                board.shot(after.id).chain_refused = ""
                board = self.book.save(board)
        return board
