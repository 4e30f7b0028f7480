"""The send queue: takes accepted and recorded here, waiting for their provider to allow the send.

A provider that limits its rate or its concurrent tasks answers a create with 429 (Runway beyond a tier's
concurrent tasks; Replicate and fal on creates), or its address refuses the connection. Those refusals
prove nothing was made, so the take is not lost and not failed: it is kept `waiting`, with the reason and
the time of its next try, and sent in order (oldest first) once the provider's `Retry-After` has passed
and it has a free slot under its concurrency limit (from Settings, or learned from a refusal that named
concurrency). Any other failure of a send keeps today's rules (`may_have_arrived` in `dailies/errors.py`):
one that may have arrived is never sent again from here.

The tracker drives this queue (it calls `step` for a waiting job it holds the lease of), so a waiting take
is sent by whichever process's tracker holds it, after a restart too: everything the queue needs to go on
is in the job record. The queue's own memory (when a provider may be asked again, what it taught us about
its limit) only spares needless refusals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dailies.backoff import Backoff
from dailies.errors import APIConnectionError, APIError, RateLimitError, may_have_arrived
from dailies.jobs import Job, JobError, JobStatus
from dailies.providers.base import RemoteVideo
from dailies.store import Store

AT_PROVIDER = frozenset({JobStatus.QUEUED, JobStatus.IN_PROGRESS})
"""Statuses in which a take occupies one of its provider's concurrent slots."""


@dataclass(frozen=True)
class Wait:
    """A refusal that proves nothing was made, and says "later"."""

    reason: str
    retry_after: float | None = None
    concurrency: bool = False
    """The provider named its limit of concurrent tasks (not only its rate)."""


def wait_for(error: BaseException) -> Wait | None:
    """Whether a failed send is a "not made, try later" (a Wait) rather than a failure.

    Only refusals that prove nothing was made qualify: a 429 (but not `insufficient_quota`, which no
    waiting cures) and a connection that never opened. A timeout, a dropped connection or a 5xx may have
    made the job, and stay with the unconfirmed handling, so nothing is ever sent twice.
    """
    if isinstance(error, RateLimitError) and error.code != "insufficient_quota":
        said = error.message or "too many requests"
        concurrency = "concurren" in f"{said} {error.code or ''}".lower()
        what = "the provider's limit of tasks at once" if concurrency else "the provider's rate limit"
        return Wait(f"{what} ({said})", error.retry_after, concurrency)
    if isinstance(error, APIConnectionError) and error.code == "connect_failed":
        return Wait("the provider does not answer at its address", None)
    return None


@dataclass(frozen=True)
class SendPolicy:
    """When to try a refused take again when the provider gave no Retry-After: backoff, capped."""

    first: float = 2.0
    cap: float = 60.0
    check_every: float = 1.0
    """How often a take waiting only for a free slot looks again (a slot frees when a take finishes)."""

    def delay(self, refusals: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        return Backoff(self.first, self.cap).delay(max(0, refusals - 1))


@dataclass(frozen=True)
class Gate:
    """May a take go now; if not, why and when to look again."""

    ok: bool
    reason: str = ""
    next_try_at: float = 0.0


class SendQueue:
    """Decides when waiting takes go, and sends them. Thread-safe; one per tracker.

    `send` makes the provider's create for a recorded job (the studio builds the request from it);
    `limits` says a provider's configured concurrency limit (None or 0: none).
    """

    def __init__(
        self,
        store: Store,
        send: Callable[[Job], RemoteVideo],
        *,
        limits: Callable[[str], int | None] = lambda _name: None,
        clock: Callable[[], float] = time.time,
        policy: SendPolicy | None = None,
    ) -> None:
        self.store = store
        self.send = send
        self.limits = limits
        self.clock = clock
        self.policy = policy or SendPolicy()
        self._lock = threading.Lock()
        self._not_before: dict[str, float] = {}
        self._learned: dict[str, int] = {}
        self._sending: dict[str, int] = {}

    # -- policy ------------------------------------------------------------------------------------

    def limit(self, provider: str) -> int | None:
        """The provider's concurrency limit: the smaller of Settings' and the one learned from a refusal."""
        known = [n for n in (self.limits(provider), self._learned.get(provider)) if n]
        return min(known) if known else None

    def at_provider(self, provider: str) -> int:
        """Takes of `provider` that occupy a slot there now (any process's), and sends on the wire here."""
        made = sum(1 for j in self.store.active() if j.provider == provider and j.remote_id and j.status in AT_PROVIDER)
        return made + self._sending.get(provider, 0)

    def _gate(self, job: Job, *, new: bool) -> Gate:
        """Call with `_lock` held. A new take waits behind the provider's waiting ones; a waiting take goes
        once the provider's Retry-After has passed and a slot is free for it after the older ones."""
        now = self.clock()
        not_before = max(self._not_before.get(job.provider, 0.0), 0.0 if new else (job.next_try_at or 0.0))
        ahead = [j for j in self.store.query(status=[JobStatus.WAITING])
                 if j.provider == job.provider and j.id != job.id and (j.created_at, j.id) < (job.created_at, job.id)]
        if now < not_before:
            return Gate(False, job.wait_reason or "the provider's rate limit", not_before)
        if new and ahead:
            return Gate(False, f"in line behind {len(ahead)} take(s) waiting for the provider", now)
        limit = self.limit(job.provider)
        if limit is not None and self.at_provider(job.provider) + len(ahead) >= limit:
            return Gate(False, f"the provider's limit of {limit} take(s) at once", now + self.policy.check_every)
        return Gate(True)

    # -- sending -----------------------------------------------------------------------------------

    def admit(self, job: Job) -> Gate:
        """For a take being accepted: may it be sent now? When it may, a slot is reserved for it (give it
        back with `sent`)."""
        with self._lock:
            gate = self._gate(job, new=True)
            if gate.ok:
                self._sending[job.provider] = self._sending.get(job.provider, 0) + 1
            return gate

    def sent(self, job: Job) -> None:
        """The send of `job` ended (whatever its outcome): its reserved slot is given back."""
        with self._lock:
            self._sending[job.provider] = max(0, self._sending.get(job.provider, 0) - 1)

    def refused(self, job: Job, wait: Wait) -> Job:
        """The provider refused `job` in a way that proves nothing was made: keep it waiting, and keep the
        provider waiting too (its Retry-After holds for every take of it, in order)."""
        now = self.clock()
        refusals = int(job.params.get("refusals", 0)) + 1
        next_try_at = now + self.policy.delay(refusals, wait.retry_after)
        with self._lock:
            self._not_before[job.provider] = max(self._not_before.get(job.provider, 0.0), next_try_at)
            if wait.concurrency:
                made = self.at_provider(job.provider) - self._sending.get(job.provider, 0)
                self._learned[job.provider] = max(1, made)  # what was at the provider when it said "no more"
        return self.store.update(job.id, status=JobStatus.WAITING, wait_reason=wait.reason, next_try_at=next_try_at,
                                 error=None, params={**job.params, "refusals": refusals})

    def wait(self, job: Job, gate: Gate) -> Job:
        """Record why `job` is not sent yet and when it looks again (only when that changed)."""
        if job.status is JobStatus.WAITING and job.wait_reason == gate.reason and job.next_try_at == gate.next_try_at:
            return job
        return self.store.update(job.id, status=JobStatus.WAITING, wait_reason=gate.reason,
                                 next_try_at=gate.next_try_at)

    def step(self, job: Job) -> tuple[Job, float | None]:
        """Send a waiting job if the provider allows it now. Call holding the job's lease.

        Returns the job as it now is and, while it waits, when to look at it again (None: it was sent, or
        failed, or is left to the unconfirmed handling).
        """
        with self._lock:
            gate = self._gate(job, new=False)
            if gate.ok:
                self._sending[job.provider] = self._sending.get(job.provider, 0) + 1
        if not gate.ok:
            return self.wait(job, gate), gate.next_try_at
        now = self.clock()
        # QUEUED without a provider id before the create leaves: should this process die mid-send, the take
        # is looked for at the provider (the unconfirmed handling), never sent again blindly.
        job = self.store.update(job.id, status=JobStatus.QUEUED, wait_reason="", next_try_at=None,
                                params={**job.params, "sent_at": now, "looked_from": now})
        try:  # the slot is given back only once the outcome is in the store (it then counts as at the provider)
            remote = self.send(job)
        except Exception as exc:
            outcome = self.failed(job, exc)
            return outcome, (outcome.next_try_at if outcome.status is JobStatus.WAITING else None)
        else:
            return self.made(job, remote), None
        finally:
            self.sent(job)

    def failed(self, job: Job, error: Exception) -> Job:
        """A queued send failed: wait again, fail (a refusal that proves nothing was made), or leave it to the
        unconfirmed handling (it may have arrived)."""
        wait = wait_for(error)
        if wait is not None:
            return self.refused(job, wait)
        said = str(error) or type(error).__name__
        if not may_have_arrived(error):
            code = error.code if isinstance(error, APIError) and error.code else "refused"
            return self.store.update(job.id, status=JobStatus.FAILED,
                                     error=JobError(f"The provider refused this take when it was sent: {said}", code))
        return self.store.update(job.id, error=JobError(
            f"The server did not confirm the job ({said}); looking for it before anything is resent.", "unconfirmed"))

    def made(self, job: Job, remote: RemoteVideo) -> Job:
        """The provider accepted the create: the job now has its provider id."""
        return self.store.update(
            job.id,
            remote_id=remote.remote_id,
            status=remote.status,
            progress=remote.progress,
            remote=remote.raw,
            error=None,
            model=remote.model or job.model,
            seconds=remote.seconds or job.seconds,
            size=remote.size or job.size,
        )
