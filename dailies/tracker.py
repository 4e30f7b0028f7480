"""The tracker: one background poller per process that sees every unfinished job through to its files.

It is the only writer of job status. Each job has its own schedule: the server's hint when it gives
one (`openai-poll-after-ms`, Retry-After), otherwise an estimate from the job's progress rate, and
otherwise a backoff that starts short and grows to a cap. Work runs on a small thread pool, so one
slow provider does not hold up the others, and a restart resumes everything from the store.

A provider that sends webhooks (`dailies/webhooks.py`) is listened to instead: a verified event makes
the tracker ask about that job at once (`nudge`), and while deliveries arrive its jobs are polled only as
a safety net, back on the normal schedule when they stop. Events only hasten: the provider's own answer,
never an event, moves a job to a final state (an early or reordered `video.completed` would otherwise
fail a take whose video is not ready yet).

Several processes may track one data folder (the app, a CLI sweep): a job is worked on by the one
that holds its lease in the store (claimed before each step, renewed while it works). A job whose
owner stopped is taken over by another process's tracker once the lease lapses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dailies.backoff import Backoff
from dailies.bucket import Bucket, BucketError, needs_upload, upload_job
from dailies.errors import (
    APIError,
    NotFoundError,
    NotSupported,
    RateLimitError,
    RequestRefused,
    retry_after_seconds,
)
from dailies.jobs import ACTIVE_STATUSES, FileRecord, Job, JobError, JobKind, JobStatus
from dailies.media import MediaLibrary, make_thumbnail, probe_video, sniff_type
from dailies.providers.base import RemoteVideo, VideoProvider
from dailies.send_queue import SendQueue
from dailies.store_api import Store

log = logging.getLogger(__name__)


class WrongContent(ValueError):
    """A content variant came back as something else (a gateway that ignores `variant`): not kept."""


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
    """How long a job whose create never answered is looked for at the provider (never past its deadline).
    Then it is failed when the provider listed its videos and it was not among them, and otherwise it
    needs a look: the provider may have made it, and only a person can find out."""
    adopt_window: float = 180.0
    """A listed video made up to this long after a job was sent may be that job's (uploads and queues)."""
    clock_slack: float = 10.0
    """...and one made up to this long before it, for a provider whose clock runs behind ours."""
    safety_net: float = 60.0
    """While a provider's webhook deliveries arrive, a job of it is asked about at most this often, and only
    once the deliveries have been quiet this long (one within it proves the endpoint, secret and sender work)."""
    safety_cap: float = 300.0
    """...but never less often than this per job, however busy the deliveries: what a lost event can cost."""
    quiet_after: float = 600.0
    """A provider whose last verified delivery is older than this is polled on the normal schedule again."""

    def next_delay(self, polls: int, *, hint: float | None = None, eta: float | None = None) -> float:
        """The wait before poll number `polls + 1`.

        The server's hint wins, kept within [floor, cap]. Without one, a progress-rate estimate of
        the time left is used (aiming a little past it, so the poll lands just after completion),
        and without that, a backoff from `first` growing by `growth` to `cap`.
        """
        backoff = Backoff(self.first, self.cap, self.growth, floor=self.floor)
        if hint is None and eta is not None:
            hint = eta * 1.05 + 0.05
        return backoff.delay(polls, retry_after=hint)


@dataclass
class _Schedule:
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


UPLOAD_RETRY_CAP = 300.0
"""A bucket that keeps refusing is asked again at most every 5 minutes per take (a wrong key stays wrong)."""


@dataclass
class _Upload:
    """A completed job whose files are still to go up to the bucket (after a failed try)."""

    next_at: float = 0.0
    failures: int = 0
    in_flight: bool = False


@dataclass
class TrackerStats:
    """What the tracker has done, for the sidebar and the benchmarks."""

    requests: int = 0
    downloads: int = 0
    uploads: int = 0
    upload_errors: int = 0
    errors: int = 0
    per_job_requests: dict[str, int] = field(default_factory=dict)


class Tracker:
    """Polls active jobs and downloads their files. Start one per process; safe to call from any thread."""

    def __init__(
        self,
        store: Store,
        providers: Callable[[str], VideoProvider],
        media: MediaLibrary,
        *,
        policy: PollPolicy | None = None,
        max_workers: int = 4,
        clock: Callable[[], float] = time.time,
        lease_s: float = 30.0,
        bucket: Callable[[], Bucket | None] | None = None,
    ) -> None:
        """`bucket`: the team's bucket as configured now (None: none), asked for each upload."""
        self.store = store
        self.providers = providers
        self.media = media
        self.policy = policy or PollPolicy()
        self.clock = clock
        self.stats = TrackerStats()
        self._max_workers = max_workers
        self._schedules: dict[str, _Schedule] = {}
        self._held: set[str] = set()
        self._adopting = threading.Lock()
        """Held while unconfirmed jobs are matched to listed videos, so no video is adopted twice."""
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.owner = store.new_owner()
        """This tracker's name on the jobs it works on (their lease in the store)."""
        self.lease_s = lease_s
        self._next_adoption = 0.0
        self._deliveries: dict[str, float] = {}
        """Provider name → when its last verified webhook delivery arrived (only while deliveries count)."""
        self.bucket = bucket or (lambda: None)
        self._uploads: dict[str, _Upload] = {}
        """Completed jobs whose upload failed: tried again with backoff, the local copy untouched meanwhile."""
        self.sends = SendQueue(store, _no_sender, clock=clock)
        """Takes waiting for their provider to allow the send (the studio gives it the sender and the limits)."""
        self.files_checked = threading.Event()
        """Set once finished takes have been looked for their files after `start` (from a thread of its own):
        until then, a finished take without its file may yet be sent back to download."""

    # -- life --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Resume every unfinished job, then poll in the background; finished jobs' files are looked
        for in the background too.

        Looking for every finished take's files is two file-system calls per file: at 100,000 jobs,
        seconds that the app's first page would otherwise wait for. A take found missing is sent back
        to download from its own thread as soon as it is found.
        """
        with self._cond:
            if self.running:
                return
            self._stopping = False
            self.resume(check_files=False)
            self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="dailies-track")
            self._thread = threading.Thread(target=self._loop, name="dailies-tracker", daemon=True)
            self._thread.start()
            self.files_checked.clear()
        threading.Thread(target=self._refetch_missing, name="dailies-files-check", daemon=True).start()

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
        with contextlib.suppress(Exception):  # a read-only store, say; the leases then lapse by themselves
            self.store.release_all(self.owner)  # another process's tracker may take these jobs now

    def resume(self, *, check_files: bool = True) -> int:
        """Schedule every unfinished job now, and (with `check_files`) send finished jobs with a missing
        file back to download."""
        now = self.clock()
        count = 0
        bucket = self._bucket()
        with self.store.batch():
            for job in self.store.all():
                if check_files and self._files_missing(job):
                    if self._assembly_lost(job):
                        continue
                    self.store.update(job.id, status=JobStatus.DOWNLOADING)
                    job = self.store.require(job.id)
                if job.status in ACTIVE_STATUSES:
                    self._schedules.setdefault(job.id, _Schedule()).next_at = now
                    count += 1
                elif bucket is not None and job.status is JobStatus.COMPLETED and needs_upload(job, self.media):
                    with self._cond:
                        self._uploads.setdefault(job.id, _Upload(next_at=now))
        return count

    def _files_missing(self, job: Job) -> bool:
        """A finished take whose files should be here and are not (nor were they removed on purpose, nor
        dropped here after being checked safe in the bucket, from where they play)."""
        return (
            job.status is JobStatus.COMPLETED
            and not job.params.get("files_removed_at")
            and not (job.has_video and all(self.media.present(rec) or rec.in_bucket for rec in job.files.values()))
        )

    def _assembly_lost(self, job: Job) -> bool:
        """An assembly joined here has no provider to fetch it from again: it fails, saying what to do."""
        if job.kind is not JobKind.ASSEMBLE:
            return False
        self.store.update(job.id, status=JobStatus.FAILED, error=JobError(
            "The assembled file is missing; assemble the board again.", "missing_file"))
        return True

    def _refetch_missing(self) -> None:
        """Send every finished take with a missing file back to download (the background half of `start`)."""
        try:
            for job in self.store.all():
                if self._stopping:
                    return
                if not self._files_missing(job):
                    continue
                current = self.store.get(job.id)
                if current is None or not self._files_missing(current):
                    continue  # changed meanwhile (fetched again, removed, deleted)
                if self._assembly_lost(current):
                    continue
                self.store.update(job.id, status=JobStatus.DOWNLOADING)
                with self._cond:
                    self._schedules.setdefault(job.id, _Schedule()).next_at = self.clock()
                    self._cond.notify_all()
        except Exception:  # a read-only store, say: the take stays as it is, and the app keeps running
            log.exception("looking for finished takes' files failed")
        finally:
            self.files_checked.set()

    def _bucket(self) -> Bucket | None:
        try:
            return self.bucket()
        except BucketError as exc:  # an unknown profile, say: the pages show it in Settings
            log.warning("no bucket: %s", exc)
            return None

    def upload_failing(self, job_id: str) -> bool:
        """The job's files are waiting for another try at the bucket."""
        with self._cond:
            return job_id in self._uploads

    def upload(self, job_id: str) -> Job | None:
        """Upload a completed job's files not in the bucket yet (now, in this thread); on failure schedule a retry.

        The job stays completed either way: its local copy is verified and untouched. A failure is
        recorded on the job (`params["bucket_error"]`, shown on its card) until an upload works.
        """
        job = self.store.get(job_id)
        bucket = self._bucket()
        if job is None or job.status is not JobStatus.COMPLETED or bucket is None or not needs_upload(job, self.media):
            with self._cond:
                self._uploads.pop(job_id, None)
            return job
        try:
            files = upload_job(bucket, self.media, job)
        except BucketError as exc:
            self.stats.upload_errors += 1
            with self._cond:
                up = self._uploads.setdefault(job_id, _Upload())
                up.failures += 1
                retry = Backoff(self.policy.first, UPLOAD_RETRY_CAP, self.policy.growth)
                up.next_at = self.clock() + retry.delay(up.failures)
                self._cond.notify_all()
            log.info("upload of %s failed (try %d): %s", job_id, up.failures, exc)
            current = self.store.require(job_id)  # a rating or tag may have landed while the upload ran
            return self.store.update(job_id, params={**current.params, "bucket_error": str(exc)})
        self.stats.uploads += 1
        with self._cond:
            self._uploads.pop(job_id, None)
        current = self.store.require(job_id)  # a rating or tag may have landed while the upload ran
        merged = {name: files[name] if name in files and files[name].path == rec.path else rec
                  for name, rec in current.files.items()}
        params = {k: v for k, v in current.params.items() if k != "bucket_error"}
        return self.store.update(job_id, files=merged, params=params)

    def upload_soon(self, job_id: str) -> None:
        """Send a file made here (an assembly) to the bucket in the background, as a download's would go."""
        if self._bucket() is None:
            return
        with self._cond:
            self._uploads.setdefault(job_id, _Upload(next_at=self.clock()))
            self._cond.notify_all()

    def wake(self, job_id: str | None = None) -> None:
        """Ask about a job now (a new submission, a user's refresh), or about every active job."""
        now = self.clock()
        with self._cond:
            ids = [job_id] if job_id else [j.id for j in self.store.active()]
            for jid in ids:
                sched = self._schedules.setdefault(jid, _Schedule())
                sched.next_at = now
            self._cond.notify_all()

    # -- webhooks: events first, polling as the safety net ---------------------------------------------

    def delivery_arrived(self, provider: str) -> None:
        """A verified webhook delivery came from `provider`: its jobs are polled only as a safety net now."""
        with self._cond:
            self._deliveries[provider] = self.clock()

    def deliveries_stopped(self, provider: str) -> None:
        """Our endpoint at `provider` was removed: no event will come, so its jobs go back to their normal
        schedule now (asked about at once), not after the safety net's quiet period."""
        with self._cond:
            self._deliveries.pop(provider, None)
        for job in self.store.active():
            if job.provider == provider:
                self.wake(job.id)

    def pushing(self, provider: str) -> bool:
        """Whether `provider`'s deliveries arrive (one within `quiet_after`), so polling it can slow down."""
        last = self._deliveries.get(provider)
        return last is not None and self.clock() - last < self.policy.quiet_after

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
        job = next((j for j in self.store.active() if j.provider == provider and _names_video(j.remote_id, remote_id)),
                   None)
        if job is None:
            return None
        with self._cond:
            sched = self._schedules.setdefault(job.id, _Schedule())
            sched.pushed = status if status in ("completed", "failed") else None
            sched.next_at = self.clock()
            self._cond.notify_all()
        return job.id

    def _next_poll(self, job: Job, delay: float, sched: _Schedule | None = None) -> float:
        """When to poll a job again: `delay` from now, or the safety net's interval while events arrive (unless
        an event said the job has ended and the provider has not confirmed it yet: then `delay`)."""
        if self.pushing(job.provider) and (sched is None or sched.pushed is None):
            delay = max(delay, self.policy.safety_net)
        return self.clock() + delay

    def _deferred(self, job: Job, sched: _Schedule, now: float) -> bool:
        """Put off a safety-net poll while the provider's deliveries keep arriving (see `PollPolicy.safety_net`):
        until they have been quiet for `safety_net`, and never past `safety_cap` since the job was last asked."""
        last = self._deliveries.get(job.provider)
        if sched.pushed is not None or last is None or not self.pushing(job.provider):
            return False
        quiet_at = last + self.policy.safety_net
        latest = sched.asked_at + self.policy.safety_cap
        if now >= quiet_at or now >= latest:
            return False
        sched.next_at = min(quiet_at, latest)
        return True

    def _missed_event(self, job: Job, sched: _Schedule) -> None:
        """A poll found a job finished that no event announced: deliveries are not arriving (lost, or the
        endpoint is gone), so this provider goes back to the normal schedule until the next one does."""
        if sched.pushed is None and self._deliveries.pop(job.provider, None) is not None:
            log.warning("no webhook event came for %s's finished job %s; polling %s normally again",
                        job.provider, job.id, job.provider)

    def hold(self, job_id: str) -> None:
        """Leave a job alone while its create is on the wire (it has no provider id yet, and must not be
        mistaken for one whose answer was lost). `track` releases it."""
        with self._cond:
            self._held.add(job_id)
        self.store.claim(job_id, self.owner, self.lease_s)  # no other process's tracker touches it meanwhile

    def release(self, job_id: str) -> None:
        with self._cond:
            self._held.discard(job_id)

    def track(self, job_id: str, first_poll_in: float | None = None) -> None:
        """Start following a newly submitted job."""
        with self._cond:
            self._held.discard(job_id)
            sched = self._schedules.setdefault(job_id, _Schedule())
            first = self.policy.first if first_poll_in is None else first_poll_in
            job = self.store.get(job_id)
            sched.asked_at = self.clock()
            sched.next_at = self._next_poll(job, first) if job is not None else self.clock() + first
            self._cond.notify_all()

    def recheck(self, job_id: str) -> Job:
        """Give a timed-out, failed-to-download or needs-a-look job another deadline and ask about it now.

        A job that needs a look is looked for at the provider again, for another grace period. A take waiting
        to be sent is only handed to the send queue now (which still honours the provider's wait).
        """
        job = self.store.require(job_id)
        now = self.clock()
        if job.status is JobStatus.WAITING:  # never sent, so nothing to look for: try the send queue now
            self.wake(job_id)
            return job
        if job.remote_id is None:
            job = self.store.update(
                job_id,
                status=JobStatus.QUEUED,
                error=None,
                deadline_at=now + self.policy.deadline,
                params={**job.params, "looked_from": now},
            )
        else:
            status = JobStatus.DOWNLOADING if job.status is JobStatus.COMPLETED else JobStatus.IN_PROGRESS
            job = self.store.update(job_id, status=status, error=None, deadline_at=now + self.policy.deadline)
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
                self._adopt_others()
                due = self._due_jobs()
                uploads = self._due_uploads()
                if not due and not uploads:
                    self._cond.wait(timeout=self._time_to_next())
                    continue
                for job_id in due:
                    self._schedules[job_id].in_flight = True
            for job_id in due:
                assert self._pool is not None
                future = self._pool.submit(self._advance_safely, job_id)
                future.add_done_callback(self._done_callback(job_id))
            for job_id in uploads:
                assert self._pool is not None
                self._pool.submit(self._upload_safely, job_id)

    def _due_uploads(self) -> list[str]:
        """Uploads whose retry is due, marked in flight. Call with `_cond` held."""
        now = self.clock()
        due = [job_id for job_id, up in self._uploads.items() if not up.in_flight and up.next_at <= now]
        for job_id in due:
            self._uploads[job_id].in_flight = True
        return due

    def _upload_safely(self, job_id: str) -> None:
        try:
            self.upload(job_id)
        except Exception:
            log.exception("uploading %s failed", job_id)
            with self._cond:
                up = self._uploads.get(job_id)
                if up:
                    up.failures += 1
                    up.next_at = self.clock() + self.policy.cap
        finally:
            with self._cond:
                up = self._uploads.get(job_id)
                if up:
                    up.in_flight = False
                self._cond.notify_all()

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

    def _adopt_others(self) -> None:
        """Now and then, schedule active jobs this tracker does not follow (another process's, which
        it may take over when their lease lapses). Call with `_cond` held."""
        now = self.clock()
        if now < self._next_adoption:
            return
        self._next_adoption = now + self.lease_s / 4
        for job in self.store.active():
            self._schedules.setdefault(job.id, _Schedule(next_at=now))

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
        """How long the loop may sleep: until the next job or upload is due, a second at most while any is
        pending (a clock set back must not hold them), and with none until the next look for other
        processes' jobs (a submit, a resume or a finished step wakes the loop sooner)."""
        pending = [s.next_at for s in self._schedules.values() if not s.in_flight]
        pending += [u.next_at for u in self._uploads.values() if not u.in_flight]
        if not pending:
            return min(self.lease_s / 4, max(0.01, self._next_adoption - self.clock()))
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
        if not self.store.claim(job_id, self.owner, self.lease_s):
            lease = self.store.lease(job_id) or {}
            sched.next_at = now + min(max(float(lease.get("until", 0)) - time.time(), 0.5), self.lease_s)
            return job  # another process's tracker works on it; ask again when its lease may have lapsed
        job = self.store.get(job_id)  # as the claim found it: its last owner may have just finished it
        if job is None or not job.is_active:
            self.store.release(job_id, self.owner)
            return job
        if job.status is JobStatus.WAITING:
            return self._send_waiting(job, sched, now)
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
        if self._deferred(job, sched, now):
            return job
        provider = self.providers(job.provider)
        sched.asked_at = now
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
        if remote.status in (JobStatus.COMPLETED, JobStatus.FAILED) and self.pushing(job.provider):
            self._missed_event(job, sched)
        if remote.status in (JobStatus.COMPLETED, JobStatus.FAILED):
            sched.pushed = None  # the provider confirmed an end (an event's, or its own)
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
        sched.next_at = self._next_poll(job, self.policy.next_delay(sched.polls, hint=remote.poll_after, eta=eta),
                                        sched)
        return job

    @staticmethod
    def _eta(sched: _Schedule, now: float, progress: int) -> float | None:
        """Seconds left at the job's rate of progress since it was first seen moving, or None.

        The rate is taken over the whole span since that first sighting, not between the last two
        polls: progress comes in whole percent, and over a short gap that rounding (or a provider
        holding at 98 % while it finishes) would swing the estimate, or lose it, right at the end.
        Reported progress is rounded down, so the job is taken to be half a percent further on.
        """
        if progress <= 0 or progress >= 100:
            return None
        since = sched.progress_since
        if since is None or progress < since[1]:
            sched.progress_since = (now, progress)
            return None
        if progress == since[1]:
            return None
        rate = (progress - since[1]) / max(now - since[0], 1e-3)
        return max(0.0, (100 - progress - 0.5) / rate)

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
                except WrongContent as exc:
                    log.info("%s: %s; not kept", job.id, exc)
                    getattr(provider, "drop_variant", lambda _v: None)(variant)
            if "thumbnail" not in files and "video" in files:
                files["thumbnail"] = self._local_thumbnail(job, files["video"])
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
        job = self.store.update(job.id, status=JobStatus.COMPLETED, files=files, progress=100, error=None)
        if self._bucket() is not None:  # complete here already; the copy in the bucket follows at once
            return self.upload(job.id) or job
        return job

    def _fetch(self, provider: VideoProvider, job: Job, variant: str) -> FileRecord:
        assert job.remote_id is not None
        dest = self.media.path_for(job.id, variant)
        self.store.claim(job.id, self.owner, self.lease_s)  # renewed while a long download runs
        self._count(job.id, self._schedules.setdefault(job.id, _Schedule()))
        record = provider.download(job.remote_id, variant, dest)
        if variant != "video":
            found = sniff_type(dest)
            if found is None or not found.startswith("image/"):
                dest.unlink(missing_ok=True)
                raise WrongContent(f"the provider's {variant} is {found or 'not an image'}")
            record = dataclasses.replace(record, content_type=found)
        final = self.media.path_for(job.id, variant, record.content_type)
        if final != dest:
            dest.replace(final)
        # Probing raises ValueError when the bytes are not a playable video; the length it reads is kept.
        duration = round(probe_video(final).duration, 3) if variant == "video" else None
        return FileRecord(self.media.relative(final), record.size, record.sha256, record.content_type, duration)

    def _local_thumbnail(self, job: Job, video: FileRecord) -> FileRecord:
        """Every take gets a thumbnail: made from its video when the provider serves none (or a wrong one)."""
        record = make_thumbnail(self.media.resolve(video.path), self.media.path_for(job.id, "thumbnail", "image/webp"))
        return dataclasses.replace(record, path=self.media.relative(record.path))

    def _unconfirmed(self, job: Job, sched: _Schedule, now: float) -> Job:
        """A job whose create never answered (the app died mid-submit, or the answer was lost).

        Look for it among the provider's videos and adopt it when found; never send it again. When the
        provider cannot list, or its list keeps failing (three times in a row once the job's grace
        period is over, or at its deadline), the job needs a look: it may exist and be paid for. When
        the provider listed its videos after the send and the job was not among them, it was never
        made, and it fails once the grace period is over.
        """
        give_up_at = self._give_up_at(job)
        try:
            adopted = self._reconcile(self.providers(job.provider), job.provider)
        except NotSupported as exc:
            self._count(job.id, sched, error=exc)
            return self._needs_look(job, f"The provider cannot list its videos ({exc}), so this job cannot be "
                                         "found there automatically.")
        except (APIError, RequestRefused) as exc:  # refused: its provider is no longer configured
            self._count(job.id, sched, error=exc)
            sched.failures += 1
            past_deadline = now >= self._deadline(job)
            if now >= give_up_at and sched.listed:
                return self._not_made(job)
            if past_deadline or (now >= give_up_at and sched.failures >= 3):
                return self._needs_look(job, f"The provider's list of videos kept failing ({exc}).")
            sched.next_at = now + self.policy.next_delay(sched.failures)
            if now < give_up_at:
                sched.next_at = min(sched.next_at, give_up_at)
            return self.store.get(job.id) or job
        sched.failures = 0
        self._count(job.id, sched)
        current = self.store.get(job.id)
        if current is None or current.remote_id is not None or not current.is_active:
            sched.next_at = now
            return current
        sched.listed = True
        if now >= give_up_at:
            return self._not_made(current)
        if adopted:  # others were found: look again soon for the rest, which may simply be slower
            sched.polls = 0
        sched.next_at = min(now + self.policy.next_delay(sched.polls), give_up_at)
        sched.polls += 1
        return current

    def _send_waiting(self, job: Job, sched: _Schedule, now: float) -> Job:
        """A take waiting for its provider: the send queue sends it when allowed, else says when to look again."""
        job, next_try = self.sends.step(job)
        if next_try is not None:
            sched.next_at = max(next_try, now + 0.05)
        elif job.remote_id is not None:
            sched.asked_at = self.clock()
            sched.next_at = self._next_poll(job, self.policy.first)
        else:  # sent, and the answer was lost or failed: looked for (the unconfirmed handling), never resent
            sched.next_at = self.clock() + 2.0
        return job

    def _not_made(self, job: Job) -> Job:
        """The provider listed its videos after the send and this job was not among them: never made."""
        said = f" The send ended with: {job.error.message}" if job.error else ""
        return self._fail(
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
        return min(looked_from + self.policy.unconfirmed_grace, self._deadline(job))

    def _deadline(self, job: Job) -> float:
        return job.deadline_at if job.deadline_at is not None else job.created_at + self.policy.deadline

    def _needs_look(self, job: Job, why: str) -> Job:
        said = f" The send ended with: {job.error.message}" if job.error and job.error.code == "unconfirmed" else ""
        return self.store.update(
            job.id,
            status=JobStatus.NEEDS_LOOK,
            error=JobError(
                f"{why} It may exist at the provider and be paid for, so it was not sent again: re-check it, "
                "attach the provider's video id, mark it failed, or retry it knowing it may be made twice."
                f"{said}",
                "needs_look",
            ),
        )

    def _reconcile(self, provider: VideoProvider, name: str) -> set[str]:
        """Match every unconfirmed job of one provider to the videos it lists; returns the adopted job ids.

        A video is a job's when everything sent agrees (prompt, model, size, seconds, kind and source)
        and it was made around the job's send time. Pairs are taken closest in time first, under one
        lock and against the store's claims, so takes of one prompt each adopt their own video and no
        video is adopted twice. A video that could be the answer of a create still on the wire is left
        for that create.
        """
        with self._adopting:
            waiting = [
                j for j in self.store.active()
                if j.provider == name and j.remote_id is None and j.id not in self._held
                and j.status is not JobStatus.WAITING  # never sent: nothing to look for
            ]
            if not waiting:
                return set()
            on_wire = [j for j in map(self.store.get, list(self._held)) if j is not None and j.provider == name]
            claimed = {j.remote_id for j in self.store.all() if j.remote_id}
            oldest = min(_sent_at(j) for j in waiting) - self.policy.clock_slack
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
                self.store.update(
                    job.id,
                    remote_id=remote_id,
                    status=JobStatus.QUEUED,
                    error=None,
                    params={**job.params, "adopted": True},
                )
                adopted[job.id] = remote_id
            if adopted:
                with self._cond:
                    for job_id in adopted:
                        self._schedules.setdefault(job_id, _Schedule()).next_at = self.clock()
                    self._cond.notify_all()
            return set(adopted)

    def _could_be(self, job: Job, video: dict[str, Any], created: float) -> bool:
        """Whether a listed video agrees with everything this job sent, and was made around its send."""
        sent_at = _sent_at(job)
        if not sent_at - self.policy.clock_slack <= created <= sent_at + self.policy.adopt_window:
            return False
        if str(video.get("prompt") or "").strip() != job.prompt.strip():
            return False
        model = str(video.get("model") or "")
        if model and job.model and model.rsplit("/", 1)[-1] != job.model.rsplit("/", 1)[-1]:
            return False
        size = str(video.get("size") or "")
        if size and job.size and size != job.size:
            return False
        source = self.store.get(job.source_job_id) if job.source_job_id else None
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


def _sent_at(job: Job) -> float:
    """When the job's create left: its creation, or later when it waited in the send queue first."""
    return float(job.params.get("sent_at") or job.created_at)


def _no_sender(job: Job) -> RemoteVideo:
    raise NotSupported("no sender for waiting takes: the studio gives the tracker one")


def _list_videos(provider: VideoProvider) -> Iterator[dict[str, Any]]:
    """The provider's videos, newest first; `NotSupported` when it has no way to list them."""
    listing = getattr(provider, "list_videos", None)
    if listing is not None:
        return iter(listing())
    client = getattr(provider, "client", None)
    if client is not None and hasattr(client, "list_all"):
        return iter(client.list_all(order="desc"))
    raise NotSupported(f"{getattr(provider, 'label', provider)} has no list of videos")


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _names_video(job_remote_id: str | None, said: str) -> bool:
    """Whether a delivery's video id `said` is the job's remote id, or the last part of a path-like one."""
    if not job_remote_id or not said:
        return False
    return job_remote_id == said or job_remote_id.endswith("/" + said)
