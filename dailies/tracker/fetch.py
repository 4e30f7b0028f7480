"""Downloads of a finished job's files: each variant the provider serves, checked, then a thumbnail of our own
when it has none, and the copy in the bucket right after."""

from __future__ import annotations

import dataclasses
import logging

from dailies.errors import APIError, NotFoundError, RateLimitError
from dailies.jobs import FileRecord, Job, JobError, JobStatus
from dailies.media import make_thumbnail, probe_video, sniff_type
from dailies.providers.base import VideoProvider
from dailies.tracker.context import Schedule, TrackerContext
from dailies.tracker.upload import Uploader

log = logging.getLogger(__name__)


class WrongContent(ValueError):
    """A content variant came back as something else (a gateway that ignores `variant`): not kept."""


class Fetcher:
    """Fetches a completed job's files into the media folder; a failed download is tried again with backoff
    up to `PollPolicy.download_attempts` times."""

    def __init__(self, ctx: TrackerContext, uploads: Uploader) -> None:
        self.ctx = ctx
        self.uploads = uploads

    def download(self, job: Job, sched: Schedule) -> Job:
        """Fetch every variant not here yet; complete the job when its video is here, else schedule a retry."""
        assert job.remote_id is not None
        ctx = self.ctx
        provider = ctx.providers(job.provider)
        variants = provider.capabilities().variants
        files = dict(job.files)
        try:
            for variant in variants:
                if variant in files and ctx.media.present(files[variant]):
                    continue
                try:
                    files[variant] = self._fetch(provider, job, variant)
                except NotFoundError:
                    if variant == "video":
                        raise
                    log.info("%s has no %s; skipping it", job.id, variant)
                except WrongContent as exc:
                    log.info("%s: %s; not kept", job.id, exc)
                    provider.drop_variant(variant)
            if "thumbnail" not in files and "video" in files:
                files["thumbnail"] = self._local_thumbnail(job, files["video"])
        except NotFoundError as exc:
            return ctx.fail(
                job, JobError(f"The video could not be downloaded: {exc.message}", exc.code or "not_found")
            )
        except (APIError, ValueError, OSError) as exc:
            sched.failures += 1
            ctx.count(job.id, sched, error=exc)
            if sched.failures >= ctx.policy.download_attempts:
                return ctx.fail(job, JobError(f"Download failed {sched.failures} times: {exc}", "download_failed"))
            hint = exc.retry_after if isinstance(exc, RateLimitError) else None
            sched.next_at = ctx.clock() + ctx.policy.next_delay(sched.failures, hint=hint)
            if files != job.files:
                ctx.store.update(job.id, files=files)
            return job
        ctx.stats.downloads += 1
        sched.failures = 0
        job = ctx.store.update(job.id, status=JobStatus.COMPLETED, files=files, progress=100, error=None)
        if self.uploads.bucket() is not None:  # complete here already; the copy in the bucket follows at once
            return self.uploads.upload(job.id) or job
        return job

    def _fetch(self, provider: VideoProvider, job: Job, variant: str) -> FileRecord:
        assert job.remote_id is not None
        ctx = self.ctx
        dest = ctx.media.path_for(job.id, variant)
        ctx.leases.claim(ctx.store, job.id, ctx.owner)  # renewed while a long download runs
        ctx.count(job.id, ctx.schedule(job.id))
        record = provider.download(job.remote_id, variant, dest)
        if variant != "video":
            found = sniff_type(dest)
            if found is None or not found.startswith("image/"):
                dest.unlink(missing_ok=True)
                raise WrongContent(f"the provider's {variant} is {found or 'not an image'}")
            record = dataclasses.replace(record, content_type=found)
        final = ctx.media.path_for(job.id, variant, record.content_type)
        if final != dest:
            dest.replace(final)
        # Probing raises ValueError when the bytes are not a playable video; the length it reads is kept.
        duration = round(probe_video(final).duration, 3) if variant == "video" else None
        return FileRecord(ctx.media.relative(final), record.size, record.sha256, record.content_type, duration)

    def _local_thumbnail(self, job: Job, video: FileRecord) -> FileRecord:
        """Every take gets a thumbnail: made from its video when the provider serves none (or a wrong one)."""
        media = self.ctx.media
        record = make_thumbnail(media.resolve(video.path), media.path_for(job.id, "thumbnail", "image/webp"))
        return dataclasses.replace(record, path=media.relative(record.path))
