"""The team's takes once made: reading them, their review marks, and what a person may do to one afterwards
(download it again, look again, say it was not made, give it its video id, delete it, send it again, clean up)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dailies.errors import NotFoundError, NotSupported, ValidationError
from dailies.jobs import Job, JobError, JobStatus
from dailies.media import MediaLibrary
from dailies.store import Store
from dailies.studio.request_builders import again
from dailies.studio.settings_admin import SettingsAdmin
from dailies.studio.submitting import Submitter
from dailies.tracker import Tracker

REVIEW_FIELDS = frozenset({"rating", "notes", "tags", "picked"})


class TakeLibrary:
    """The takes in the store, read and looked after. Thread-safe as the store and tracker are."""

    def __init__(self, store: Store, media: MediaLibrary, tracker: Tracker, admin: SettingsAdmin,
                 sending: Submitter, *, clock: Callable[[], float] = time.time) -> None:
        self._store, self._media, self._tracker = store, media, tracker
        self._admin, self._sending, self._clock = admin, sending, clock

    # -- reading -----------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Grows with every change to any take, here or on another server: what pages cache their reads by."""
        return self._store.version

    def __len__(self) -> int:
        return len(self._store)

    def get(self, job_id: str) -> Job | None:
        return self._store.get(job_id)

    def require(self, job_id: str) -> Job:
        return self._store.require(job_id)

    def all(self) -> list[Job]:
        """Every take, newest first."""
        return self._store.all()

    def group(self, group_id: str) -> list[Job]:
        """A variant group's takes in the order they were launched."""
        return self._store.group(group_id)

    def lineage(self, job_id: str) -> list[Job]:
        """The take's root source and every remix, extension and edit made from it, root first."""
        return self._store.lineage(job_id)

    def query(self, *, status: JobStatus | Iterable[JobStatus] | None = None, text: str | None = None) -> list[Job]:
        """The takes in a status, or whose prompt, id or tags hold `text`, newest first."""
        return self._store.query(status=status, text=text)

    def active_count(self) -> int:
        return len(self._store.active())

    def media_path(self, job: Job, variant: str = "video") -> Path | None:
        record = job.files.get(variant)
        return self._media.resolve(record.path) if record else None

    # -- after a submit ----------------------------------------------------------------------------

    def review(self, job_id: str, **changes: Any) -> Job:
        """Record the team's rating, notes, tags or pick; nothing else may change this way."""
        unknown = set(changes) - REVIEW_FIELDS
        if unknown:
            raise ValidationError(f"Only {', '.join(sorted(REVIEW_FIELDS))} can be reviewed, not {unknown}.")
        if "rating" in changes and changes["rating"] is not None and not 0 <= int(changes["rating"]) <= 5:
            raise ValidationError("A rating is 0 to 5 stars.")
        if "tags" in changes:
            changes["tags"] = sorted({str(t).strip() for t in changes["tags"] if str(t).strip()})
        return self._store.update(job_id, **changes)

    def retry(self, job_id: str, *, knowingly: bool = False) -> Job:
        """Send a finished or failed job's request again, as a new job.

        A job that needs a look may have been made (and paid for) at the provider, so it is sent again
        only `knowingly`; it is then marked failed, naming the job that replaced it.
        """
        job = self._store.require(job_id)
        if job.status is JobStatus.NEEDS_LOOK and not knowingly:
            raise ValidationError(
                f"{job.id} may have been made at the provider: sending it again may pay for it twice. "
                "Re-check it or attach its video id first, or retry it knowingly."
            )
        new = self._sending.submit(again(job), job.provider if job.provider in self._admin.providers.names() else None)
        if job.status is JobStatus.NEEDS_LOOK:
            self._store.update(job.id, status=JobStatus.FAILED, error=JobError(
                f"Sent again knowingly as {new.id}; the provider may still have made this one.", "retried"))
        return new

    def redownload(self, job_id: str) -> Job:
        job = self._store.require(job_id)
        if job.remote_id is None or job.status not in (JobStatus.COMPLETED, JobStatus.FAILED):
            raise ValidationError("Only a finished job that the provider made can be downloaded again.")
        job = self._store.update(job_id, status=JobStatus.DOWNLOADING, files={}, error=None)
        self._tracker.wake(job_id)
        return job

    def recheck(self, job_id: str) -> Job:
        return self._tracker.recheck(job_id)

    def mark_failed(self, job_id: str) -> Job:
        """A person's word that a job that needs a look (or timed out) was not made: it stops counting."""
        job = self._store.require(job_id)
        if job.status not in (JobStatus.NEEDS_LOOK, JobStatus.TIMED_OUT):
            raise ValidationError(f"Only a job that needs a look or timed out can be marked failed; {job.id} is "
                                  f"{job.status.label}.")
        before = f" ({job.error.message})" if job.error else ""
        return self._store.update(job_id, status=JobStatus.FAILED,
                                  error=JobError(f"Marked failed by hand{before}", "marked_failed"))

    def attach(self, job_id: str, remote_id: str) -> Job:
        """Give a job that needs a look the provider's id for its video (found in the provider's console).

        The id is checked with the provider first and must not belong to another job; then the tracker
        follows the video as if the create had answered.
        """
        job = self._store.require(job_id)
        remote_id = remote_id.strip()
        if job.remote_id is not None or job.status is not JobStatus.NEEDS_LOOK:
            raise ValidationError(f"Only a job that needs a look can be given a video id; {job.id} is "
                                  f"{job.status.label}.")
        if not remote_id:
            raise ValidationError("Paste the provider's id of the video, such as video_123.", field="remote_id")
        owner = next((j for j in self._store.all() if j.remote_id == remote_id), None)
        if owner is not None:
            raise ValidationError(f"{remote_id} already belongs to {owner.id}.", field="remote_id")
        try:
            remote = self._admin.provider(job.provider).refresh(remote_id)
        except NotFoundError as exc:
            raise ValidationError(f"The provider has no video {remote_id!r}: {exc.message}", field="remote_id") from exc
        job = self._store.update(job_id, remote_id=remote.remote_id or remote_id, status=JobStatus.QUEUED,
                                 error=None, deadline_at=self._clock() + self._tracker.policy.deadline,
                                 params={**job.params, "attached": True})
        self._tracker.track(job.id, first_poll_in=0.0)
        return job

    def delete(self, job_id: str, *, remote: bool = True) -> Job:
        """Delete a job here, its files, and (by default) the video at the provider."""
        job = self._store.require(job_id)
        if remote and job.remote_id and job.provider in self._admin.providers.names():
            # Already gone there, or a provider that cannot delete (its capabilities say so to the pages).
            with contextlib.suppress(NotFoundError, NotSupported):
                self._admin.provider(job.provider).delete(job.remote_id)
        self._media.remove_job(job_id)
        return self._store.delete(job_id)

    def clean_up(self, older_than_days: float) -> int:
        """Remove local files of unpicked, unrated takes older than N days. Returns the number of jobs.

        A file safely in the team's bucket keeps its record (key and ETag), so the take still plays from
        there; only what was nowhere else is forgotten.
        """
        cutoff = self._clock() - older_than_days * 86400
        count = 0
        with self._store.batch():
            for job in self._store.all():
                if job.created_at >= cutoff or job.picked or job.rating:
                    continue
                if any(self._media.present(rec) for rec in job.files.values()):
                    self._media.remove_job(job.id)
                    kept = {name: rec for name, rec in job.files.items() if rec.in_bucket}
                    self._store.update(job.id, files=kept,
                                       params={**job.params, "files_removed_at": self._clock()})
                    count += 1
        return count

