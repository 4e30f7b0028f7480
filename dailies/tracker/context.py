"""What the scheduler and its workers share: the store and providers, the policy, each job's schedule, one lock.

Every worker is built from one `TrackerContext`; the scheduler owns it. `cond` guards the schedules, the held
set and each worker's own queue, and is notified whenever something becomes due sooner.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dailies.errors import NotSupported
from dailies.jobs import Job, JobError, JobStatus
from dailies.media import MediaLibrary
from dailies.providers.base import RemoteVideo, VideoProvider
from dailies.send_queue import SendQueue
from dailies.store import Store
from dailies.tracker.leases import LeasePolicy
from dailies.tracker.policy import PollPolicy


@dataclass
class Schedule:
    """One job's place in the polling schedule, and what the tracker learnt asking about it."""

    next_at: float = 0.0
    polls: int = 0
    requests: int = 0
    failures: int = 0
    progress_since: tuple[float, int] | None = None
    """(time, progress) when the job's progress was first seen above 0: where its rate is measured from."""
    last_error: str | None = None
    in_flight: bool = False
    listed: bool = False
    """An unconfirmed job was looked for in a full list of the provider's videos, and was not there."""
    pushed: str | None = None
    """The status a verified webhook event reported for this job ("completed" or "failed") that the provider has
    not confirmed yet: the job is asked about now, then on the normal schedule (not the safety net's) until
    the provider's answer says it has ended."""
    asked_at: float = 0.0
    """When the provider was last asked about this job (or it was sent): where the safety cap counts from."""

    def eta(self, now: float, progress: int) -> float | None:
        """Seconds left at the job's rate of progress since it was first seen moving, or None.

        The rate is taken over the whole span since that first sighting, not between the last two
        polls: progress comes in whole percent, and over a short gap that rounding (or a provider
        holding at 98 % while it finishes) would swing the estimate, or lose it, right at the end.
        Reported progress is rounded down, so the job is taken to be half a percent further on.
        """
        if progress <= 0 or progress >= 100:
            return None
        since = self.progress_since
        if since is None or progress < since[1]:
            self.progress_since = (now, progress)
            return None
        if progress == since[1]:
            return None
        rate = (progress - since[1]) / max(now - since[0], 1e-3)
        return max(0.0, (100 - progress - 0.5) / rate)


@dataclass
class TrackerStats:
    """What the tracker has done, for the sidebar and the benchmarks."""

    requests: int = 0
    downloads: int = 0
    uploads: int = 0
    upload_errors: int = 0
    errors: int = 0
    per_job_requests: dict[str, int] = field(default_factory=dict)


@dataclass
class TrackerContext:
    """The parts every worker is built from. `policy` and `sends` may be replaced while the tracker runs (the
    studio does, on new settings): workers read them from here at each step."""

    store: Store
    providers: Callable[[str], VideoProvider]
    media: MediaLibrary
    policy: PollPolicy
    clock: Callable[[], float]
    sends: SendQueue
    owner: str
    """This tracker's name on the jobs it works on (their lease in the store)."""
    leases: LeasePolicy
    """How long it holds a job, when it renews, when it asks again (the tracker's rules; the store keeps leases)."""
    stats: TrackerStats = field(default_factory=TrackerStats)
    cond: threading.Condition = field(default_factory=threading.Condition)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    """Jobs whose create is on the wire: left alone (no provider id yet, and not one whose answer was lost)."""
    stopping: bool = False

    @classmethod
    def build(
        cls,
        store: Store,
        providers: Callable[[str], VideoProvider],
        media: MediaLibrary,
        *,
        policy: PollPolicy | None = None,
        clock: Callable[[], float] = time.time,
        lease_s: float = LeasePolicy.ttl_s,
    ) -> TrackerContext:
        """A context with a new owner name on the store's leases, and a send queue without a sender until the
        studio gives the tracker one."""
        return cls(store, providers, media, policy or PollPolicy(), clock,
                   sends=SendQueue(store, _no_sender, clock=clock), owner=store.new_owner(),
                   leases=LeasePolicy(lease_s))

    def schedule(self, job_id: str) -> Schedule:
        return self.schedules.setdefault(job_id, Schedule())

    def due_now(self, job_ids: Iterable[str]) -> None:
        """Ask about these jobs at once (the loop wakes for them)."""
        with self.cond:
            now = self.clock()
            for job_id in job_ids:
                self.schedule(job_id).next_at = now
            self.cond.notify_all()

    def count(self, job_id: str, sched: Schedule, error: Exception | None = None) -> None:
        """One request to the provider about the job (and its error, when it failed)."""
        sched.requests += 1
        self.stats.requests += 1
        self.stats.per_job_requests[job_id] = sched.requests
        if error is not None:
            self.stats.errors += 1
            sched.last_error = str(error)

    def fail(self, job: Job, error: JobError, remote: dict[str, Any] | None = None) -> Job:
        extra = {"remote": remote} if remote is not None else {}
        return self.store.update(job.id, status=JobStatus.FAILED, error=error, **extra)


def _no_sender(job: Job) -> RemoteVideo:
    raise NotSupported("no sender for waiting takes: the studio gives the tracker one")
