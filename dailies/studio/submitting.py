"""The rules of a submit: validate against the provider's capabilities, check the prompt locally (and with the
provider's moderation when it has one), price it against today's budget, record the job, send it, and hand it
to the tracker.

A request refused at any step before sending leaves nothing behind. A send that fails without doubt removes
the record again; a send whose fate is unknown (a timeout, a dropped connection) keeps the job as unconfirmed,
and the tracker looks for it at the provider rather than sending it twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from dailies.bucket import cloud_storage_uri
from dailies.errors import APIError, ModerationBlocked, RequestRefused, ValidationError, may_have_arrived
from dailies.jobs import Job, JobError, JobKind, JobRequest, JobStatus, new_job_id
from dailies.media import MediaLibrary
from dailies.pricing import check_budget, spend_since, start_of_day
from dailies.providers import registry as provider_registry
from dailies.providers.base import Capabilities, ModerationVerdict, RemoteVideo, VideoProvider
from dailies.send_queue import wait_for
from dailies.store import Store
from dailies.studio.request_builders import again, params_of
from dailies.studio.settings_admin import SettingsAdmin
from dailies.tracker import Tracker
from dailies.validation import validate_request

log = logging.getLogger(__name__)


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


class Submitter:
    """Checks, prices, records and sends takes, alone or in batches. Thread-safe; share one per process."""

    def __init__(self, admin: SettingsAdmin, store: Store, media: MediaLibrary, tracker: Tracker, *,
                 person: Callable[[], str | None], clock: Callable[[], float] = time.time) -> None:
        """`person`: who is asking when a caller does not say (read at each submit)."""
        self._admin, self._store, self._media, self._tracker = admin, store, media, tracker
        self._person, self._clock = person, clock

    # -- before a submit ---------------------------------------------------------------------------

    def estimate(self, request: JobRequest, provider: str | None = None) -> float:
        seconds = request.seconds
        if request.kind in (JobKind.REMIX, JobKind.EDIT) and request.source_job_id:
            source = self._store.get(request.source_job_id)
            seconds = source.seconds if source else seconds
        return self._admin.providers.prices(provider or self._admin.active_provider_name).estimate(
            request.model, request.size, seconds, audio=request.audio
        )

    def spent_today(self) -> float:
        return spend_since(self._store.all(), start_of_day(self._clock()))

    def preflight(self, requests: JobRequest | Iterable[JobRequest], provider: str | None = None, *,
                  quick: bool = False) -> Preflight:
        """Check requests without sending anything: validation, local moderation, cost, budget."""
        batch = [requests] if isinstance(requests, JobRequest) else list(requests)
        return self.preflight_each([(provider or self._admin.active_provider_name, r) for r in batch], quick=quick)

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
                    if why := provider_registry.problem(self._admin.provider(name)):
                        raise ValidationError(why)
                    caps_of[name] = self._admin.capabilities(name)
                except (APIError, RequestRefused) as exc:
                    caps_of[name] = None
                    problems.append(f"{name}: {exc}" if several else str(exc))
            caps = caps_of[name]
            if caps is not None:
                try:
                    validate_request(request, caps)
                except ValidationError as exc:
                    problems.append(f"{name}/{request.model}: {exc}" if several else str(exc))
            verdict = self._admin.local_rules().check(request.prompt)
            reasons.extend(r for r in verdict.reasons if r not in reasons)
        if reasons:
            problems.append("Blocked by the moderation rules: " + "; ".join(reasons))
        cost = round(sum(self.estimate(r, name) for name, r in pairs), 4)
        spent = self.spent_today() if self._store.ready or not quick else None
        budget = self._admin.settings.daily_budget_usd
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

        `made_by`: who launched it (None: whoever `person` says is asking; "": nobody named), kept on the job."""
        return self._submit(request, provider or self._admin.active_provider_name, budget_checked=False,
                            made_by=self._who(made_by))

    def _who(self, made_by: str | None) -> str | None:
        """Who launches: `made_by` as given ("" is an answer already given: nobody named), else `person`'s answer."""
        return self._person() if made_by is None else made_by or None

    def _submit(self, request: JobRequest, provider_name: str, *, budget_checked: bool,
                made_by: str | None = None) -> Job:
        provider = self._admin.provider(provider_name)
        caps = provider.capabilities()
        source_remote_id = self._source_remote_id(request, provider_name)
        if request.kind is JobKind.EXTEND and caps.extend_source == "cloud_storage":
            self._cloud_storage_source(request)
        validate_request(request, caps)
        self._moderate(request.prompt, provider, caps)
        cost = self.estimate(request, provider_name)
        if not budget_checked:
            check_budget(cost, self.spent_today(), self._admin.settings.daily_budget_usd)
        now = self._clock()
        job = Job(
            id=new_job_id(),
            provider=provider_name,
            model=request.model,
            prompt=request.prompt.strip(),
            kind=request.kind,
            size=request.size,
            seconds=request.seconds,
            params=params_of(request),
            source_job_id=request.source_job_id,
            group_id=request.group_id,
            axes=dict(request.axes),
            tags=list(request.tags),
            cost_estimate=cost,
            created_at=now,
            updated_at=now,
            deadline_at=now + self._tracker.policy.deadline,
            made_by=made_by or "",
        )
        tracker, store = self._tracker, self._store
        tracker.hold(job.id)
        gate = tracker.sends.admit(job)
        if not gate.ok:  # the provider's limit or Retry-After holds, or older takes wait: in line, sent later
            job.status, job.wait_reason, job.next_try_at = JobStatus.WAITING, gate.reason, gate.next_try_at
            store.insert(job)
            tracker.track(job.id, first_poll_in=max(0.0, gate.next_try_at - now))
            return job
        store.insert(job)
        try:
            remote = provider.submit(request, source_remote_id=source_remote_id)
        except BaseException as exc:
            if isinstance(exc, Exception) and (wait := wait_for(exc)) is not None:
                try:
                    job = tracker.sends.refused(job, wait)  # nothing was made: it waits, in line
                finally:
                    tracker.sends.sent(job)
                tracker.track(job.id, first_poll_in=max(0.0, (job.next_try_at or now) - self._clock()))
                return job
            tracker.sends.sent(job)
            if not may_have_arrived(exc):
                store.delete(job.id)
                tracker.release(job.id)
                raise
            log.warning("submit of %s unconfirmed: %s", job.id, exc)
            said = str(exc) or type(exc).__name__
            job = store.update(
                job.id,
                error=JobError(
                    f"The server did not confirm the job ({said}); looking for it before anything is resent.",
                    "unconfirmed",
                ),
            )
            tracker.track(job.id, first_poll_in=2.0)
            if isinstance(exc, Exception):
                return job
            raise  # an interrupt or exit goes on; the job stays, unconfirmed
        try:
            job = tracker.sends.made(job, remote)
        finally:
            tracker.sends.sent(job)  # after: the job now counts as at the provider, so its slot stays taken
        tracker.track(job.id, first_poll_in=remote.poll_after)
        return job

    def send_waiting(self, job: Job) -> RemoteVideo:
        """The create of a take that waited (the send queue calls this): its request, rebuilt from the record."""
        request = again(job)
        source_remote_id = self._source_remote_id(request, job.provider)
        return self._admin.provider(job.provider).submit(request, source_remote_id=source_remote_id)

    def cancel(self, job_id: str) -> Job:
        """Cancel a take that waits to be sent: nothing was made, so nothing is paid; it is marked failed."""
        store, tracker = self._store, self._tracker
        job = store.require(job_id)
        if job.status is not JobStatus.WAITING:
            raise ValidationError(f"{job.id} is {job.status.label}: only a take waiting to be sent can be cancelled.")
        if not tracker.leases.claim(store, job_id, tracker.owner):
            raise ValidationError(f"{job.id} is being sent right now by another process; look again in a moment.")
        job = store.require(job_id)  # as the claim found it: it may have been sent just now
        if job.status is not JobStatus.WAITING:
            store.release(job_id, tracker.owner)
            raise ValidationError(f"{job.id} was sent meanwhile ({job.status.label}); it can no longer be cancelled.")
        return store.update(job_id, status=JobStatus.FAILED, next_try_at=None, error=JobError(
            f"Cancelled while waiting to send ({job.wait_reason}); nothing was made.", "cancelled"))

    def launch(
        self, requests: Iterable[JobRequest], *, concurrency: int | None = None, provider: str | None = None,
        made_by: str | None = None,
    ) -> LaunchResult:
        """Submit several takes with bounded concurrency, after one check of them all together."""
        name = provider or self._admin.active_provider_name
        return self.launch_each([(name, r) for r in requests], concurrency=concurrency, made_by=made_by)

    def launch_each(self, pairs: Iterable[tuple[str, JobRequest]], *, concurrency: int | None = None,
                    made_by: str | None = None) -> LaunchResult:
        """`launch` across providers (a shoot-out): each request to its provider, after one check of all.

        Nothing is sent unless every request passes (validation, moderation, one budget for the batch).
        """
        batch = list(pairs)
        who = self._who(made_by)  # asked here: the pool's threads do not know the session
        preflight = self.preflight_each(batch)
        if not preflight.ok:
            raise ValidationError(" ".join(preflight.problems))
        result = LaunchResult()
        workers = max(1, min(concurrency or self._admin.settings.max_concurrency, len(batch) or 1))
        with ThreadPoolExecutor(workers, thread_name_prefix="dailies-launch") as pool:
            futures = [(r, pool.submit(self._submit, r, name, budget_checked=True, made_by=who)) for name, r in batch]
            for request, future in futures:
                try:
                    result.jobs.append(future.result())
                except Exception as exc:  # each take stands alone; the page lists what failed
                    result.errors.append((request, exc))
        return result

    def _moderate(self, prompt: str, provider: VideoProvider, caps: Capabilities) -> None:
        verdict = self._admin.local_rules().check(prompt)
        if not verdict.allowed:
            raise ModerationBlocked(list(verdict.reasons))
        if caps.moderation and self._admin.settings.use_provider_moderation:
            remote = provider.moderate(prompt)
            if remote is not None and not remote.allowed:
                raise ModerationBlocked([f"{remote.source}: {', '.join(remote.reasons)}"])

    def _cloud_storage_source(self, request: JobRequest) -> None:
        """For a provider that extends only a video in Cloud Storage (Veo): the source take's `gs://` URI when
        the team's bucket is Google Cloud Storage and the take is safely in it; otherwise the provider says why."""
        source = self._store.get(request.source_job_id) if request.source_job_id else None
        video = source.files.get("video") if source is not None else None
        if video is not None and (uri := cloud_storage_uri(self._admin.settings.bucket, video)):
            request.reference_path = uri

    def _source_remote_id(self, request: JobRequest, provider_name: str) -> str | None:
        """The provider's id of the source job, or None when the source must be uploaded as a file."""
        if not request.source_job_id:
            return None
        source = self._store.get(request.source_job_id)
        if source is None:
            raise ValidationError(f"No job with id {request.source_job_id!r}.", field="source")
        if request.kind is JobKind.REMIX and source.provider != provider_name:
            raise ValidationError("A remix must be made by the provider that made its source.", field="source")
        if source.status is not JobStatus.COMPLETED:
            raise ValidationError(f"The source job is {source.status}; it must be completed first.", field="source")
        if source.provider == provider_name and source.remote_id and not _expired(source, self._clock()):
            return source.remote_id
        if request.kind is JobKind.REMIX:
            raise ValidationError("The source video has expired at the provider; remix is not possible.")
        video = source.files.get("video")
        if video is None:
            raise ValidationError("The source job has no local video to upload.", field="source")
        request.reference_path = str(self._media.resolve(video.path))
        return None


def _expired(job: Job, now: float) -> bool:
    return bool(job.expires_at and job.expires_at <= now)
