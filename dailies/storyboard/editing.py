"""The board records and their edits: the store's `boards` table, written field by field.

Kept apart from launching and assembling because an edit only changes words and order: it sends nothing
and costs nothing, so it needs no budget, provider or media folder.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from dailies.errors import ValidationError
from dailies.storyboard.boards import (
    BOARDS_TABLE,
    DEFAULT_TAKES,
    NONE,
    Board,
    Shot,
    Style,
    check_continuity,
    check_takes,
    new_board_id,
    new_shot_id,
)
from dailies.studio import Studio


class BoardBook:
    """The team's boards as records: read, written (only the fields that changed) and edited."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.table = studio.store.table(BOARDS_TABLE)

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
        check_takes(takes_per_shot)
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
            check_takes(int(changes["takes_per_shot"]))
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
        check_continuity(continuity)
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
            check_continuity(changes["continuity"])
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
