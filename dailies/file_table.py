"""A table of plain JSON records in one file, for a part of Dailies with a folder but no job store (the engine).

It keeps the store's `StoreTable` shape (get, all, set with field-level writes, delete), so what works on a
store's table (a `RetryQueue`) works on it too. The whole file is rewritten on every change, atomically and
readable by its user only (`dailies.files`): fine for the few records it is meant for. One process owns the
file (the engine's folder lock sees to that); threads share it safely.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from pathlib import Path
from typing import Any

from dailies.files import write_text

__all__ = ["FileTable"]

log = logging.getLogger(__name__)


class FileTable:
    """Records under string keys in the JSON file `path` (created on the first write). Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = self.path.stem
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:  # a damaged file: start empty rather than not at all, and say so
            log.warning("%s could not be read (%s); starting without its records", self.path, exc)
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._records.get(key)
            return copy.deepcopy(found) if found is not None else None

    def all(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._records)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def set(self, key: str, **fields: Any) -> None:
        """Create the record or change the given fields of it (other fields stay as they are)."""
        with self._lock:
            self._records.setdefault(key, {}).update(copy.deepcopy(fields))
            self._save()

    def delete(self, key: str) -> None:
        with self._lock:
            if self._records.pop(key, None) is not None:
                self._save()

    def _save(self) -> None:
        """Write every record. Call with the lock held."""
        write_text(self.path, json.dumps(self._records))
