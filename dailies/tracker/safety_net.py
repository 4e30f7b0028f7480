"""Webhooks first, polling as the safety net: while a provider's verified deliveries arrive, its jobs are asked
about only now and then; an event makes the tracker ask about its job at once.

Events only hasten: the provider's own answer, never an event, moves a job to a final state (an early or
reordered `video.completed` would otherwise fail a take whose video is not ready yet).
"""

from __future__ import annotations

import logging

from dailies.jobs import Job
from dailies.tracker.context import Schedule, TrackerContext

log = logging.getLogger(__name__)


class SafetyNet:
    """Which providers' deliveries arrive, and what that does to their jobs' schedule. Thread-safe."""

    def __init__(self, ctx: TrackerContext) -> None:
        self.ctx = ctx
        self._deliveries: dict[str, float] = {}
        """Provider name → when its last verified webhook delivery arrived (only while deliveries count)."""

    def delivery_arrived(self, provider: str) -> None:
        """A verified webhook delivery came from `provider`: its jobs are polled only as a safety net now."""
        with self.ctx.cond:
            self._deliveries[provider] = self.ctx.clock()

    def deliveries_stopped(self, provider: str) -> None:
        """Our endpoint at `provider` was removed: no event will come, so its jobs go back to their normal
        schedule now (asked about at once), not after the safety net's quiet period."""
        with self.ctx.cond:
            self._deliveries.pop(provider, None)
        self.ctx.due_now([job.id for job in self.ctx.store.active() if job.provider == provider])

    def pushing(self, provider: str) -> bool:
        """Whether `provider`'s deliveries arrive (one within `quiet_after`), so polling it can slow down."""
        last = self._deliveries.get(provider)
        return last is not None and self.ctx.clock() - last < self.ctx.policy.quiet_after

    def nudge(self, provider: str, remote_id: str, status: str) -> str | None:
        """A verified event says the provider's video `remote_id` is now `status`: ask about that job at once.

        The event only hastens: the provider's answer to that request decides what happens (a `completed`
        video is downloaded, a `failed` one failed with the provider's reason), and a job the provider says is
        still running is polled on its normal schedule until it ends, so an event that came early or out of
        order never makes a final state. Returns the job's id, or None when no active job here has that video
        (another data folder's, or already finished: nothing to do).

        A vendor whose remote ids are paths names the video by their last part (fal's deliveries carry the
        `request_id` of a `{owner}/{alias}/{request_id}` remote id), so that part matches too.
        """
        self.delivery_arrived(provider)
        job = next((j for j in self.ctx.store.active()
                    if j.provider == provider and _names_video(j.remote_id, remote_id)), None)
        if job is None:
            return None
        with self.ctx.cond:
            sched = self.ctx.schedule(job.id)
            sched.pushed = status if status in ("completed", "failed") else None
            sched.next_at = self.ctx.clock()
            self.ctx.cond.notify_all()
        return job.id

    def next_poll(self, job: Job, delay: float, sched: Schedule | None = None) -> float:
        """When to poll a job again: `delay` from now, or the safety net's interval while events arrive (unless
        an event said the job has ended and the provider has not confirmed it yet: then `delay`)."""
        if self.pushing(job.provider) and (sched is None or sched.pushed is None):
            delay = max(delay, self.ctx.policy.safety_net)
        return self.ctx.clock() + delay

    def deferred(self, job: Job, sched: Schedule, now: float) -> bool:
        """Put off a safety-net poll while the provider's deliveries keep arriving (see `PollPolicy.safety_net`):
        until they have been quiet for `safety_net`, and never past `safety_cap` since the job was last asked."""
        last = self._deliveries.get(job.provider)
        if sched.pushed is not None or last is None or not self.pushing(job.provider):
            return False
        quiet_at = last + self.ctx.policy.safety_net
        latest = sched.asked_at + self.ctx.policy.safety_cap
        if now >= quiet_at or now >= latest:
            return False
        sched.next_at = min(quiet_at, latest)
        return True

    def missed_event(self, job: Job, sched: Schedule) -> None:
        """A poll found a job finished that no event announced: deliveries are not arriving (lost, or the
        endpoint is gone), so this provider goes back to the normal schedule until the next one does."""
        if sched.pushed is None and self._deliveries.pop(job.provider, None) is not None:
            log.warning("no webhook event came for %s's finished job %s; polling %s normally again",
                        job.provider, job.id, job.provider)


def _names_video(job_remote_id: str | None, said: str) -> bool:
    """Whether a delivery's video id `said` is the job's remote id, or the last part of a path-like one."""
    if not job_remote_id or not said:
        return False
    return job_remote_id == said or job_remote_id.endswith("/" + said)
