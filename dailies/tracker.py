"""The tracker: one background poller per process that sees every unfinished job through to its files.

It is the only writer of job status. Each job has its own schedule: the server's hint when it gives
one (`openai-poll-after-ms`, Retry-After), otherwise an estimate from the job's progress rate, and
otherwise a backoff that starts short and grows to a cap. Work runs on a small thread pool, so one
slow provider does not hold up the others, and a restart resumes everything from the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dailies.errors import APIError, NotFoundError, RateLimitError, retry_after_seconds
from dailies.jobs import ACTIVE_STATUSES, FileRecord, Job, JobError, JobStatus
from dailies.media import MediaLibrary, probe_video
from dailies.providers.base import RemoteVideo, VideoProvider
from dailies.store import JobStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollPolicy:
    """When to ask again. All times in seconds."""

    first: float = 1.0
    growth: float = 1.6
    cap: float = 15.0
    floor: float = 0.2
    deadline: float = 15 * 60
    """A job still running this long after it was sent is marked timed out (it can be re-checked)."""
    download_attempts: int = 6
    """Downloads of a finished job tried this many times before it is marked failed."""
    unconfirmed_grace: float = 120.0
    """A job with no provider id this old (its create never answered) is reconciled or failed."""

    def next_delay(self, polls: int, *, hint: float | None = None, eta: float | None = None) -> float:
        """The wait before poll number `polls + 1`.

        The server's hint wins, kept within [floor, cap]. Without one, a progress-rate estimate of
        the time left is used (aiming a little past it, so the poll lands just after completion),
        and without that, a backoff from `first` growing by `growth` to `cap`.
        """
        if hint is not None:
            return min(max(hint, self.floor), self.cap)
        if eta is not None:
            return min(max(eta * 1.05 + 0.05, self.floor), self.cap)
        return min(self.first * self.growth**polls, self.cap)


@dataclass
class _Schedule:
    next_at: float = 0.0
    polls: int = 0
    requests: int = 0
    failures: int = 0
    last_progress: tuple[float, int] | None = None
    last_error: str | None = None
    in_flight: bool = False


@dataclass
class TrackerStats:
    """What the tracker has done, for the sidebar and the benchmarks."""

    requests: int = 0
    downloads: int = 0
    errors: int = 0
    per_job_requests: dict[str, int] = field(default_factory=dict)


class Tracker:
    """Polls active jobs and downloads their files. Start one per process; safe to call from any thread."""

    def __init__(
        self,
        store: JobStore,
        providers: Callable[[str], VideoProvider],
        media: MediaLibrary,
        *,
        policy: PollPolicy | None = None,
        max_workers: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.providers = providers
        self.media = media
        self.policy = policy or PollPolicy()
        self.clock = clock
        self.stats = TrackerStats()
        self._max_workers = max_workers
        self._schedules: dict[str, _Schedule] = {}
        self._held: set[str] = set()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    # -- life --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Resume every unfinished job (and any missing file of finished ones), then poll in the background."""
        with self._cond:
            if self.running:
                return
            self._stopping = False
            self.resume()
            self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="dailies-track")
            self._thread = threading.Thread(target=self._loop, name="dailies-tracker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(timeout)
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._thread = None
        self._pool = None
        self.store.flush()

    def resume(self) -> int:
        """Schedule every unfinished job now, and send finished jobs with a missing file back to download."""
        now = self.clock()
        count = 0
        with self.store.batch():
            for job in self.store.all():
                if (
                    job.status is JobStatus.COMPLETED
                    and not job.params.get("files_removed_at")
                    and not self._files_present(job)
                ):
                    self.store.update(job.id, status=JobStatus.DOWNLOADING)
                    job = self.store.require(job.id)
                if job.status in ACTIVE_STATUSES:
                    self._schedules.setdefault(job.id, _Schedule()).next_at = now
                    count += 1
        return count

    def _files_present(self, job: Job) -> bool:
        return job.has_video and all(self.media.present(rec) for rec in job.files.values())

    def wake(self, job_id: str | None = None) -> None:
        """Ask about a job now (a new submission, a user's refresh), or about every active job."""
        now = self.clock()
        with self._cond:
            ids = [job_id] if job_id else [j.id for j in self.store.active()]
            for jid in ids:
                sched = self._schedules.setdefault(jid, _Schedule())
                sched.next_at = now
            self._cond.notify_all()

    def hold(self, job_id: str) -> None:
        """Leave a job alone while its create is on the wire (it has no provider id yet, and must not be
        mistaken for one whose answer was lost). `track` releases it."""
        with self._cond:
            self._held.add(job_id)

    def release(self, job_id: str) -> None:
        with self._cond:
            self._held.discard(job_id)

    def track(self, job_id: str, first_poll_in: float | None = None) -> None:
        """Start following a newly submitted job."""
        with self._cond:
            self._held.discard(job_id)
            sched = self._schedules.setdefault(job_id, _Schedule())
            sched.next_at = self.clock() + (self.policy.first if first_poll_in is None else first_poll_in)
            self._cond.notify_all()

    def recheck(self, job_id: str) -> Job:
        """Give a timed-out (or failed-to-download) job another deadline and ask about it now."""
        job = self.store.require(job_id)
        status = JobStatus.DOWNLOADING if job.status is JobStatus.COMPLETED else JobStatus.IN_PROGRESS
        job = self.store.update(job_id, status=status, error=None, deadline_at=self.clock() + self.policy.deadline)
        with self._cond:
            self._schedules[job_id] = _Schedule(next_at=self.clock())
            self._cond.notify_all()
        return job

    def last_error(self, job_id: str) -> str | None:
        sched = self._schedules.get(job_id)
        return sched.last_error if sched else None

    # -- the loop ----------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                due = self._due_jobs()
                if not due:
                    self._cond.wait(timeout=self._time_to_next())
                    continue
                for job_id in due:
                    self._schedules[job_id].in_flight = True
            for job_id in due:
                assert self._pool is not None
                future = self._pool.submit(self._advance_safely, job_id)
                future.add_done_callback(self._done_callback(job_id))

    def _advance_safely(self, job_id: str) -> None:
        """One step in the pool: an unexpected error backs the job off instead of spinning on it."""
        try:
            self.advance(job_id)
        except Exception as exc:
            log.exception("tracking %s failed", job_id)
            sched = self._schedules.setdefault(job_id, _Schedule())
            sched.last_error = f"{type(exc).__name__}: {exc}"
            sched.failures += 1
            sched.next_at = self.clock() + self.policy.cap

    def _done_callback(self, job_id: str) -> Callable[[Future[Any]], None]:
        def done(future: Future[Any]) -> None:
            with self._cond:
                sched = self._schedules.get(job_id)
                if sched:
                    sched.in_flight = False
                self._cond.notify_all()

        return done

    def _due_jobs(self) -> list[str]:
        now = self.clock()
        due = []
        for job_id, sched in list(self._schedules.items()):
            job = self.store.get(job_id)
            if job is None or not job.is_active:
                del self._schedules[job_id]
                continue
            if not sched.in_flight and sched.next_at <= now and job_id not in self._held:
                due.append(job_id)
        return due

    def _time_to_next(self) -> float:
        pending = [s.next_at for s in self._schedules.values() if not s.in_flight]
        if not pending:
            return 1.0
        return min(1.0, max(0.01, min(pending) - self.clock()))

    def run_until_idle(self, timeout: float = 120.0) -> bool:
        """Advance jobs in this thread until none is active (tests and scripts). True when all finished."""
        end = time.monotonic() + timeout
        self.resume()
        while time.monotonic() < end:
            active = self.store.active()
            if not active:
                return True
            now = self.clock()
            for job in active:
                sched = self._schedules.setdefault(job.id, _Schedule())
                if sched.next_at <= now and job.id not in self._held:
                    self.advance(job.id)
            time.sleep(0.02)
        return not self.store.active()

    # -- one step for one job ----------------------------------------------------------------------

    def advance(self, job_id: str) -> Job | None:
        """Take one step for a job: poll it, or fetch its files, or time it out."""
        job = self.store.get(job_id)
        if job is None or not job.is_active:
            return job
        sched = self._schedules.setdefault(job_id, _Schedule())
        now = self.clock()
        if job.remote_id is None:
            return self._unconfirmed(job, sched, now)
        if job.status is JobStatus.DOWNLOADING:
            return self._download(job, sched)
        if job.deadline_at is not None and now > job.deadline_at:
            return self.store.update(
                job_id,
                status=JobStatus.TIMED_OUT,
                error=JobError(
                    f"Still {job.status} after {self.policy.deadline / 60:.0f} minutes; "
                    "re-check it later from History.",
                    code="timed_out",
                ),
            )
        provider = self.providers(job.provider)
        try:
            remote = provider.refresh(job.remote_id)
        except NotFoundError as exc:
            return self._fail(job, JobError(f"The provider no longer has this video: {exc.message}", "not_found"))
        except APIError as exc:
            self._count(job_id, sched, error=exc)
            sched.failures += 1
            hint = exc.retry_after if isinstance(exc, RateLimitError) else retry_after_seconds(exc.headers)
            sched.next_at = self.clock() + self.policy.next_delay(sched.failures + sched.polls, hint=hint)
            return job
        self._count(job_id, sched)
        sched.failures = 0
        sched.last_error = None
        return self._apply(job, remote, sched)

    def _apply(self, job: Job, remote: RemoteVideo, sched: _Schedule) -> Job:
        now = self.clock()
        changes: dict[str, Any] = {}
        if remote.expires_at:
            changes["expires_at"] = remote.expires_at
        if remote.status is JobStatus.FAILED:
            error = remote.error or JobError("The provider reported the job failed without a reason.")
            return self._fail(job, error, remote=remote.raw)
        if remote.status is JobStatus.COMPLETED:
            job = self.store.update(
                job.id,
                status=JobStatus.DOWNLOADING,
                progress=100,
                remote=remote.raw,
                completed_at=remote.completed_at or now,
                **changes,
                **({"seconds": remote.seconds} if remote.seconds else {}),
            )
            return self._download(job, sched)
        eta = self._eta(sched, now, remote.progress)
        if remote.status is not job.status or changes.get("expires_at", job.expires_at) != job.expires_at:
            job = self.store.update(
                job.id, status=remote.status, progress=remote.progress, remote=remote.raw, **changes
            )
        elif remote.progress != job.progress:
            job = self.store.set_progress(job.id, remote.progress) or job
        sched.polls += 1
        sched.next_at = now + self.policy.next_delay(sched.polls, hint=remote.poll_after, eta=eta)
        return job

    @staticmethod
    def _eta(sched: _Schedule, now: float, progress: int) -> float | None:
        """Seconds left at the job's recent rate of progress, when it has moved since the last poll."""
        previous = sched.last_progress
        sched.last_progress = (now, progress)
        if previous is None or progress <= previous[1] or progress >= 100:
            return None
        rate = (progress - previous[1]) / max(now - previous[0], 1e-3)
        return (100 - progress) / rate

    def _download(self, job: Job, sched: _Schedule) -> Job:
        assert job.remote_id is not None
        provider = self.providers(job.provider)
        variants = provider.capabilities().variants
        files = dict(job.files)
        try:
            for variant in variants:
                if variant in files and self.media.present(files[variant]):
                    continue
                try:
                    files[variant] = self._fetch(provider, job, variant)
                except NotFoundError:
                    if variant == "video":
                        raise
                    log.info("%s has no %s; skipping it", job.id, variant)
        except NotFoundError as exc:
            return self._fail(
                job, JobError(f"The video could not be downloaded: {exc.message}", exc.code or "not_found")
            )
        except (APIError, ValueError, OSError) as exc:
            sched.failures += 1
            self._count(job.id, sched, error=exc)
            if sched.failures >= self.policy.download_attempts:
                return self._fail(job, JobError(f"Download failed {sched.failures} times: {exc}", "download_failed"))
            hint = exc.retry_after if isinstance(exc, RateLimitError) else None
            sched.next_at = self.clock() + self.policy.next_delay(sched.failures, hint=hint)
            if files != job.files:
                self.store.update(job.id, files=files)
            return job
        self.stats.downloads += 1
        sched.failures = 0
        return self.store.update(job.id, status=JobStatus.COMPLETED, files=files, progress=100, error=None)

    def _fetch(self, provider: VideoProvider, job: Job, variant: str) -> FileRecord:
        assert job.remote_id is not None
        dest = self.media.path_for(job.id, variant)
        self._count(job.id, self._schedules.setdefault(job.id, _Schedule()))
        record = provider.download(job.remote_id, variant, dest)
        final = self.media.path_for(job.id, variant, record.content_type)
        if final != dest:
            dest.replace(final)
        # Probing raises ValueError when the bytes are not a playable video; the length it reads is kept.
        duration = round(probe_video(final).duration, 3) if variant == "video" else None
        return FileRecord(self.media.relative(final), record.size, record.sha256, record.content_type, duration)

    def _unconfirmed(self, job: Job, sched: _Schedule, now: float) -> Job:
        """A job whose create never answered (the app died mid-submit, or the answer was lost).

        Look for it at the provider among videos made since, with the same prompt, that no job of
        ours claims; adopt it if found, else fail it after a grace period. Never send it again.
        """
        provider = self.providers(job.provider)
        claimed = {j.remote_id for j in self.store.all() if j.remote_id}
        try:
            client = getattr(provider, "client", None)
            candidates = list(client.list_all(order="desc")) if client is not None else []
        except APIError as exc:
            self._count(job.id, sched, error=exc)
            sched.next_at = now + self.policy.next_delay(sched.polls)
            sched.polls += 1
            return job
        for video in candidates:
            created = float(video.get("created_at") or 0)
            if video.get("id") not in claimed and video.get("prompt") == job.prompt and created >= job.created_at - 5:
                log.info("adopting %s for unconfirmed job %s", video.get("id"), job.id)
                job = self.store.update(job.id, remote_id=str(video["id"]), status=JobStatus.QUEUED)
                sched.next_at = now
                return job
        if now - job.created_at > self.policy.unconfirmed_grace:
            said = f" The send ended with: {job.error.message}" if job.error else ""
            return self._fail(
                job,
                JobError(
                    "The provider never confirmed this job and does not list it, so it was not sent again; "
                    f"retry it from History.{said}",
                    "unconfirmed",
                ),
            )
        sched.next_at = now + self.policy.next_delay(sched.polls)
        sched.polls += 1
        return job

    def _fail(self, job: Job, error: JobError, remote: dict[str, Any] | None = None) -> Job:
        extra = {"remote": remote} if remote is not None else {}
        return self.store.update(job.id, status=JobStatus.FAILED, error=error, **extra)

    def _count(self, job_id: str, sched: _Schedule, error: Exception | None = None) -> None:
        sched.requests += 1
        self.stats.requests += 1
        self.stats.per_job_requests[job_id] = sched.requests
        if error is not None:
            self.stats.errors += 1
            sched.last_error = str(error)
