"""Where one test's store lives (the data folder's journal, or a PostgreSQL database), for the conformance suite."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DAILIES_"))}
        env.update({"DAILIES_HOME": str(self.home),
                    "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS), env.get("PYTHONPATH", "")])})
        if self.url:
            env["DAILIES_DATABASE_URL"] = self.url
        return env

    def close_all(self) -> None:
        for store in self.opened:
            store.close()
