"""Jobs whose create never answered (the app died mid-submit, or the answer was lost): looked for among the
provider's videos and adopted when found, never sent again; failed when the provider's list shows it was never
made, and marked as needing a look when only a person can find out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from dailies.errors import APIError, NotSupported, RequestRefused
from dailies.jobs import Job, JobError, JobKind, JobStatus
from dailies.providers.base import VideoProvider
from dailies.tracker.context import Schedule, TrackerContext

log = logging.getLogger(__name__)


class Reconciler:
    """Finds the jobs a provider has that we never confirmed. Thread-safe: adoptions run under one lock."""

    def __init__(self, ctx: TrackerContext) -> None:
        self.ctx = ctx
        self._adopting = threading.Lock()
        """Held while unconfirmed jobs are matched to listed videos, so no video is adopted twice."""

    def unconfirmed(self, job: Job, sched: Schedule, now: float) -> Job:
        """One step for a job whose create never answered.

        Look for it among the provider's videos and adopt it when found; never send it again. When the
        provider cannot list, or its list keeps failing (three times in a row once the job's grace
        period is over, or at its deadline), the job needs a look: it may exist and be paid for. When
        the provider listed its videos after the send and the job was not among them, it was never
        made, and it fails once the grace period is over.
        """
        ctx = self.ctx
        give_up_at = self._give_up_at(job)
        try:
            adopted = self.adopt(ctx.providers(job.provider), job.provider)
        except NotSupported as exc:
            ctx.count(job.id, sched, error=exc)
            return self._needs_look(job, f"The provider cannot list its videos ({exc}), so this job cannot be "
                                         "found there automatically.")
        except (APIError, RequestRefused) as exc:  # refused: its provider is no longer configured
            ctx.count(job.id, sched, error=exc)
            sched.failures += 1
            past_deadline = now >= self._deadline(job)
            if now >= give_up_at and sched.listed:
                return self._not_made(job)
            if past_deadline or (now >= give_up_at and sched.failures >= 3):
                return self._needs_look(job, f"The provider's list of videos kept failing ({exc}).")
            sched.next_at = now + ctx.policy.next_delay(sched.failures)
            if now < give_up_at:
                sched.next_at = min(sched.next_at, give_up_at)
            return ctx.store.get(job.id) or job
        sched.failures = 0
        ctx.count(job.id, sched)
        current = ctx.store.get(job.id)
        if current is None or current.remote_id is not None or not current.is_active:
            sched.next_at = now
            return current
        sched.listed = True
        if now >= give_up_at:
            return self._not_made(current)
        if adopted:  # others were found: look again soon for the rest, which may simply be slower
            sched.polls = 0
        sched.next_at = min(now + ctx.policy.next_delay(sched.polls), give_up_at)
        sched.polls += 1
        return current

    def _deadline(self, job: Job) -> float:
        """When a job still running is timed out: its own deadline, or the policy's from its creation."""
        return job.deadline_at if job.deadline_at is not None else job.created_at + self.ctx.policy.deadline

    def adopt(self, provider: VideoProvider, name: str) -> set[str]:
        """Match every unconfirmed job of one provider to the videos it lists; returns the adopted job ids.

        A video is a job's when everything sent agrees (prompt, model, size, seconds, kind and source)
        and it was made around the job's send time. Pairs are taken closest in time first, under one
        lock and against the store's claims, so takes of one prompt each adopt their own video and no
        video is adopted twice. A video that could be the answer of a create still on the wire is left
        for that create.
        """
        store = self.ctx.store
        with self._adopting:
            waiting = [
                j for j in store.active()
                if j.provider == name and j.remote_id is None and j.id not in self.ctx.held
                and j.status is not JobStatus.WAITING  # never sent: nothing to look for
            ]
            if not waiting:
                return set()
            on_wire = [j for j in map(store.get, list(self.ctx.held)) if j is not None and j.provider == name]
            claimed = {j.remote_id for j in store.all() if j.remote_id}
            oldest = min(_sent_at(j) for j in waiting) - self.ctx.policy.clock_slack
            videos: list[tuple[float, dict[str, Any]]] = []
            older_in_a_row = 0
            for video in _list_videos(provider):
                created = _number(video.get("created_at"))
                if created is not None and created < oldest:
                    older_in_a_row += 1
                    if older_in_a_row >= 100:  # a page of older videos: newest-first lists hold none of ours
                        break
                    continue
                older_in_a_row = 0
                if created is not None and video.get("id") and str(video["id"]) not in claimed:
                    videos.append((created, video))
            pairs = sorted(
                (abs(created - _sent_at(job)), _sent_at(job), n, job, video)
                for job in waiting
                for n, (created, video) in enumerate(videos)
                if self._could_be(job, video, created)
            )
            adopted: dict[str, str] = {}
            for _, _, _, job, video in pairs:
                remote_id = str(video["id"])
                if job.id in adopted or remote_id in adopted.values():
                    continue
                if any(self._could_be(other, video, _number(video.get("created_at")) or 0.0) for other in on_wire):
                    continue
                log.info("adopting %s for unconfirmed job %s", remote_id, job.id)
                store.update(
                    job.id,
                    remote_id=remote_id,
                    status=JobStatus.QUEUED,
                    error=None,
                    params={**job.params, "adopted": True},
                )
                adopted[job.id] = remote_id
            if adopted:
                self.ctx.due_now(adopted)
            return set(adopted)

    def _could_be(self, job: Job, video: dict[str, Any], created: float) -> bool:
        """Whether a listed video agrees with everything this job sent, and was made around its send."""
        sent_at = _sent_at(job)
        policy = self.ctx.policy
        if not sent_at - policy.clock_slack <= created <= sent_at + policy.adopt_window:
            return False
        if str(video.get("prompt") or "").strip() != job.prompt.strip():
            return False
        model = str(video.get("model") or "")
        if model and job.model and model.rsplit("/", 1)[-1] != job.model.rsplit("/", 1)[-1]:
            return False
        size = str(video.get("size") or "")
        if size and job.size and size != job.size:
            return False
        source = self.ctx.store.get(job.source_job_id) if job.source_job_id else None
        seconds = _number(video.get("seconds"))
        expected: float | None = job.seconds or None
        if job.kind is JobKind.EXTEND:  # the answer is the whole clip: the source and what was added
            expected = source.seconds + job.seconds if source is not None else None
        if seconds is not None and expected is not None and seconds != expected:
            return False
        remixed_from = video.get("remixed_from_video_id")
        if job.kind is JobKind.REMIX:
            return "remixed_from_video_id" not in video or (source is not None and remixed_from == source.remote_id)
        return not remixed_from

    def _not_made(self, job: Job) -> Job:
        """The provider listed its videos after the send and this job was not among them: never made."""
        said = f" The send ended with: {job.error.message}" if job.error else ""
        return self.ctx.fail(
            job,
            JobError(
                "The provider never confirmed this job and does not list it, so it was not made and was "
                f"not sent again; retry it from History.{said}",
                "unconfirmed",
            ),
        )

    def _give_up_at(self, job: Job) -> float:
        """When looking for an unconfirmed job stops: its grace period from the send (or the last
        re-check), and never later than its deadline."""
        looked_from = float(job.params.get("looked_from") or job.created_at)
        return min(looked_from + self.ctx.policy.unconfirmed_grace, self._deadline(job))

    def _needs_look(self, job: Job, why: str) -> Job:
        said = f" The send ended with: {job.error.message}" if job.error and job.error.code == "unconfirmed" else ""
        return self.ctx.store.update(
            job.id,
            status=JobStatus.NEEDS_LOOK,
            error=JobError(
                f"{why} It may exist at the provider and be paid for, so it was not sent again: re-check it, "
                "attach the provider's video id, mark it failed, or retry it knowing it may be made twice."
                f"{said}",
                "needs_look",
            ),
        )


def _sent_at(job: Job) -> float:
    """When the job's create left: its creation, or later when it waited in the send queue first."""
    return float(job.params.get("sent_at") or job.created_at)


def _list_videos(provider: VideoProvider) -> Iterator[dict[str, Any]]:
    """The provider's videos, newest first; `NotSupported` when its capabilities say it lists none."""
    try:
        listed = provider.capabilities().list_videos
    except RequestRefused:  # a provider that cannot be built here (no key...) lists nothing
        listed = False
    if not listed:
        raise NotSupported(f"{provider.label} has no list of videos")
    return iter(provider.list_videos())


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
