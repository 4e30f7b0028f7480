"""A reviewer in a process of its own, for the multi-process review tests.

`python tests/review_worker.py notes HOME TAKE NAME COUNT`: pins COUNT notes to the take (frame i), printing
`ack <note id>` after each (durable once printed). `... decide HOME TAKE NAME COUNT`: makes COUNT decisions,
alternating changes requested / approved, printing `ack <decision id>`. Both wait for HOME/go first.
"""

from __future__ import annotations

import sys
from pathlib import Path

from until import wait_until

from dailies.media import MediaLibrary
from dailies.review import Author, ReviewDesk
from dailies.store import JobStore


def main(mode: str, home: Path, take: str, name: str, count: int) -> None:
    store = JobStore(home / "jobs.json")
    desk = ReviewDesk(store, MediaLibrary(home / "media"))
    wait_until(lambda: (home / "go").exists(), 60, "the go signal", interval=0.01)
    for i in range(count):
        if mode == "notes":
            made = desk.add_note(take, i, f"{name} note {i}", Author(name))
        else:
            made = desk.decide(take, ("changes_requested", "approved")[i % 2], Author(name), f"{name} {i}")
        print(f"ack {made.id}", flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
