"""The team's settings in effect, and what follows from them: the providers built from them (and from the
environment), which one is active, the providers' health as last asked, the team's bucket."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from dailies.bucket import Bucket, drop_local_copies
from dailies.config import (
    ENGINE,
    PROVIDER_NAME,
    REMOTE,
    BucketSettings,
    Environment,
    ProviderSettings,
    Settings,
    SettingsFile,
    is_loopback_host,
)
from dailies.errors import ValidationError
from dailies.jobs import JobStatus
from dailies.media import MediaLibrary
from dailies.moderation import LocalRules
from dailies.providers import registry as provider_registry
from dailies.providers.base import Capabilities, Health, VideoProvider
from dailies.providers.configured import ConfiguredProviders
from dailies.store import Store
from dailies.team_settings import StoreSettings

HEALTH_MAX_AGE_S = 15.0
"""How long a provider's answer to "do you answer?" stands (the sidebar and Generate show it on every run)."""


class SettingsAdmin:
    """Reads and saves the team's settings and keeps the providers and bucket they describe. Thread-safe."""

    def __init__(self, env: Environment, settings_file: SettingsFile | StoreSettings, *, store: Store,
                 media: MediaLibrary, engine_base_url: str | None, engine_api_key: str | None,
                 webhook_url: Callable[[str], str | None] | None, clock: Callable[[], float] = time.time,
                 transport: httpx.BaseTransport | None = None) -> None:
        """`settings_file`: the data folder's settings.json, or the shared database's table (`team_settings`)."""
        self.env = env
        self.settings_file = settings_file
        self.engine_base_url = engine_base_url
        self._store, self._media, self._clock = store, media, clock
        self._settings = settings_file.load()
        self.providers = ConfiguredProviders(env, self._settings, engine_base_url, engine_api_key,
                                             webhook_url=webhook_url, transport=transport)
        self._bucket: tuple[BucketSettings, Bucket | None] | None = None
        self._health: dict[str, tuple[float, Health]] = {}
        self._health_lock = threading.Lock()
        self.applied: Callable[[Settings], None] = lambda settings: None
        """Told of settings that took effect after the start (the studio gives the tracker its deadline)."""

    @property
    def settings(self) -> Settings:
        """The team's settings in effect; with a shared database, what another server saved is taken up here
        within about a second (`dailies.team_settings`)."""
        latest = self.settings_file.load_if_changed()
        if latest is not None and latest != self._settings:
            self.apply(latest)
        return self._settings

    def apply(self, settings: Settings) -> None:
        """Put `settings` in effect here without saving them."""
        self._settings = settings
        self.providers.rebuild(self.env, settings, self.engine_base_url)
        self._forget_health()  # a provider changed: what it said before says nothing now
        self.applied(settings)

    def save(self, settings: Settings) -> None:
        problems = LocalRules.from_settings(settings.moderation_terms, settings.moderation_patterns).invalid_patterns()
        if problems:
            raise ValidationError("Some moderation patterns are not valid: " + "; ".join(problems))
        self.settings_file.save(settings)
        self.apply(settings)

    def local_rules(self) -> LocalRules:
        return LocalRules.from_settings(self.settings.moderation_terms, self.settings.moderation_patterns)

    # -- the bucket ----------------------------------------------------------------------------------

    def bucket(self) -> Bucket | None:
        """The team's bucket as Settings describe it now (one client per configuration), or None when there is none.

        Raises `BucketError` when it is configured but cannot be set up (an unknown profile).
        """
        wanted = self.settings.bucket
        if self._bucket is None or self._bucket[0] != wanted:
            self._bucket = (wanted, Bucket(wanted) if wanted.enabled else None)
        return self._bucket[1]

    def drop_bucketed_copies(self) -> int:
        """Delete local copies of completed takes whose every file is checked safe in the bucket; how many takes."""
        bucket = self.bucket()
        if bucket is None:
            raise ValidationError("No bucket is configured.")
        done = [job for job in self._store.all() if job.status is JobStatus.COMPLETED]
        return len(drop_local_copies(bucket, self._media, done))

    # -- providers -----------------------------------------------------------------------------------

    def add_provider(self, name: str, base_url: str = "", key_from: str = "", kind: str = "openai_compat") -> None:
        """Offer another provider of a kind (`dailies.providers.registry.KINDS`), as Settings and the CLI do.

        What is added here carries no key to a host someone typed: an OpenAI-compatible server needs a base
        URL and is sent no key; a vendor reads its own key (`FAL_KEY`, ...) and talks to its own API only.
        A `key_from`, or a vendor's base URL, is refused with the `[providers.<name>]` table to put where keys
        live instead (`registry.added_problem`), and nothing is saved. Settings starts a vendor's rates from
        its catalogue. Plain http only reaches this machine: a prompt sent over http to another host can be
        read on the way.
        """
        name, base_url, key_from = name.strip(), base_url.strip().rstrip("/"), key_from.strip()
        found = provider_registry.kind(kind)
        if not PROVIDER_NAME.fullmatch(name):
            raise ValidationError("A provider name is 1 to 32 lower-case letters, digits, - or _, such as 'gateway'.")
        if name in self.providers.names() or name in (ENGINE, REMOTE):
            raise ValidationError(f"There is already a provider called {name!r}.")
        if refused := provider_registry.added_problem(name, {"kind": kind, "base_url": base_url,
                                                             "key_from": key_from}):
            raise ValidationError(refused, field="key_from" if key_from else "base_url")
        if found.needs_base_url:
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.username or parts.password:
                raise ValidationError("The base URL must be http(s)://host[:port]/path, with no user or key in it, "
                                      f"such as http://localhost:4000/v1; not {base_url!r}.")
            if parts.scheme == "http" and not is_loopback_host(parts.hostname or ""):
                raise ValidationError(f"Plain http is accepted only for this machine (localhost, 127.0.0.1, ::1); "
                                      f"use https for {parts.hostname}.")
        rates = {} if found.speaks_openai else provider_registry.prices(kind).to_table()
        added = ProviderSettings(name=name, label=name, kind=kind, base_url=base_url, rates=rates)
        extra = [*self.settings.extra_providers, added]
        self.save(dataclasses.replace(self.settings, extra_providers=extra))

    def use_environment(self, env: Environment) -> None:
        """Take the environment and secrets as read again (the admin defined or changed a provider there):
        providers are rebuilt from it, an unchanged one kept. Server-side only; never from a page's input."""
        if env.home != self.env.home:
            raise ValidationError("The data folder cannot change while the studio runs; restart instead.")
        self.env = env
        self.providers.rebuild(env, self.settings, self.engine_base_url)
        self._forget_health()

    def remove_provider(self, name: str) -> None:
        """Remove a provider added in Settings (or the labels and rates Settings gave one defined on the server)."""
        extra = [p for p in self.settings.extra_providers if p.name != name]
        if len(extra) == len(self.settings.extra_providers):
            raise ValidationError(f"{name!r} is not a provider added in Settings.")
        active = ENGINE if self.settings.active_provider == name else self.settings.active_provider
        self.save(dataclasses.replace(self.settings, extra_providers=extra, active_provider=active))

    @property
    def active_provider_name(self) -> str:
        names = self.providers.names()
        chosen = self.env.provider or self.settings.active_provider
        if chosen in names:
            return chosen
        return names[0] if names else ENGINE

    def provider(self, name: str | None = None) -> VideoProvider:
        return self.providers.get(name or self.active_provider_name)

    def capabilities(self, name: str | None = None) -> Capabilities:
        return self.provider(name).capabilities()

    # -- health --------------------------------------------------------------------------------------

    def health(self, name: str | None = None) -> Health:
        """Whether the provider answers, asked at most every `HEALTH_MAX_AGE_S` whatever the number of tabs and
        page runs (every page shows it), and answered from here for any process thread (the app asks once at
        start, so the first page does not wait on it). Settings' connection test asks the provider itself."""
        name = name or self.active_provider_name
        with self._health_lock:
            known = self._health.get(name)
        if known and self._clock() - known[0] < HEALTH_MAX_AGE_S:
            return known[1]
        return self._remember_health(name, self.provider(name).health())

    def test_connection(self, name: str) -> Health:
        """Ask the provider now (Settings' button), never raising; the answer stands for every page too."""
        return self._remember_health(name, provider_registry.connection_test(self.provider(name)))

    def _remember_health(self, name: str, answer: Health) -> Health:
        with self._health_lock:
            self._health[name] = (self._clock(), answer)
        return answer

    def _forget_health(self) -> None:
        with self._health_lock:
            self._health.clear()
