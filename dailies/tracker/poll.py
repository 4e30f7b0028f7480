"""Asking the provider about a sent job, and applying its answer: progress and the next poll's time, a download
once it has completed, its reason once it has failed, a time-out past the job's deadline. Takes waiting for their
provider's limits are handed to the send queue here too."""

from __future__ import annotations

from typing import Any

from dailies.errors import APIError, NotFoundError, RateLimitError, retry_after_seconds
from dailies.jobs import Job, JobError, JobStatus
from dailies.providers.base import RemoteVideo
from dailies.tracker.context import Schedule, TrackerContext
from dailies.tracker.fetch import Fetcher
from dailies.tracker.safety_net import SafetyNet


class Poller:
    """One poll of one job. The caller holds the job's lease."""

    def __init__(self, ctx: TrackerContext, fetch: Fetcher, safety_net: SafetyNet) -> None:
        self.ctx = ctx
        self.fetch = fetch
        self.safety_net = safety_net

    def poll(self, job: Job, sched: Schedule, now: float) -> Job:
        """Time the job out past its deadline, or (unless the safety net puts it off) ask the provider about it."""
        ctx = self.ctx
        assert job.remote_id is not None
        if job.deadline_at is not None and now > job.deadline_at:
            return ctx.store.update(
                job.id,
                status=JobStatus.TIMED_OUT,
                error=JobError(
                    f"Still {job.status} after {ctx.policy.deadline / 60:.0f} minutes; "
                    "re-check it later from History.",
                    code="timed_out",
                ),
            )
        if self.safety_net.deferred(job, sched, now):
            return job
        provider = ctx.providers(job.provider)
        sched.asked_at = now
        try:
            remote = provider.refresh(job.remote_id)
        except NotFoundError as exc:
            return ctx.fail(job, JobError(f"The provider no longer has this video: {exc.message}", "not_found"))
        except APIError as exc:
            ctx.count(job.id, sched, error=exc)
            sched.failures += 1
            hint = exc.retry_after if isinstance(exc, RateLimitError) else retry_after_seconds(exc.headers)
            sched.next_at = ctx.clock() + ctx.policy.next_delay(sched.failures + sched.polls, hint=hint)
            return job
        ctx.count(job.id, sched)
        sched.failures = 0
        sched.last_error = None
        if remote.status in (JobStatus.COMPLETED, JobStatus.FAILED) and self.safety_net.pushing(job.provider):
            self.safety_net.missed_event(job, sched)
        if remote.status in (JobStatus.COMPLETED, JobStatus.FAILED):
            sched.pushed = None  # the provider confirmed an end (an event's, or its own)
        return self._apply(job, remote, sched)

    def send_waiting(self, job: Job, sched: Schedule, now: float) -> Job:
        """A take waiting for its provider: the send queue sends it when allowed, else says when to look again."""
        ctx = self.ctx
        job, next_try = ctx.sends.step(job)
        if next_try is not None:
            sched.next_at = max(next_try, now + 0.05)
        elif job.remote_id is not None:
            sched.asked_at = ctx.clock()
            sched.next_at = self.safety_net.next_poll(job, ctx.policy.first)
        else:  # sent, and the answer was lost or failed: looked for (the unconfirmed handling), never resent
            sched.next_at = ctx.clock() + 2.0
        return job

    def _apply(self, job: Job, remote: RemoteVideo, sched: Schedule) -> Job:
        ctx = self.ctx
        now = ctx.clock()
        changes: dict[str, Any] = {}
        if remote.expires_at:
            changes["expires_at"] = remote.expires_at
        if remote.status is JobStatus.FAILED:
            error = remote.error or JobError("The provider reported the job failed without a reason.")
            return ctx.fail(job, error, remote=remote.raw)
        if remote.status is JobStatus.COMPLETED:
            job = ctx.store.update(
                job.id,
                status=JobStatus.DOWNLOADING,
                progress=100,
                remote=remote.raw,
                completed_at=remote.completed_at or now,
                **changes,
                **({"seconds": remote.seconds} if remote.seconds else {}),
            )
            return self.fetch.download(job, sched)
        eta = sched.eta(now, remote.progress)
        if remote.status is not job.status or changes.get("expires_at", job.expires_at) != job.expires_at:
            job = ctx.store.update(
                job.id, status=remote.status, progress=remote.progress, remote=remote.raw, **changes
            )
        elif remote.progress != job.progress:
            job = ctx.store.set_progress(job.id, remote.progress) or job
        sched.polls += 1
        sched.next_at = self.safety_net.next_poll(
            job, ctx.policy.next_delay(sched.polls, hint=remote.poll_after, eta=eta), sched)
        return job
