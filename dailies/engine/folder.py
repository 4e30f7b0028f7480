"""One engine per engine folder, and where it answers.

Two engines on one folder would each rewrite `index.json` with their own jobs and render the same
queue twice. So a started engine holds an exclusive lock on `engine.lock` in its folder (the kernel
drops it when the process dies) and records the URL it answers at in `engine.url`, so that a CLI
started next to a running app uses the app's engine instead of starting a second one.

The app's mounted engine answers only requests carrying the token made at its start (so that a web
page cannot drive it). The record holds that token too, in a file only this user can read: a process
that can read the data folder can read every prompt and video anyway, and this lets the CLI and a
second app on the same folder use the running engine rather than fail.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

from dailies.errors import DailiesError
from dailies.files import write_text
from dailies.store.filelock import FileLock, held_exclusively

__all__ = ["EngineFolder", "EngineFolderBusy", "EngineRecord", "running_engine"]

LOCK_NAME = "engine.lock"
URL_NAME = "engine.url"


class EngineFolderBusy(DailiesError):
    """Another process's engine works on this folder."""

    def __init__(self, folder: Path, url: str | None, pid: int | None, key: str | None = None) -> None:
        where = f" and answers at {url}" if url else " and has not said where it answers"
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"The engine folder {folder} is in use: {who} runs an engine on it{where}. "
            "Use that engine (the CLI does so by itself; or pass --engine-url), or stop it first."
        )
        self.folder, self.url, self.pid, self.key = folder, url, pid, key


class EngineRecord(NamedTuple):
    """What `running_engine` found: whether an engine holds the folder, its URL and the key it wants."""

    running: bool
    url: str | None
    key: str | None = None


class EngineFolder:
    """The lock and the URL record of one engine folder. `acquire` before the engine starts work."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._lock = FileLock(self.folder / LOCK_NAME)

    @property
    def held(self) -> bool:
        return self._lock.held

    def acquire(self) -> None:
        """Take the folder, or raise `EngineFolderBusy` naming the engine that has it."""
        if not self._lock.acquire(blocking=False):
            record = _read_record(self.folder)
            raise EngineFolderBusy(self.folder, record.get("url"), record.get("pid"), record.get("key"))
        (self.folder / URL_NAME).unlink(missing_ok=True)  # a record left by an engine that died

    def publish(self, base_url: str, key: str | None = None) -> None:
        """Record where this engine answers (its `/v1` base URL) and the key it wants, for other processes
        of this user to find."""
        if not self.held:
            raise RuntimeError("publish the URL of an engine that holds its folder")
        write_text(self.folder / URL_NAME, json.dumps({"url": base_url, "pid": os.getpid(), "key": key}))

    def release(self) -> None:
        if self.held:
            (self.folder / URL_NAME).unlink(missing_ok=True)
            self._lock.release()


def running_engine(folder: str | os.PathLike[str]) -> EngineRecord:
    """Whether an engine holds `folder` now, the URL it recorded (None when it has not said) and its key."""
    folder = Path(folder)
    if not (folder / LOCK_NAME).exists() or not held_exclusively(folder / LOCK_NAME):
        return EngineRecord(False, None)
    record = _read_record(folder)
    return EngineRecord(True, record.get("url"), record.get("key"))


def _read_record(folder: Path) -> dict:
    try:
        data = json.loads((folder / URL_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
