"""Where one test's store lives (the data folder's journal, or a PostgreSQL database), for the conformance suite;
and the store's writers in processes of their own (tests/store_worker.py), for it and the journal's own tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shell_free import shell_free

from dailies.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


@dataclass
class Backend:
    """Where one test's store lives, and how to open it (again) there."""

    name: str
    home: Path
    url: str | None = None
    opened: list[Any] = field(default_factory=list)

    def open(self, **options: Any) -> Store:
        store = open_store(self.home, self.url, **options)
        self.opened.append(store)
        return store

    def env(self) -> dict[str, str]:
        """A subprocess's environment: this worktree's code, this data folder and database, no shell's server."""
        env = shell_free()
        env.update({"DAILIES_HOME": str(self.home),
                    "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS), env.get("PYTHONPATH", "")])})
        if self.url:
            env["DAILIES_DATABASE_URL"] = self.url
        return env

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


WRITERS = (("ana", "rating"), ("ben", "notes"), ("cy", "tags"))
"""Three writer processes: each adds takes of its own and sets its own field of one job they share."""


def three_writers(home: Path, env: dict[str, str], shared_id: str, writes: int) -> list[list[str]]:
    """Run the three WRITERS at once (each waits for `home/go`), `writes` takes each; every one exits cleanly and
    acknowledges them all. What each acknowledged, in order."""
    writers = [
        subprocess.Popen([sys.executable, str(TESTS / "store_worker.py"), "writer", str(home), name, str(writes),
                          shared_id, field], cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
        for name, field in WRITERS
    ]
    (home / "go").touch()
    outputs = [w.communicate(timeout=120) for w in writers]
    for writer, (_out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
    acked = [[line.split()[1] for line in out.splitlines() if line.startswith("ack ")] for out, _ in outputs]
    assert [len(a) for a in acked] == [writes] * len(WRITERS)
    return acked


def nothing_lost(store: Store, acked: list[list[str]], shared_id: str) -> None:
    """Every acknowledged take is in the store as its writer wrote it, and each writer's field of the shared job
    survives the others'."""
    for (name, _field), ids in zip(WRITERS, acked, strict=True):
        for i, job_id in enumerate(ids):
            job = store.require(job_id)
            assert (job.prompt, job.rating, job.notes) == (f"{name} take {i}", 1 + i % 5, f"{name} note {i}")
    both = store.require(shared_id)
    assert (both.rating, both.notes, both.tags) == (5, "ben was here", ["cy"]), "each process's field survives"
