"""The studio: the one object the pages talk to. It holds the rules of submitting a take.

Every submit goes the same way: validate against the provider's capabilities, check the prompt
locally (and with the provider's moderation when it has one), price it against today's budget,
record the job, send it, and hand it to the tracker. A request refused at any step before sending
leaves nothing behind. A send that fails without doubt removes the record again; a send whose fate
is unknown (a timeout, a dropped connection) keeps the job as unconfirmed, and the tracker looks for
it at the provider rather than sending it twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dailies.bucket import Bucket, cloud_storage_uri, drop_local_copies
from dailies.config import (
    ENGINE,
    PROVIDER_NAME,
    REMOTE,
    BucketSettings,
    Environment,
    ProviderSettings,
    ServerProvider,
    Settings,
    SettingsFile,
    is_loopback_host,
)
from dailies.errors import (
    APIError,
    DailiesError,
    ModerationBlocked,
    NotFoundError,
    NotSupported,
    RequestRefused,
    ValidationError,
)
from dailies.errors import may_have_arrived as _may_have_arrived
from dailies.jobs import Job, JobError, JobKind, JobRequest, JobStatus, new_job_id
from dailies.media import MediaLibrary, UsageCounter
from dailies.moderation import LocalRules
from dailies.pricing import PriceList, check_budget, spend_since, start_of_day
from dailies.providers import registry as provider_registry
from dailies.providers.base import Capabilities, Health, ModerationVerdict, RemoteVideo, VideoProvider
from dailies.providers.openai_compat import OpenAICompatibleConfig, OpenAICompatibleProvider
from dailies.send_queue import SendQueue, wait_for
from dailies.store import Store, open_configured_store
from dailies.team_settings import StoreSettings, settings_source, unshared_media_warning
from dailies.tracker import PollPolicy, Tracker
from dailies.validation import validate_request
from dailies.webhooks import WebhookBook, registered_url

log = logging.getLogger(__name__)

REVIEW_FIELDS = frozenset({"rating", "notes", "tags", "picked"})
HEALTH_MAX_AGE_S = 15.0
"""How long a provider's answer to "do you answer?" stands (the sidebar and Generate show it on every run)."""


@dataclass(frozen=True)
class Preflight:
    """What a page shows before the submit button: may it go, why not, and what it costs."""

    problems: tuple[str, ...]
    verdict: ModerationVerdict
    cost: float
    spent_today: float | None
    """None: not counted yet (a quick preview while the store opens)."""
    budget: float | None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def over_budget(self) -> bool:
        return bool(self.budget and self.budget > 0 and self.spent_today is not None
                    and self.spent_today + self.cost > self.budget + 1e-9)


@dataclass
class LaunchResult:
    jobs: list[Job] = field(default_factory=list)
    errors: list[tuple[JobRequest, Exception]] = field(default_factory=list)


class ProviderRegistry:
    """Providers by name, built from the environment and Settings. Thread-safe.

    The engine, the `remote` server and the providers defined where keys live (`env.providers`) come from
    the environment and the secrets file: only they are sent a key to a base URL of theirs. Settings may
    label and price a defined provider (an entry of the same name), and add key-less servers and vendors on
    their own API, built through `dailies.providers.registry.build_added`, which sends no key anywhere else.
    """

    def __init__(
        self, env: Environment, settings: Settings, engine_base_url: str | None, engine_api_key: str | None = None,
        webhooks: WebhookBook | None = None,
    ) -> None:
        """`webhooks`: where a vendor that takes a callback URL per create finds its registration, if any."""
        self._engine_key = engine_api_key
        self._webhooks = webhooks
        self._lock = threading.Lock()
        self._providers: dict[str, VideoProvider] = {}
        self._identities: dict[str, Any] = {}
        self._prices: dict[str, PriceList] = {}
        self._kinds: dict[str, str] = {}
        self._server_defined: set[str] = set()
        self.rebuild(env, settings, engine_base_url)

    def rebuild(self, env: Environment, settings: Settings, engine_base_url: str | None) -> None:
        """Build the providers Settings describe, replacing only those whose configuration changed.

        A provider is never closed here: another session or the tracker may be mid-call on it (a create
        cut off that way may still have been made, and paid for). An unchanged provider is kept as it
        is; a changed or removed one is retired, and its connections close once nothing holds it.
        """
        wanted: dict[str, tuple[Any, Callable[[], VideoProvider], PriceList, str]] = {}
        if engine_base_url:
            engine = OpenAICompatibleConfig(ENGINE, engine_base_url, label="Embedded engine (local preview renderer)",
                                            api_key=self._engine_key, max_retries=2)
            wanted[ENGINE] = (engine, functools.partial(OpenAICompatibleProvider, engine),
                              PriceList.from_table(settings.rates, free=True), "openai_compat")
        if env.base_url:
            host = urlsplit(env.base_url).netloc or env.base_url
            remote = OpenAICompatibleConfig(REMOTE, env.base_url, label=f"OpenAI-compatible · {host}",
                                            api_key=env.api_key, moderation=host.endswith("api.openai.com"))
            wanted[REMOTE] = (remote, functools.partial(OpenAICompatibleProvider, remote),
                              PriceList.from_table(settings.rates), "openai_compat")
        added = {extra.name: extra for extra in settings.extra_providers}
        for server in env.providers.values():
            if server.name in wanted:
                continue
            defined = _defined(server, added.get(server.name))
            wanted[server.name] = (
                provider_registry.identity(defined, env.key_named),
                functools.partial(provider_registry.build_or_explain, server.name, defined, env.key_named,
                                  webhook_url=self._webhook_lookup(server.name)),
                _prices_of(defined, settings),
                defined.kind,
            )
        for extra in settings.extra_providers:
            if extra.name in wanted or (provider_registry.speaks_openai(extra.kind) and not extra.base_url
                                        and not extra.key_from):
                continue
            wanted[extra.name] = (
                ("added", provider_registry.identity(extra, env.key_named)),
                functools.partial(provider_registry.build_added, extra.name, extra, env.key_named,
                                  webhook_url=self._webhook_lookup(extra.name)),
                _prices_of(extra, settings),
                extra.kind,
            )
        with self._lock:
            old, old_identities = self._providers, self._identities
            kept: dict[str, VideoProvider] = {}
            for name, (identity, make, _, _) in wanted.items():
                same = name in old and old_identities.get(name) == identity
                kept[name] = old[name] if same else make()
            self._providers = kept
            self._identities = {name: identity for name, (identity, _, _, _) in wanted.items()}
            self._prices = {name: prices for name, (_, _, prices, _) in wanted.items()}
            self._kinds = {name: kind for name, (_, _, _, kind) in wanted.items()}
            self._server_defined = {ENGINE, REMOTE}.union(env.providers) & set(wanted)
        for name, provider in old.items():
            if kept.get(name) is not provider:
                _retire(provider)

    def _webhook_lookup(self, name: str) -> Callable[[], str | None] | None:
        """Where provider `name`'s creates ask for callbacks: read from `webhooks.json` at each create."""
        book = self._webhooks
        return None if book is None else functools.partial(registered_url, book, name)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._providers)

    def defined_on_server(self, name: str) -> bool:
        """Whether `name` is defined where keys live (the environment or the secrets file), not in Settings."""
        with self._lock:
            return name in self._server_defined

    def get(self, name: str) -> VideoProvider:
        with self._lock:
            provider = self._providers.get(name)
        if provider is None:
            raise ValidationError(
                f"No provider named {name!r} is configured. Configured: {', '.join(self.names()) or 'none'}."
            )
        return provider

    def prices(self, name: str) -> PriceList:
        with self._lock:
            return self._prices.get(name, PriceList())

    def kind_of(self, name: str) -> str:
        """The provider's kind (`openai_compat`, `fal`, ...), as Settings and the shoot-out show it."""
        with self._lock:
            return self._kinds.get(name, "openai_compat")

    def close(self) -> None:
        with self._lock:
            providers, self._providers = self._providers, {}
        for provider in providers.values():
            provider.close()


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
    ) -> None:
        """`engine_api_key`: the token the mounted engine was started with; held here, never shown."""
        self.env = env
        self.home = env.home
        self.home.mkdir(parents=True, exist_ok=True)
        self.engine_base_url = engine_base_url
        self.clock = clock
        # Not `store or ...`: that asks a store for its length, which waits for one opening in the background.
        self.store = store if store is not None else open_configured_store(env)
        # The team's settings: the data folder's settings.json, or the shared database's table (`team_settings`).
        self.settings_file: SettingsFile | StoreSettings = settings_file or settings_source(
            self.store, SettingsFile(self.home / "settings.json"))
        self._settings = self.settings_file.load()
        self.media = media or MediaLibrary(self.home / "media")
        self.media_usage = UsageCounter(self.media)
        self.providers = ProviderRegistry(env, self.settings, engine_base_url, engine_api_key,
                                          webhooks=WebhookBook(self.home, self.store))
        self._bucket: tuple[BucketSettings, Bucket | None] | None = None
        self.tracker = Tracker(
            self.store,
            self.providers.get,
            self.media,
            policy=PollPolicy(deadline=self.settings.deadline_minutes * 60),
            max_workers=max(2, self.settings.max_concurrency),
            clock=clock,
            bucket=self.bucket,
        )
        self.tracker.sends = SendQueue(self.store, self._send_waiting, clock=clock,
                                       limits=lambda name: self.settings.provider_limits.get(name))
        self._health: dict[str, tuple[float, Health]] = {}
        self._health_lock = threading.Lock()
        self._starting: threading.Thread | None = None
        self.person: Callable[[], str | None] = lambda: None
        """Who is asking, when the caller does not say: the app sets it to read the session's person (a
        signed-in user or a name given in the tab); the CLI leaves it saying nobody."""

    @property
    def warnings(self) -> list[str]:
        found = list(self.store.warnings)
        if self.settings_file.warning:
            found.append(self.settings_file.warning)
        unshared = unshared_media_warning(self.store, self.settings)
        if unshared:
            found.append(unshared)
        return found

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

    # -- settings ----------------------------------------------------------------------------------

    def save_settings(self, settings: Settings) -> None:
        problems = LocalRules.from_settings(settings.moderation_terms, settings.moderation_patterns).invalid_patterns()
        if problems:
            raise ValidationError("Some moderation patterns are not valid: " + "; ".join(problems))
        self.settings_file.save(settings)
        self._apply_settings(settings)

    @property
    def settings(self) -> Settings:
        """The team's settings in effect; with a shared database, what another server saved is taken up here
        within about a second (`dailies.team_settings`)."""
        latest = self.settings_file.load_if_changed()
        if latest is not None and latest != self._settings:
            self._apply_settings(latest)
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self._apply_settings(settings)

    def _apply_settings(self, settings: Settings) -> None:
        self._settings = settings
        if not hasattr(self, "_health_lock"):
            return  # still being built: what is built next reads these
        self.providers.rebuild(self.env, settings, self.engine_base_url)
        with self._health_lock:
            self._health.clear()  # a provider changed: what it said before says nothing now
        self.tracker.policy = PollPolicy(deadline=settings.deadline_minutes * 60)

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
        done = [job for job in self.store.all() if job.status is JobStatus.COMPLETED]
        return len(drop_local_copies(bucket, self.media, done))

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
        self.save_settings(dataclasses.replace(self.settings, extra_providers=extra))

    def use_environment(self, env: Environment) -> None:
        """Take the environment and secrets as read again (the admin defined or changed a provider there):
        providers are rebuilt from it, an unchanged one kept. Server-side only; never from a page's input."""
        if env.home != self.env.home:
            raise ValidationError("The data folder cannot change while the studio runs; restart instead.")
        self.env = env
        self.providers.rebuild(env, self.settings, self.engine_base_url)
        with self._health_lock:
            self._health.clear()

    def remove_provider(self, name: str) -> None:
        """Remove a provider added in Settings (or the labels and rates Settings gave one defined on the server)."""
        extra = [p for p in self.settings.extra_providers if p.name != name]
        if len(extra) == len(self.settings.extra_providers):
            raise ValidationError(f"{name!r} is not a provider added in Settings.")
        active = ENGINE if self.settings.active_provider == name else self.settings.active_provider
        self.save_settings(dataclasses.replace(self.settings, extra_providers=extra, active_provider=active))

    @property
    def active_provider_name(self) -> str:
        names = self.providers.names()
        chosen = self.env.provider or self.settings.active_provider
        if chosen in names:
            return chosen
        return names[0] if names else ENGINE

    def provider(self, name: str | None = None) -> VideoProvider:
        return self.providers.get(name or self.active_provider_name)

    def health(self, name: str | None = None) -> Health:
        """Whether the provider answers, asked at most every `HEALTH_MAX_AGE_S` whatever the number of tabs and
        page runs (every page shows it), and answered from here for any process thread (the app asks once at
        start, so the first page does not wait on it). Settings' connection test asks the provider itself."""
        name = name or self.active_provider_name
        with self._health_lock:
            known = self._health.get(name)
        if known and self.clock() - known[0] < HEALTH_MAX_AGE_S:
            return known[1]
        return self._remember_health(name, self.provider(name).health())

    def test_connection(self, name: str) -> Health:
        """Ask the provider now (Settings' button), never raising; the answer stands for every page too."""
        return self._remember_health(name, provider_registry.connection_test(self.provider(name)))

    def _remember_health(self, name: str, answer: Health) -> Health:
        with self._health_lock:
            self._health[name] = (self.clock(), answer)
        return answer

    def capabilities(self, name: str | None = None) -> Capabilities:
        return self.provider(name).capabilities()

    # -- before a submit ---------------------------------------------------------------------------

    def local_rules(self) -> LocalRules:
        return LocalRules.from_settings(self.settings.moderation_terms, self.settings.moderation_patterns)

    def estimate(self, request: JobRequest, provider: str | None = None) -> float:
        seconds = request.seconds
        if request.kind in (JobKind.REMIX, JobKind.EDIT) and request.source_job_id:
            source = self.store.get(request.source_job_id)
            seconds = source.seconds if source else seconds
        return self.providers.prices(provider or self.active_provider_name).estimate(
            request.model, request.size, seconds, audio=request.audio
        )

    def spent_today(self) -> float:
        return spend_since(self.store.all(), start_of_day(self.clock()))

    def preflight(self, requests: JobRequest | Iterable[JobRequest], provider: str | None = None, *,
                  quick: bool = False) -> Preflight:
        """Check requests without sending anything: validation, local moderation, cost, budget."""
        batch = [requests] if isinstance(requests, JobRequest) else list(requests)
        return self.preflight_each([(provider or self.active_provider_name, r) for r in batch], quick=quick)

    def preflight_each(self, pairs: Iterable[tuple[str, JobRequest]], *, quick: bool = False) -> Preflight:
        """`preflight` for requests to several providers (a shoot-out): one budget for them all.

        A provider's own problem (no key, no answer, a size its model lacks) names the provider when
        the batch goes to more than one. `quick`: a page's preview, which does not wait for a store still
        opening (today's spend is then None, not yet counted, and the budget is left to the send, which
        always checks it).
        """
        pairs = list(pairs)
        several = len({name for name, _ in pairs}) > 1
        problems: list[str] = []
        reasons: list[str] = []
        caps_of: dict[str, Capabilities | None] = {}
        for name, request in pairs:
            if name not in caps_of:
                try:
                    if why := provider_registry.problem(self.provider(name)):
                        raise ValidationError(why)
                    caps_of[name] = self.capabilities(name)
                except (APIError, RequestRefused) as exc:
                    caps_of[name] = None
                    problems.append(f"{name}: {exc}" if several else str(exc))
            caps = caps_of[name]
            if caps is not None:
                try:
                    validate_request(request, caps)
                except ValidationError as exc:
                    problems.append(f"{name}/{request.model}: {exc}" if several else str(exc))
            verdict = self.local_rules().check(request.prompt)
            reasons.extend(r for r in verdict.reasons if r not in reasons)
        if reasons:
            problems.append("Blocked by the moderation rules: " + "; ".join(reasons))
        cost = round(sum(self.estimate(r, name) for name, r in pairs), 4)
        spent = self.spent_today() if self.store.ready or not quick else None
        budget = self.settings.daily_budget_usd
        preflight = Preflight(
            tuple(dict.fromkeys(problems)), ModerationVerdict(not reasons, tuple(reasons)), cost, spent, budget
        )
        if preflight.over_budget:
            preflight = Preflight(
                (
                    *preflight.problems,
                    f"This costs ${cost:.2f}; today's spend is ${spent:.2f} of a ${budget:.2f} budget.",
                ),
                preflight.verdict,
                cost,
                spent,
                budget,
            )
        return preflight

    # -- submitting --------------------------------------------------------------------------------

    def submit(self, request: JobRequest, provider: str | None = None, *, made_by: str | None = None) -> Job:
        """Check, price, record and send one request. Raises RequestRefused (nothing sent) or APIError.

        `made_by`: who launched it (by default whoever `person` says is asking), kept on the job."""
        return self._submit(request, provider or self.active_provider_name, budget_checked=False,
                            made_by=made_by or self.person())

    def _submit(self, request: JobRequest, provider_name: str, *, budget_checked: bool,
                made_by: str | None = None) -> Job:
        provider = self.provider(provider_name)
        caps = provider.capabilities()
        source_remote_id = self._source_remote_id(request, provider_name)
        if request.kind is JobKind.EXTEND and caps.extend_source == "cloud_storage":
            self._cloud_storage_source(request)
        validate_request(request, caps)
        self._moderate(request.prompt, provider, caps)
        cost = self.estimate(request, provider_name)
        if not budget_checked:
            check_budget(cost, self.spent_today(), self.settings.daily_budget_usd)
        now = self.clock()
        job = Job(
            id=new_job_id(),
            provider=provider_name,
            model=request.model,
            prompt=request.prompt.strip(),
            kind=request.kind,
            size=request.size,
            seconds=request.seconds,
            params=_params_of(request),
            source_job_id=request.source_job_id,
            group_id=request.group_id,
            axes=dict(request.axes),
            tags=list(request.tags),
            cost_estimate=cost,
            created_at=now,
            updated_at=now,
            deadline_at=now + self.tracker.policy.deadline,
            made_by=made_by or "",
        )
        self.tracker.hold(job.id)
        gate = self.tracker.sends.admit(job)
        if not gate.ok:  # the provider's limit or Retry-After holds, or older takes wait: in line, sent later
            job.status, job.wait_reason, job.next_try_at = JobStatus.WAITING, gate.reason, gate.next_try_at
            self.store.insert(job)
            self.tracker.track(job.id, first_poll_in=max(0.0, gate.next_try_at - now))
            return job
        self.store.insert(job)
        try:
            remote = provider.submit(request, source_remote_id=source_remote_id)
        except BaseException as exc:
            if isinstance(exc, Exception) and (wait := wait_for(exc)) is not None:
                try:
                    job = self.tracker.sends.refused(job, wait)  # nothing was made: it waits, in line
                finally:
                    self.tracker.sends.sent(job)
                self.tracker.track(job.id, first_poll_in=max(0.0, (job.next_try_at or now) - self.clock()))
                return job
            self.tracker.sends.sent(job)
            if not _may_have_arrived(exc):
                self.store.delete(job.id)
                self.tracker.release(job.id)
                raise
            log.warning("submit of %s unconfirmed: %s", job.id, exc)
            said = str(exc) or type(exc).__name__
            job = self.store.update(
                job.id,
                error=JobError(
                    f"The server did not confirm the job ({said}); looking for it before anything is resent.",
                    "unconfirmed",
                ),
            )
            self.tracker.track(job.id, first_poll_in=2.0)
            if isinstance(exc, Exception):
                return job
            raise  # an interrupt or exit goes on; the job stays, unconfirmed
        try:
            job = self.tracker.sends.made(job, remote)
        finally:
            self.tracker.sends.sent(job)  # after: the job now counts as at the provider, so its slot stays taken
        self.tracker.track(job.id, first_poll_in=remote.poll_after)
        return job

    def _send_waiting(self, job: Job) -> RemoteVideo:
        """The create of a take that waited (the send queue calls this): its request, rebuilt from the record."""
        request = JobRequest(
            prompt=job.prompt, model=job.model, size=job.size, seconds=job.seconds, kind=job.kind,
            source_job_id=job.source_job_id, group_id=job.group_id, axes=dict(job.axes),
            seed=job.params.get("seed"), tags=list(job.tags), **_inputs_of(job),
        )
        source_remote_id = self._source_remote_id(request, job.provider)
        return self.provider(job.provider).submit(request, source_remote_id=source_remote_id)

    def cancel(self, job_id: str) -> Job:
        """Cancel a take that waits to be sent: nothing was made, so nothing is paid; it is marked failed."""
        job = self.store.require(job_id)
        if job.status is not JobStatus.WAITING:
            raise ValidationError(f"{job.id} is {job.status.label}: only a take waiting to be sent can be cancelled.")
        if not self.tracker.leases.claim(self.store, job_id, self.tracker.owner):
            raise ValidationError(f"{job.id} is being sent right now by another process; look again in a moment.")
        job = self.store.require(job_id)  # as the claim found it: it may have been sent just now
        if job.status is not JobStatus.WAITING:
            self.store.release(job_id, self.tracker.owner)
            raise ValidationError(f"{job.id} was sent meanwhile ({job.status.label}); it can no longer be cancelled.")
        return self.store.update(job_id, status=JobStatus.FAILED, next_try_at=None, error=JobError(
            f"Cancelled while waiting to send ({job.wait_reason}); nothing was made.", "cancelled"))

    def launch(
        self, requests: Iterable[JobRequest], *, concurrency: int | None = None, provider: str | None = None,
        made_by: str | None = None,
    ) -> LaunchResult:
        """Submit several takes with bounded concurrency, after one check of them all together."""
        name = provider or self.active_provider_name
        return self.launch_each([(name, r) for r in requests], concurrency=concurrency, made_by=made_by)

    def launch_each(self, pairs: Iterable[tuple[str, JobRequest]], *, concurrency: int | None = None,
                    made_by: str | None = None) -> LaunchResult:
        """`launch` across providers (a shoot-out): each request to its provider, after one check of all.

        Nothing is sent unless every request passes (validation, moderation, one budget for the batch).
        """
        batch = list(pairs)
        who = made_by or self.person()  # asked here: the pool's threads do not know the session
        preflight = self.preflight_each(batch)
        if not preflight.ok:
            raise ValidationError(" ".join(preflight.problems))
        result = LaunchResult()
        workers = max(1, min(concurrency or self.settings.max_concurrency, len(batch) or 1))
        with ThreadPoolExecutor(workers, thread_name_prefix="dailies-launch") as pool:
            futures = [(r, pool.submit(self._submit, r, name, budget_checked=True, made_by=who)) for name, r in batch]
            for request, future in futures:
                try:
                    result.jobs.append(future.result())
                except Exception as exc:  # each take stands alone; the page lists what failed
                    result.errors.append((request, exc))
        return result

    def _moderate(self, prompt: str, provider: VideoProvider, caps: Capabilities) -> None:
        verdict = self.local_rules().check(prompt)
        if not verdict.allowed:
            raise ModerationBlocked(list(verdict.reasons))
        if caps.moderation and self.settings.use_provider_moderation:
            remote = provider.moderate(prompt)
            if remote is not None and not remote.allowed:
                raise ModerationBlocked([f"{remote.source}: {', '.join(remote.reasons)}"])

    def _cloud_storage_source(self, request: JobRequest) -> None:
        """For a provider that extends only a video in Cloud Storage (Veo): the source take's `gs://` URI when
        the team's bucket is Google Cloud Storage and the take is safely in it; otherwise the provider says why."""
        source = self.store.get(request.source_job_id) if request.source_job_id else None
        video = source.files.get("video") if source is not None else None
        if video is not None and (uri := cloud_storage_uri(self.settings.bucket, video)):
            request.reference_path = uri

    def _source_remote_id(self, request: JobRequest, provider_name: str) -> str | None:
        """The provider's id of the source job, or None when the source must be uploaded as a file."""
        if not request.source_job_id:
            return None
        source = self.store.get(request.source_job_id)
        if source is None:
            raise ValidationError(f"No job with id {request.source_job_id!r}.", field="source")
        if request.kind is JobKind.REMIX and source.provider != provider_name:
            raise ValidationError("A remix must be made by the provider that made its source.", field="source")
        if source.status is not JobStatus.COMPLETED:
            raise ValidationError(f"The source job is {source.status}; it must be completed first.", field="source")
        if source.provider == provider_name and source.remote_id and not _expired(source, self.clock()):
            return source.remote_id
        if request.kind is JobKind.REMIX:
            raise ValidationError("The source video has expired at the provider; remix is not possible.")
        video = source.files.get("video")
        if video is None:
            raise ValidationError("The source job has no local video to upload.", field="source")
        request.reference_path = str(self.media.resolve(video.path))
        return None

    def request_from(self, job_id: str, kind: JobKind, prompt: str, seconds: int | None = None) -> JobRequest:
        """A remix, extension or edit of a finished job."""
        source = self.store.require(job_id)
        return JobRequest(
            prompt=prompt,
            model=source.model,
            size=source.size,
            seconds=seconds if seconds is not None else source.seconds,
            kind=kind,
            source_job_id=source.id,
            group_id=None,
            tags=list(source.tags),
        )

    def retry(self, job_id: str, *, knowingly: bool = False) -> Job:
        """Send a finished or failed job's request again, as a new job.

        A job that needs a look may have been made (and paid for) at the provider, so it is sent again
        only `knowingly`; it is then marked failed, naming the job that replaced it.
        """
        job = self.store.require(job_id)
        if job.status is JobStatus.NEEDS_LOOK and not knowingly:
            raise ValidationError(
                f"{job.id} may have been made at the provider: sending it again may pay for it twice. "
                "Re-check it or attach its video id first, or retry it knowingly."
            )
        request = JobRequest(
            prompt=job.prompt,
            model=job.model,
            size=job.size,
            seconds=job.seconds,
            kind=job.kind,
            source_job_id=job.source_job_id,
            group_id=job.group_id,
            axes=dict(job.axes),
            seed=job.params.get("seed"),
            tags=list(job.tags),
            **_inputs_of(job),
        )
        new = self.submit(request, job.provider if job.provider in self.providers.names() else None)
        if job.status is JobStatus.NEEDS_LOOK:
            self.store.update(job.id, status=JobStatus.FAILED, error=JobError(
                f"Sent again knowingly as {new.id}; the provider may still have made this one.", "retried"))
        return new

    def takes_of(self, job_id: str, count: int) -> list[JobRequest]:
        """`count` new takes of a generated job (same request, fresh seeds) as one variant group."""
        job = self.store.require(job_id)
        if job.kind is not JobKind.GENERATE:
            raise ValidationError(f"Takes are made of generated clips; {job.id} is a {job.kind}.")
        group = new_group_id()
        return [
            JobRequest(prompt=job.prompt, model=job.model, size=job.size, seconds=job.seconds, group_id=group,
                       axes={"take": str(n + 1)}, tags=list(job.tags), **_inputs_of(job))
            for n in range(count)
        ]

    # -- after a submit ----------------------------------------------------------------------------

    def review(self, job_id: str, **changes: Any) -> Job:
        """Record the team's rating, notes, tags or pick; nothing else may change this way."""
        unknown = set(changes) - REVIEW_FIELDS
        if unknown:
            raise ValidationError(f"Only {', '.join(sorted(REVIEW_FIELDS))} can be reviewed, not {unknown}.")
        if "rating" in changes and changes["rating"] is not None and not 0 <= int(changes["rating"]) <= 5:
            raise ValidationError("A rating is 0 to 5 stars.")
        if "tags" in changes:
            changes["tags"] = sorted({str(t).strip() for t in changes["tags"] if str(t).strip()})
        return self.store.update(job_id, **changes)

    def redownload(self, job_id: str) -> Job:
        job = self.store.require(job_id)
        if job.remote_id is None or job.status not in (JobStatus.COMPLETED, JobStatus.FAILED):
            raise ValidationError("Only a finished job that the provider made can be downloaded again.")
        job = self.store.update(job_id, status=JobStatus.DOWNLOADING, files={}, error=None)
        self.tracker.wake(job_id)
        return job

    def recheck(self, job_id: str) -> Job:
        return self.tracker.recheck(job_id)

    def mark_failed(self, job_id: str) -> Job:
        """A person's word that a job that needs a look (or timed out) was not made: it stops counting."""
        job = self.store.require(job_id)
        if job.status not in (JobStatus.NEEDS_LOOK, JobStatus.TIMED_OUT):
            raise ValidationError(f"Only a job that needs a look or timed out can be marked failed; {job.id} is "
                                  f"{job.status.label}.")
        before = f" ({job.error.message})" if job.error else ""
        return self.store.update(job_id, status=JobStatus.FAILED,
                                 error=JobError(f"Marked failed by hand{before}", "marked_failed"))

    def attach(self, job_id: str, remote_id: str) -> Job:
        """Give a job that needs a look the provider's id for its video (found in the provider's console).

        The id is checked with the provider first and must not belong to another job; then the tracker
        follows the video as if the create had answered.
        """
        job = self.store.require(job_id)
        remote_id = remote_id.strip()
        if job.remote_id is not None or job.status is not JobStatus.NEEDS_LOOK:
            raise ValidationError(f"Only a job that needs a look can be given a video id; {job.id} is "
                                  f"{job.status.label}.")
        if not remote_id:
            raise ValidationError("Paste the provider's id of the video, such as video_123.", field="remote_id")
        owner = next((j for j in self.store.all() if j.remote_id == remote_id), None)
        if owner is not None:
            raise ValidationError(f"{remote_id} already belongs to {owner.id}.", field="remote_id")
        try:
            remote = self.provider(job.provider).refresh(remote_id)
        except NotFoundError as exc:
            raise ValidationError(f"The provider has no video {remote_id!r}: {exc.message}", field="remote_id") from exc
        job = self.store.update(job_id, remote_id=remote.remote_id or remote_id, status=JobStatus.QUEUED, error=None,
                                deadline_at=self.clock() + self.tracker.policy.deadline,
                                params={**job.params, "attached": True})
        self.tracker.track(job.id, first_poll_in=0.0)
        return job

    def delete(self, job_id: str, *, remote: bool = True) -> Job:
        """Delete a job here, its files, and (by default) the video at the provider."""
        job = self.store.require(job_id)
        if remote and job.remote_id and job.provider in self.providers.names():
            # Already gone there, or a provider that cannot delete (its capabilities say so to the pages).
            with contextlib.suppress(NotFoundError, NotSupported):
                self.provider(job.provider).delete(job.remote_id)
        self.media.remove_job(job_id)
        return self.store.delete(job_id)

    def clean_up(self, older_than_days: float) -> int:
        """Remove local files of unpicked, unrated takes older than N days. Returns the number of jobs.

        A file safely in the team's bucket keeps its record (key and ETag), so the take still plays from
        there; only what was nowhere else is forgotten.
        """
        cutoff = self.clock() - older_than_days * 86400
        count = 0
        with self.store.batch():
            for job in self.store.all():
                if job.created_at >= cutoff or job.picked or job.rating:
                    continue
                if any(self.media.present(rec) for rec in job.files.values()):
                    self.media.remove_job(job.id)
                    kept = {name: rec for name, rec in job.files.items() if rec.in_bucket}
                    self.store.update(job.id, files=kept, params={**job.params, "files_removed_at": self.clock()})
                    count += 1
        return count

    def active_count(self) -> int:
        return len(self.store.active())

    def media_path(self, job: Job, variant: str = "video") -> Path | None:
        record = job.files.get(variant)
        return self.media.resolve(record.path) if record else None


def new_group_id() -> str:
    return f"grp_{uuid.uuid4().hex[:12]}"


def _params_of(request: JobRequest) -> dict[str, Any]:
    """What a take was made with beyond its prompt, model, size and length, kept on the job so "run again",
    a retry and a take that waited send the same: the opening frame and subject references by path and by the
    name a person reads (never their bytes), the library asset they came from, the seed, and the sound choice
    when it was off. `_inputs_of` reads them back."""
    params: dict[str, Any] = {}
    if request.reference_path:
        params["reference_path"] = request.reference_path
        params["reference_name"] = os.path.basename(request.reference_path)
    if request.reference_images:
        params["reference_images"] = list(request.reference_images)
        params["reference_image_names"] = [os.path.basename(path) for path in request.reference_images]
    if request.library_asset:
        params["library_asset_id"] = request.library_asset.get("id", "")
        params["library_asset_name"] = request.library_asset.get("name", "")
    if request.seed is not None:
        params["seed"] = request.seed
    if not request.audio:
        params["audio"] = False
    return params


def _inputs_of(job: Job) -> dict[str, Any]:
    """The `JobRequest` inputs `_params_of` kept on `job`, to send the same take again (a retry, a take that
    waited, more takes of it): its references, the library asset they came from and its sound choice."""
    params = job.params
    asset = {"id": params["library_asset_id"], "name": params.get("library_asset_name", "")} \
        if params.get("library_asset_id") else {}
    return {"reference_path": params.get("reference_path"),
            "reference_images": list(params.get("reference_images") or ()), "library_asset": asset,
            "audio": bool(params.get("audio", True))}


def _defined(server: ServerProvider, entry: ProviderSettings | None) -> ProviderSettings:
    """A provider defined where keys live, with the label and rates Settings gave it (an entry of its name and
    kind); where it is and which key it carries come from its definition only."""
    own = entry if entry is not None and entry.kind == server.kind else None
    label = (own.label if own and own.label != server.name else "") or server.label or server.name
    return ProviderSettings(name=server.name, label=label, kind=server.kind, base_url=server.base_url,
                            key_from=server.key_from, moderation=server.moderation,
                            free=own.free if own else False, rates=dict(own.rates) if own else {},
                            project=server.project, location=server.location,
                            credentials_file=server.credentials_file)


def _prices_of(extra: ProviderSettings, settings: Settings) -> PriceList:
    """An added provider's rates: its own table when Settings has one, else its kind's defaults (a vendor)
    or the team's table for OpenAI-compatible servers."""
    if extra.rates:
        return PriceList.from_table(extra.rates, free=extra.free)
    if extra.kind in provider_registry.KINDS and not provider_registry.speaks_openai(extra.kind):
        return PriceList(provider_registry.prices(extra.kind).rates, free=extra.free)
    return PriceList.from_table(settings.rates, free=extra.free)


def _retire(provider: VideoProvider) -> None:
    """Close a replaced provider's connections once nothing uses it any more (the last call returned).

    The finalizer holds the provider's `closer()` (its connections' owner), never the provider itself, which
    would keep it alive.
    """
    weakref.finalize(provider, provider.closer())


def _expired(job: Job, now: float) -> bool:
    return bool(job.expires_at and job.expires_at <= now)


def axis_combinations(axes: Mapping[str, list[str]]) -> list[dict[str, str]]:
    """Every combination of axis values, in a stable order (the first axis varies slowest)."""
    combos: list[dict[str, str]] = [{}]
    for name, values in axes.items():
        clean = [v for v in dict.fromkeys(v.strip() for v in values) if v]
        if not clean:
            continue
        combos = [{**combo, name: value} for combo in combos for value in clean]
    return combos
