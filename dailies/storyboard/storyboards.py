"""`Storyboards`, the one object the storyboard page talks to: the records, launching and assembling joined.

Each part is a collaborator with one job (`BoardBook` the records and their edits, `Launcher` what is sent
and spent, `Assembler` what is made of finished takes); this class keeps the public surface the page and
tests use and the one rule that involves all three: what a pick sets off.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dailies.errors import ValidationError
from dailies.jobs import Job
from dailies.storyboard.assembling import Assembler
from dailies.storyboard.boards import DEFAULT_TAKES, NONE, Board, Cut, Shot, ShotState, Style, prompt_of
from dailies.storyboard.editing import BoardBook
from dailies.storyboard.handoff import HandoffClip
from dailies.storyboard.launching import Launcher
from dailies.studio import Preflight, Studio


class Storyboards:
    """The team's boards, kept in the store's `boards` table. Share one per studio."""

    prompt_of = staticmethod(prompt_of)

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.store = studio.store
        self.book = BoardBook(studio)
        self.launcher = Launcher(studio, self.book)
        self.assembler = Assembler(studio, self.book)
        self.table = self.book.table
        self.folder = self.launcher.folder
        """Where the boards' own files live (each take's last frame, made once)."""

    # -- the records (BoardBook) ---------------------------------------------------------------

    def all(self) -> list[Board]:
        return self.book.all()

    def get(self, board_id: str) -> Board:
        return self.book.get(board_id)

    def save(self, board: Board) -> Board:
        return self.book.save(board)

    def create(self, title: str, style: Style | None = None, *, model: str = "", size: str = "1280x720",
               takes_per_shot: int = DEFAULT_TAKES) -> Board:
        return self.book.create(title, style, model=model, size=size, takes_per_shot=takes_per_shot)

    def update(self, board_id: str, **changes: Any) -> Board:
        return self.book.update(board_id, **changes)

    def add_shot(self, board_id: str, prompt: str = "", *, name: str = "", seconds: int = 4, camera: str = "",
                 continuity: str = NONE, reference_path: str | None = None,
                 asset: dict[str, Any] | None = None) -> Board:
        return self.book.add_shot(board_id, prompt, name=name, seconds=seconds, camera=camera,
                                  continuity=continuity, reference_path=reference_path, asset=asset)

    def update_shot(self, board_id: str, shot_id: str, **changes: Any) -> Board:
        return self.book.update_shot(board_id, shot_id, **changes)

    def move_shot(self, board_id: str, shot_id: str, by: int) -> Board:
        return self.book.move_shot(board_id, shot_id, by)

    def duplicate_shot(self, board_id: str, shot_id: str) -> Board:
        return self.book.duplicate_shot(board_id, shot_id)

    def delete_shot(self, board_id: str, shot_id: str) -> Board:
        return self.book.delete_shot(board_id, shot_id)

    def duplicate(self, board_id: str) -> Board:
        return self.book.duplicate(board_id)

    def delete(self, board_id: str) -> None:
        self.book.delete(board_id)

    # -- what is sent and spent (Launcher) -----------------------------------------------------

    def preflight(self, board: Board, shots: Iterable[Shot] | None = None, *,
                  takes: dict[str, int] | None = None) -> Preflight:
        return self.launcher.preflight(board, shots, takes=takes)

    def remaining(self, board: Board) -> list[Shot]:
        return self.launcher.remaining(board)

    def states(self, board: Board) -> list[ShotState]:
        return self.launcher.states(board)

    def launch(self, board_id: str, shot_ids: Iterable[str] | None = None, *, takes: int | None = None) -> Board:
        return self.launcher.launch(board_id, shot_ids, takes=takes)

    def retake(self, board_id: str, shot_id: str, takes: int | None = None) -> Board:
        return self.launcher.retake(board_id, shot_id, takes)

    def last_frame_image(self, board: Board, job: Job) -> Path:
        return self.launcher.last_frame_image(board, job)

    # -- what is made of finished takes (Assembler) --------------------------------------------

    def cuts(self, board: Board) -> list[Cut | None]:
        return self.assembler.cuts(board)

    def assembly_missing(self, board: Board) -> list[str]:
        return self.assembler.assembly_missing(board)

    def assemble(self, board_id: str, *, force_reencode: bool = False) -> Board:
        return self.assembler.assemble(board_id, force_reencode=force_reencode)

    def handoff(self, board: Board) -> list[HandoffClip]:
        return self.assembler.handoff(board)

    def assembly(self, board: Board) -> Job | None:
        return self.assembler.assembly(board)

    def assembly_current(self, board: Board) -> bool:
        return self.assembler.assembly_current(board)

    # -- what a pick sets off (all three) ------------------------------------------------------

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
            board = self.launcher.launch_next(board, shot_id)
        if board.assembly_id and self.assembly_missing(board) == []:
            board = self.assemble(board.id)
        return board
