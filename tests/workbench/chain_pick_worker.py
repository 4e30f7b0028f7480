"""A process that picks a take on a board (`python chain_pick_worker.py HOME ENGINE_URL BOARD SHOT TAKE`).

It waits for the `go` file so that several such processes pick at the same moment, then prints what its
pick left: the chained shot's takes as this process saw them."""

from __future__ import annotations

import sys
from pathlib import Path

from until import wait_until

from dailies.config import Environment
from dailies.storyboard import Storyboards
from dailies.studio import Studio

if __name__ == "__main__":
    home, url, board_id, shot_id, take = sys.argv[1:6]
    studio = Studio(Environment(home=Path(home)), engine_base_url=url)
    try:
        boards = Storyboards(studio)
        print("ready", flush=True)
        wait_until(lambda: (Path(home) / "go").exists(), 60, "the go signal", interval=0.005)
        board = boards.pick(board_id, shot_id, take)
        print("done", len(board.shots[1].takes), flush=True)
    finally:
        studio.close()
