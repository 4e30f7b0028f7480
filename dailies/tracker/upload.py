"""Copies in the team's bucket: a completed take's files go up after its download, and a failed upload is
tried again with backoff while the local copy stays untouched (the take is complete either way).

The uploads still to do are a `RetryQueue` over the store's `bucket_uploads` table: a failing upload's attempts
and next time survive a restart (the resume queues every take still to upload again, keeping those).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dailies.backoff import Backoff
from dailies.bucket import Bucket, BucketError, needs_upload, upload_job
from dailies.jobs import Job, JobStatus
from dailies.retry_queue import RetryQueue, RetrySchedule
from dailies.tracker.context import TrackerContext
from dailies.tracker.policy import PollPolicy

log = logging.getLogger(__name__)

UPLOAD_TABLE = "bucket_uploads"
UPLOAD_RETRY_CAP = 300.0
"""A bucket that keeps refusing is asked again at most every 5 minutes per take (a wrong key stays wrong)."""


def upload_schedule(policy: PollPolicy) -> RetrySchedule:
    """Tried until it goes, the wait after the n-th failure `first * growth ** n` of the poll policy (as it is
    now: the studio replaces it on new settings), up to `UPLOAD_RETRY_CAP`."""
    return RetrySchedule(None, Backoff(policy.first * policy.growth, UPLOAD_RETRY_CAP, policy.growth))


class Uploader:
    """The bucket-upload queue. Thread-safe."""

    def __init__(self, ctx: TrackerContext, bucket: Callable[[], Bucket | None]) -> None:
        """`bucket`: the team's bucket as configured now (None: none), asked for each upload."""
        self.ctx = ctx
        self.configured = bucket
        self.retries = RetryQueue(ctx.store.table(UPLOAD_TABLE), lambda: upload_schedule(ctx.policy),
                                  clock=ctx.clock)
        """Completed jobs whose files are still to go up: tried again with backoff, the local copy untouched
        meanwhile."""

    def bucket(self) -> Bucket | None:
        """The bucket now, or None when there is none or its settings are wrong."""
        try:
            return self.configured()
        except BucketError as exc:  # an unknown profile, say: the pages show it in Settings
            log.warning("no bucket: %s", exc)
            return None

    def failing(self, job_id: str) -> bool:
        """The job's files are waiting for another try at the bucket."""
        return self.retries.pending(job_id)

    def upload(self, job_id: str) -> Job | None:
        """Upload a completed job's files not in the bucket yet (now, in this thread); on failure schedule a retry.

        The job stays completed either way: its local copy is verified and untouched. A failure is
        recorded on the job (`params["bucket_error"]`, shown on its card) until an upload works.
        """
        ctx = self.ctx
        job = ctx.store.get(job_id)
        bucket = self.bucket()
        if job is None or job.status is not JobStatus.COMPLETED or bucket is None or not needs_upload(job, ctx.media):
            self.retries.forget(job_id)
            return job
        try:
            files = upload_job(bucket, ctx.media, job)
        except BucketError as exc:
            ctx.stats.upload_errors += 1
            tried = self.retries.failed(job_id, error=str(exc))
            self._wake()
            log.info("upload of %s failed (try %d): %s", job_id, tried["attempts"], exc)
            current = ctx.store.require(job_id)  # a rating or tag may have landed while the upload ran
            return ctx.store.update(job_id, params={**current.params, "bucket_error": str(exc)})
        ctx.stats.uploads += 1
        self.retries.forget(job_id)
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
        """Upload the job's files from the loop, now (a try already waiting keeps its time, and its attempts).

        Nothing is written until a try fails: the resume finds every take still to upload again after a restart.
        """
        if not self.retries.pending(job_id):
            self.retries.put(job_id, record=False)
        self._wake()

    def due(self) -> list[str]:
        """Uploads whose retry is due, marked in flight."""
        return [job_id for job_id, _ in self.retries.due(self.ctx.clock())]

    def waiting_until(self) -> list[float]:
        """When each upload not in flight is next due."""
        return self.retries.waiting_until()

    def upload_safely(self, job_id: str) -> None:
        """One due upload in the pool: an unexpected error backs it off instead of spinning on it."""
        try:
            self.upload(job_id)
        except Exception as exc:
            log.exception("uploading %s failed", job_id)
            if self.retries.pending(job_id):
                self.retries.failed(job_id, error=f"{type(exc).__name__}: {exc}", retry_after=self.ctx.policy.cap)
        finally:
            self.retries.release(job_id, self.ctx.policy.cap)  # when even that failed (the store gone, say)
            self._wake()

    def _wake(self) -> None:
        """Tell the loop: an upload's time changed."""
        with self.ctx.cond:
            self.ctx.cond.notify_all()
