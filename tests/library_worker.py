"""A process that adds library items, for the two-process test.

`python tests/library_worker.py HOME NAME COUNT SHARED_ID`.

It waits for the go signal, then adds COUNT prompts and COUNT styles and retags one item every worker shares,
printing `ack <item id>` once each write has returned (and so is durable).
"""

from __future__ import annotations

import sys
from pathlib import Path

from until import wait_until

from dailies.library import Library
from dailies.store import JobStore


def main(home: Path, name: str, count: int, shared_id: str) -> None:
    library = Library(JobStore(home / "jobs.json"), home)
    wait_until(lambda: (home / "go").exists(), 60, "the go signal", interval=0.01)
    for i in range(count):
        print(f"ack {library.add_prompt(f'{name} prompt {i}', f'{name} words {i}', [name]).id}", flush=True)
        print(f"ack {library.add_style(f'{name} style {i}', f'{name} look {i}').id}", flush=True)
    if name == "ana":
        library.rename("style", shared_id, f"shared look, renamed by {name}")
    else:
        library.retag("style", shared_id, [name])
    print("done", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4])
