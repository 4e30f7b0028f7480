"""`Studio`: the one object the pages, the CLI and the pipeline API talk to, one per process.

It builds the parts and holds them together; the rules live in the parts: `admin` (the team's settings, the
providers and their health, the bucket), `sending` (preflight and submit) and `takes` (the takes once made).
Its methods are the verbs every caller uses, each handed to the part that holds its rule.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from dailies.bucket import Bucket
from dailies.config import Environment, Settings, SettingsFile
from dailies.errors import DailiesError
from dailies.jobs import Job, JobKind, JobRequest
from dailies.media import MediaLibrary, UsageCounter
from dailies.providers.base import Capabilities, Health, VideoProvider
from dailies.send_queue import SendQueue
from dailies.store import Store
from dailies.store.opening import open_configured_store
from dailies.studio import request_builders
from dailies.studio.settings_admin import SettingsAdmin
from dailies.studio.submitting import LaunchResult, Preflight, Submitter
from dailies.studio.take_library import TakeLibrary
from dailies.team_settings import settings_source, unshared_media_warning
from dailies.tracker import PollPolicy, Tracker, TrackerContext
from dailies.webhooks import WebhookBook, registered_url

log = logging.getLogger(__name__)


class Studio:
    """Submits takes, follows them up, and keeps the team's review. Share one per process."""

    def __init__(
        self,
        env: Environment,
        *,
        engine_base_url: str | None = None,
        settings_file: SettingsFile | None = None,
        store: Store | None = None,
        media: MediaLibrary | None = None,
        clock: Callable[[], float] = time.time,
        engine_api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`engine_api_key`: the token the mounted engine was started with; held here, never shown. `transport`:
        what the OpenAI-compatible providers' clients send through (a test's failing or counting one)."""
        self.home = env.home
        self.home.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        # Not `store or ...`: that asks a store for its length, which waits for one opening in the background.
        self.store = store if store is not None else open_configured_store(env)
        self.media = media or MediaLibrary(self.home / "media")
        self.media_usage = UsageCounter(self.media)
        self.admin = SettingsAdmin(
            env, settings_file or settings_source(self.store, SettingsFile(self.home / "settings.json")),
            store=self.store, media=self.media, engine_base_url=engine_base_url, engine_api_key=engine_api_key,
            webhook_url=functools.partial(registered_url, WebhookBook(self.home, self.store)), clock=clock,
            transport=transport)
        self.providers = self.admin.providers
        settings = self.admin.settings
        self.tracker = Tracker(TrackerContext.build(self.store, self.providers.get, self.media, clock=clock,
                                                    policy=PollPolicy(deadline=settings.deadline_minutes * 60)),
                               max_workers=max(2, settings.max_concurrency), bucket=self.admin.bucket)
        self.admin.applied = self._follow_settings
        self.person: Callable[[], str | None] = lambda: None
        """Who is asking, when the caller does not say: the app sets it to read the session's person (a
        signed-in user or a name given in the tab); the CLI leaves it saying nobody."""
        self.sending = Submitter(self.admin, self.store, self.media, self.tracker, person=lambda: self.person(),
                                 clock=clock)
        self.tracker.sends = SendQueue(self.store, self.sending.send_waiting, clock=clock,
                                       limits=lambda name: self.settings.provider_limits.get(name))
        self.takes = TakeLibrary(self.store, self.media, self.tracker, self.admin, self.sending, clock=clock)
        self._starting: threading.Thread | None = None

    def _follow_settings(self, settings: Settings) -> None:
        self.tracker.policy = PollPolicy(deadline=settings.deadline_minutes * 60)

    @property
    def env(self) -> Environment:
        return self.admin.env

    @property
    def warnings(self) -> list[str]:
        found = list(self.store.warnings)
        if self.admin.settings_file.warning:
            found.append(self.admin.settings_file.warning)
        unshared = unshared_media_warning(self.store, self.settings)
        if unshared:
            found.append(unshared)
        return found

    # -- running -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start following jobs up. A store still opening in the background (the app's) is waited for
        from a thread, so that whoever starts the studio (the first page) does not wait for it."""
        if self.store.ready:
            try:
                self.tracker.start()
                return
            except DailiesError:  # a store that could not open (pages say so): as when it failed in the background
                pass
        self._starting = threading.Thread(target=self._start_once_open, name="dailies-studio-start", daemon=True)
        self._starting.start()

    def wait_started(self, timeout: float = 60.0) -> bool:
        """Wait until the tracker runs and has looked for finished takes' missing files; False when `timeout`
        passed first. For scripts and tests that arrange jobs in a fresh studio: a finished take arranged while
        the look is under way could be taken for one that lost its file. Opens a store still waiting to now."""
        end = time.monotonic() + timeout
        self.store.open_now()
        if self._starting is not None:
            self._starting.join(timeout)
        return self.tracker.files_checked.wait(max(0.0, end - time.monotonic()))

    def _start_once_open(self) -> None:
        try:
            self.store.wait_ready()
            self.tracker.start()
        except Exception:
            log.exception("the tracker could not start")

    def close(self) -> None:
        if self._starting is not None:
            self.store.open_now()  # stopped before anything asked for the jobs: the tracker's start ends now
            self._starting.join()
        self.tracker.stop()
        self.providers.close()
        self.store.close()

    # -- settings and providers (`admin`) ------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.admin.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.admin.apply(settings)

    def save_settings(self, settings: Settings) -> None:
        self.admin.save(settings)

    def bucket(self) -> Bucket | None:
        return self.admin.bucket()

    def add_provider(self, name: str, base_url: str = "", key_from: str = "", kind: str = "openai_compat") -> None:
        self.admin.add_provider(name, base_url, key_from, kind)

    @property
    def active_provider_name(self) -> str:
        return self.admin.active_provider_name

    def provider(self, name: str | None = None) -> VideoProvider:
        return self.admin.provider(name)

    def capabilities(self, name: str | None = None) -> Capabilities:
        return self.admin.capabilities(name)

    def health(self, name: str | None = None) -> Health:
        return self.admin.health(name)

    # -- before and at a submit (`sending`) ----------------------------------------------------------

    def estimate(self, request: JobRequest, provider: str | None = None) -> float:
        return self.sending.estimate(request, provider)

    def spent_today(self) -> float:
        return self.sending.spent_today()

    def preflight(self, requests: JobRequest | Iterable[JobRequest], provider: str | None = None, *,
                  quick: bool = False) -> Preflight:
        return self.sending.preflight(requests, provider, quick=quick)

    def preflight_each(self, pairs: Iterable[tuple[str, JobRequest]], *, quick: bool = False) -> Preflight:
        return self.sending.preflight_each(pairs, quick=quick)

    def submit(self, request: JobRequest, provider: str | None = None, *, made_by: str | None = None) -> Job:
        return self.sending.submit(request, provider, made_by=made_by)

    def launch(self, requests: Iterable[JobRequest], *, concurrency: int | None = None, provider: str | None = None,
               made_by: str | None = None) -> LaunchResult:
        return self.sending.launch(requests, concurrency=concurrency, provider=provider, made_by=made_by)

    def launch_each(self, pairs: Iterable[tuple[str, JobRequest]], *, concurrency: int | None = None,
                    made_by: str | None = None) -> LaunchResult:
        return self.sending.launch_each(pairs, concurrency=concurrency, made_by=made_by)

    def request_from(self, job_id: str, kind: JobKind, prompt: str, seconds: int | None = None) -> JobRequest:
        """A remix, extension or edit of a finished job."""
        return request_builders.derived(self.takes.require(job_id), kind, prompt, seconds)

    def takes_of(self, job_id: str, count: int) -> list[JobRequest]:
        """`count` new takes of a generated job (same request, fresh seeds) as one variant group."""
        return request_builders.more_takes(self.takes.require(job_id), count)

    # -- after a submit (`takes`) --------------------------------------------------------------------

    def review(self, job_id: str, **changes: Any) -> Job:
        return self.takes.review(job_id, **changes)

    def retry(self, job_id: str, *, knowingly: bool = False) -> Job:
        return self.takes.retry(job_id, knowingly=knowingly)

    def delete(self, job_id: str, *, remote: bool = True) -> Job:
        return self.takes.delete(job_id, remote=remote)
