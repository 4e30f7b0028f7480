"""The team's settings in the shared database, when there is one, so that every server uses the same.

With the journal, a server's settings live in its data folder (`settings.json`, `dailies.config.SettingsFile`).
With PostgreSQL (`DAILIES_DATABASE_URL`) several servers share the jobs, and a budget, a rate or the takes
allowed at once set on one must hold on all: they are kept in the store's `team_settings` table, one record.
Keys never are: `Settings` holds none (a provider with a key is defined in each server's environment or
secrets, `dailies.config.ServerProvider`; a settings entry only names a variable), so what is written here
is what `settings.json` held.

A server looks at the record again at most once a second when its settings are read, so a change saved on
another server is in effect here within about a second of being needed, and an idle server asks nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from dailies.config import Settings, SettingsFile
from dailies.errors import DailiesError
from dailies.store import Store

__all__ = ["LOOK_EVERY_S", "RECORD", "TEAM_SETTINGS_TABLE", "StoreSettings", "copy_team_settings", "settings_source",
           "unshared_media_warning"]

log = logging.getLogger(__name__)

TEAM_SETTINGS_TABLE = "team_settings"
RECORD = "team"
LOOK_EVERY_S = 1.0
"""How long a server uses the settings it read before it reads the shared record again."""


class StoreSettings:
    """The team's settings in a store's `team_settings` table; the surface of `SettingsFile` (`load`, `save`,
    `warning`, `path`), plus `load_if_changed`. The data folder's `settings.json` seeds an empty record
    (a server moving onto the database keeps what it had) and is what is used while the database cannot be
    reached (with a warning)."""

    def __init__(self, store: Store, fallback: SettingsFile, *, look_every: float = LOOK_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.fallback = fallback
        self.path = fallback.path
        self.warning: str | None = None
        self._look_every = look_every
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, Any] | None = None
        self._looked = float("-inf")

    def _read(self) -> dict[str, Any] | None:
        return self.store.table(TEAM_SETTINGS_TABLE).get(RECORD)

    def load(self) -> Settings:
        """The team's settings (the record, seeded from `settings.json` when there is none yet)."""
        with self._lock:
            self._looked = self._clock()
            try:
                record = self._read()
                if record is None:
                    settings = self.fallback.load()
                    self.store.table(TEAM_SETTINGS_TABLE).set(RECORD, **settings.to_dict())
                    record = settings.to_dict()
            except DailiesError as exc:
                self.warning = (f"The team's settings could not be read from the database ({exc}); this server "
                                f"uses its own {self.fallback.path.name} meanwhile.")
                return self.fallback.load()
            self.warning = None
            self._seen = record
            return _settings(record, self)

    def load_if_changed(self) -> Settings | None:
        """The settings when the record changed since it was last read (looked at once a `look_every`), else None."""
        if self._clock() - self._looked < self._look_every:
            return None
        with self._lock:
            if self._clock() - self._looked < self._look_every:
                return None
            self._looked = self._clock()
            try:
                record = self._read()
            except DailiesError:
                return None  # keep what is in effect; the next look may reach the database
            if record is None or record == self._seen:
                return None
            self._seen = record
            return _settings(record, self)

    def save(self, settings: Settings) -> None:
        """Every field, for every server (one write; a failure raises and nothing changes here)."""
        record = settings.to_dict()
        self.store.table(TEAM_SETTINGS_TABLE).set(RECORD, **record)
        with self._lock:
            self._seen, self._looked = record, self._clock()


def _settings(record: dict[str, Any], source: StoreSettings) -> Settings:
    try:
        return Settings.from_dict(record)
    except (TypeError, ValueError) as exc:
        source.warning = f"The team's settings in the database could not be read ({exc}); defaults are in use."
        return Settings()


def settings_source(store: Store, fallback: SettingsFile) -> SettingsFile | StoreSettings:
    """Where a process keeps the team's settings: the database's table when the store is shared (PostgreSQL),
    else the data folder's `settings.json`."""
    from dailies.store import JobStore

    return fallback if isinstance(store, JobStore) else StoreSettings(store, fallback)


def copy_team_settings(database: Store, folder: SettingsFile, *, to_database: bool) -> str:
    """`python -m dailies migrate`: the data folder's settings.json into the database's record (`--to`), or the
    record into settings.json (`--from`). Says what it did: "copied", "unchanged" (the same already there),
    or "none" (nothing to copy)."""
    table = database.table(TEAM_SETTINGS_TABLE)
    if to_database:
        if not folder.path.exists():
            return "none"
        record = folder.load().to_dict()
        if table.get(RECORD) == record:
            return "unchanged"
        table.set(RECORD, **record)
        return "copied"
    found = table.get(RECORD)
    if found is None:
        return "none"
    settings = Settings.from_dict(found)
    if folder.path.exists() and folder.load() == settings:
        return "unchanged"
    folder.save(settings)
    return "copied"


def unshared_media_warning(store: Store, settings: Settings) -> str | None:
    """What to tell a team sharing a database without a bucket: each take's files are in the folder of the
    server that made it, so the other servers list the take and cannot play it. None when that is not so."""
    from dailies.store import JobStore

    if isinstance(store, JobStore) or settings.bucket.enabled:
        return None
    return ("No bucket is set: takes made on this server stay in its own folder, and the other servers sharing "
            "the database cannot play them. Set the team's bucket in Settings (Bucket).")
