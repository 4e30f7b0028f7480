"""What survives a restart: every unfinished job is scheduled again from the store, a finished take whose file
went missing is sent back to download, and a completed take not yet in the bucket is queued for upload."""

from __future__ import annotations

import logging
import threading

from dailies.bucket import needs_upload
from dailies.jobs import ACTIVE_STATUSES, Job, JobError, JobKind, JobStatus
from dailies.tracker.context import TrackerContext
from dailies.tracker.upload import Uploader

log = logging.getLogger(__name__)


class Resumer:
    """Picks up the store's jobs after a start."""

    def __init__(self, ctx: TrackerContext, uploads: Uploader) -> None:
        self.ctx = ctx
        self.uploads = uploads
        self.files_checked = threading.Event()
        """Set once finished takes have been looked for their files after a start (`refetch_missing`): until
        then, a finished take without its file may yet be sent back to download."""

    def resume(self, *, check_files: bool = True) -> int:
        """Schedule every unfinished job now, and (with `check_files`) send finished jobs with a missing
        file back to download. Returns how many jobs are active."""
        ctx = self.ctx
        now = ctx.clock()
        count = 0
        bucket = self.uploads.bucket()
        with ctx.store.batch():
            for job in ctx.store.all():
                if check_files and self.files_missing(job):
                    if self._assembly_lost(job):
                        continue
                    ctx.store.update(job.id, status=JobStatus.DOWNLOADING)
                    job = ctx.store.require(job.id)
                if job.status in ACTIVE_STATUSES:
                    ctx.schedule(job.id).next_at = now
                    count += 1
                elif bucket is not None and job.status is JobStatus.COMPLETED and needs_upload(job, ctx.media):
                    self.uploads.queue(job.id)
        return count

    def files_missing(self, job: Job) -> bool:
        """A finished take whose files should be here and are not (nor were they removed on purpose, nor
        dropped here after being checked safe in the bucket, from where they play)."""
        return (
            job.status is JobStatus.COMPLETED
            and not job.params.get("files_removed_at")
            and not (job.has_video and all(self.ctx.media.present(rec) or rec.in_bucket for rec in job.files.values()))
        )

    def refetch_missing(self) -> None:
        """Send every finished take with a missing file back to download (the background half of a start).

        Looking for every finished take's files is two file-system calls per file: at 100,000 jobs, seconds
        that the app's first page would otherwise wait for. A take found missing is sent back to download as
        soon as it is found.
        """
        ctx = self.ctx
        try:
            for job in ctx.store.all():
                if ctx.stopping:
                    return
                if not self.files_missing(job):
                    continue
                current = ctx.store.get(job.id)
                if current is None or not self.files_missing(current):
                    continue  # changed meanwhile (fetched again, removed, deleted)
                if self._assembly_lost(current):
                    continue
                ctx.store.update(job.id, status=JobStatus.DOWNLOADING)
                ctx.due_now([job.id])
        except Exception:  # a read-only store, say: the take stays as it is, and the app keeps running
            log.exception("looking for finished takes' files failed")
        finally:
            self.files_checked.set()

    def _assembly_lost(self, job: Job) -> bool:
        """An assembly joined here has no provider to fetch it from again: it fails, saying what to do."""
        if job.kind is not JobKind.ASSEMBLE:
            return False
        self.ctx.store.update(job.id, status=JobStatus.FAILED, error=JobError(
            "The assembled file is missing; assemble the board again.", "missing_file"))
        return True
