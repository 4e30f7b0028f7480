"""Storyboards: boards of ordered shots, their takes and picks, the assembled cut, and the hand-off to an editor.

What lives here:
- `boards`: the records (`Board`, `Shot`, `Style`, in the store's `boards` table) and a shot's prompt.
- `storyboards`: `Storyboards`, the rules of a board the page talks to, joining three collaborators:
  `editing` (`BoardBook`: the records and their edits), `launching` (`Launcher`: prompts with the style block,
  budget-checked launches, continuity, chained launches) and `assembling` (`Assembler`: ΔE across cuts, the
  assembled sequence as a job, the hand-off clips).
- `assemble`: joining clips (stream copy or re-encode, crossfade) and the colour difference (ΔE) across a cut.
- `handoff`: a board for an editor: an OpenTimelineIO timeline, a zip with the media, a contact sheet.
May import: the studio and what it speaks (jobs, errors, media, library, review's notes and approvals);
never Streamlit or a page. `assemble` and `handoff` import no store and no studio: they work on files.
"""

from dailies.storyboard.boards import (
    BOARDS_TABLE,
    CONTINUITY,
    DEFAULT_TAKES,
    EXTEND,
    LAST_FRAME,
    MAX_TAKES,
    NONE,
    STYLE_LABELS,
    Board,
    Cut,
    Shot,
    ShotState,
    Style,
)
from dailies.storyboard.storyboards import Storyboards

__all__ = [
    "BOARDS_TABLE",
    "CONTINUITY",
    "DEFAULT_TAKES",
    "EXTEND",
    "LAST_FRAME",
    "MAX_TAKES",
    "NONE",
    "STYLE_LABELS",
    "Board",
    "Cut",
    "Shot",
    "ShotState",
    "Storyboards",
    "Style",
]
