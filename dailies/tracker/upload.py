"""Copies in the team's bucket: a completed take's files go up after its download, and a failed upload is
tried again with backoff while the local copy stays untouched (the take is complete either way)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from dailies.backoff import Backoff
from dailies.bucket import Bucket, BucketError, needs_upload, upload_job
from dailies.jobs import Job, JobStatus
from dailies.tracker.context import TrackerContext

log = logging.getLogger(__name__)

UPLOAD_RETRY_CAP = 300.0
"""A bucket that keeps refusing is asked again at most every 5 minutes per take (a wrong key stays wrong)."""


@dataclass
class PendingUpload:
    """A completed job whose files are still to go up to the bucket (after a failed try)."""

    next_at: float = 0.0
    failures: int = 0
    in_flight: bool = False


class Uploader:
    """The bucket-upload queue. Thread-safe: its queue is guarded by the context's `cond`."""

    def __init__(self, ctx: TrackerContext, bucket: Callable[[], Bucket | None]) -> None:
        """`bucket`: the team's bucket as configured now (None: none), asked for each upload."""
        self.ctx = ctx
        self.configured = bucket
        self._pending: dict[str, PendingUpload] = {}
        """Completed jobs whose upload failed: tried again with backoff, the local copy untouched meanwhile."""

    def bucket(self) -> Bucket | None:
        """The bucket now, or None when there is none or its settings are wrong."""
        try:
            return self.configured()
        except BucketError as exc:  # an unknown profile, say: the pages show it in Settings
            log.warning("no bucket: %s", exc)
            return None

    def failing(self, job_id: str) -> bool:
        """The job's files are waiting for another try at the bucket."""
        with self.ctx.cond:
            return job_id in self._pending

    def upload(self, job_id: str) -> Job | None:
        """Upload a completed job's files not in the bucket yet (now, in this thread); on failure schedule a retry.

        The job stays completed either way: its local copy is verified and untouched. A failure is
        recorded on the job (`params["bucket_error"]`, shown on its card) until an upload works.
        """
        ctx = self.ctx
        job = ctx.store.get(job_id)
        bucket = self.bucket()
        if job is None or job.status is not JobStatus.COMPLETED or bucket is None or not needs_upload(job, ctx.media):
            with ctx.cond:
                self._pending.pop(job_id, None)
            return job
        try:
            files = upload_job(bucket, ctx.media, job)
        except BucketError as exc:
            ctx.stats.upload_errors += 1
            with ctx.cond:
                up = self._pending.setdefault(job_id, PendingUpload())
                up.failures += 1
                retry = Backoff(ctx.policy.first, UPLOAD_RETRY_CAP, ctx.policy.growth)
                up.next_at = ctx.clock() + retry.delay(up.failures)
                ctx.cond.notify_all()
            log.info("upload of %s failed (try %d): %s", job_id, up.failures, exc)
            current = ctx.store.require(job_id)  # a rating or tag may have landed while the upload ran
            return ctx.store.update(job_id, params={**current.params, "bucket_error": str(exc)})
        ctx.stats.uploads += 1
        with ctx.cond:
            self._pending.pop(job_id, None)
        current = ctx.store.require(job_id)  # a rating or tag may have landed while the upload ran
        merged = {name: files[name] if name in files and files[name].path == rec.path else rec
                  for name, rec in current.files.items()}
        params = {k: v for k, v in current.params.items() if k != "bucket_error"}
        return ctx.store.update(job_id, files=merged, params=params)

    def soon(self, job_id: str) -> None:
        """Send a file made here (an assembly) to the bucket in the background, as a download's would go."""
        if self.bucket() is None:
            return
        self.queue(job_id)

    def queue(self, job_id: str) -> None:
        """Upload the job's files from the loop, now (a try already waiting keeps its time)."""
        with self.ctx.cond:
            self._pending.setdefault(job_id, PendingUpload(next_at=self.ctx.clock()))
            self.ctx.cond.notify_all()

    def due(self) -> list[str]:
        """Uploads whose retry is due, marked in flight. Call with `cond` held."""
        now = self.ctx.clock()
        due = [job_id for job_id, up in self._pending.items() if not up.in_flight and up.next_at <= now]
        for job_id in due:
            self._pending[job_id].in_flight = True
        return due

    def waiting_until(self) -> list[float]:
        """When each upload not in flight is next due. Call with `cond` held."""
        return [up.next_at for up in self._pending.values() if not up.in_flight]

    def upload_safely(self, job_id: str) -> None:
        """One due upload in the pool: an unexpected error backs it off instead of spinning on it."""
        try:
            self.upload(job_id)
        except Exception:
            log.exception("uploading %s failed", job_id)
            with self.ctx.cond:
                up = self._pending.get(job_id)
                if up:
                    up.failures += 1
                    up.next_at = self.ctx.clock() + self.ctx.policy.cap
        finally:
            with self.ctx.cond:
                up = self._pending.get(job_id)
                if up:
                    up.in_flight = False
                self.ctx.cond.notify_all()
