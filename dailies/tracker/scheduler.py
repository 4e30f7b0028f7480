"""The tracker: one background scheduler per process that sees every unfinished job through to its files.

It is the only writer of job status. Each job has its own schedule: the server's hint when it gives
one (`openai-poll-after-ms`, Retry-After), otherwise an estimate from the job's progress rate, and
otherwise a backoff that starts short and grows to a cap. Work runs on a small thread pool, so one
slow provider does not hold up the others, and a restart resumes everything from the store.

The scheduler decides when and in which process a job is worked on; each step is a worker's: `Poller`
(asking the provider), `Fetcher` (downloads), `Uploader` (bucket copies), `Reconciler` (jobs whose create
never answered), `Resumer` (what survives a restart) and `SafetyNet` (webhook deliveries, polling behind them).

Several processes may track one data folder (the app, a CLI sweep): a job is worked on by the one
that holds its lease in the store (claimed before each step, renewed while it works). A job whose
owner stopped is taken over by another process's tracker once the lease lapses.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from dailies.bucket import Bucket
from dailies.jobs import Job, JobStatus
from dailies.send_queue import SendQueue
from dailies.tracker.context import Schedule, TrackerContext
from dailies.tracker.fetch import Fetcher
from dailies.tracker.policy import PollPolicy
from dailies.tracker.poll import Poller
from dailies.tracker.reconcile import Reconciler
from dailies.tracker.resume import Resumer
from dailies.tracker.safety_net import SafetyNet
from dailies.tracker.upload import Uploader

log = logging.getLogger(__name__)


class Tracker:
    """Polls active jobs and downloads their files. Start one per process; safe to call from any thread."""

    def __init__(
        self,
        context: TrackerContext,
        *,
        max_workers: int = 4,
        bucket: Callable[[], Bucket | None] | None = None,
    ) -> None:
        """`context`: what the workers share (`TrackerContext.build(store, providers, media, ...)`); `bucket`: the
        team's bucket as configured now (None: none), asked for each upload."""
        self.context = context
        self.store, self.clock = context.store, context.clock
        self.stats = self.context.stats
        self.owner = self.context.owner
        """This tracker's name on the jobs it works on (their lease in the store)."""
        self.leases = self.context.leases
        self.uploads = Uploader(self.context, bucket or (lambda: None))
        self.safety_net = SafetyNet(self.context)
        self.fetch = Fetcher(self.context, self.uploads)
        self.poller = Poller(self.context, self.fetch, self.safety_net)
        self.reconciler = Reconciler(self.context)
        self.resumer = Resumer(self.context, self.uploads)
        self.files_checked = self.resumer.files_checked
        """Set once finished takes have been looked for their files after `start` (from a thread of its own):
        until then, a finished take without its file may yet be sent back to download."""
        self._max_workers = max_workers
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._next_adoption = 0.0

    @property
    def policy(self) -> PollPolicy:
        return self.context.policy

    @policy.setter
    def policy(self, policy: PollPolicy) -> None:
        self.context.policy = policy

    @property
    def sends(self) -> SendQueue:
        """Takes waiting for their provider to allow the send (the studio gives it the sender and the limits)."""
        return self.context.sends

    @sends.setter
    def sends(self, sends: SendQueue) -> None:
        self.context.sends = sends

    # -- life --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Resume every unfinished job, then poll in the background; finished jobs' files are looked
        for in the background too (`Resumer.refetch_missing`)."""
        with self.context.cond:
            if self.running:
                return
            self.context.stopping = False
            self.resumer.resume(check_files=False)
            self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="dailies-track")
            self._thread = threading.Thread(target=self._loop, name="dailies-tracker", daemon=True)
            self._thread.start()
            self.files_checked.clear()
        threading.Thread(target=self.resumer.refetch_missing, name="dailies-files-check", daemon=True).start()

    def stop(self, timeout: float = 10.0) -> None:
        with self.context.cond:
            self.context.stopping = True
            self.context.cond.notify_all()
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
        return self.resumer.resume(check_files=check_files)

    # -- what the studio, pages and webhooks tell it ------------------------------------------------

    def upload(self, job_id: str) -> Job | None:
        """Upload a completed job's files to the bucket now (see `Uploader.upload`)."""
        return self.uploads.upload(job_id)

    def upload_failing(self, job_id: str) -> bool:
        """The job's files are waiting for another try at the bucket."""
        return self.uploads.failing(job_id)

    def upload_soon(self, job_id: str) -> None:
        """Send a file made here (an assembly) to the bucket in the background, as a download's would go."""
        self.uploads.soon(job_id)

    def wake(self, job_id: str | None = None) -> None:
        """Ask about a job now (a new submission, a user's refresh), or about every active job."""
        self.context.due_now([job_id] if job_id else [j.id for j in self.store.active()])

    def delivery_arrived(self, provider: str) -> None:
        """A verified webhook delivery came from `provider`: its jobs are polled only as a safety net now."""
        self.safety_net.delivery_arrived(provider)

    def deliveries_stopped(self, provider: str) -> None:
        """Our endpoint at `provider` was removed: its jobs go back to their normal schedule now."""
        self.safety_net.deliveries_stopped(provider)

    def pushing(self, provider: str) -> bool:
        """Whether `provider`'s deliveries arrive, so polling it can slow down."""
        return self.safety_net.pushing(provider)

    def nudge(self, provider: str, remote_id: str, status: str) -> str | None:
        """A verified event names the provider's video `remote_id`: ask about that job at once (`SafetyNet.nudge`)."""
        return self.safety_net.nudge(provider, remote_id, status)

    def hold(self, job_id: str) -> None:
        """Leave a job alone while its create is on the wire (it has no provider id yet, and must not be
        mistaken for one whose answer was lost). `track` releases it."""
        with self.context.cond:
            self.context.held.add(job_id)
        self.leases.claim(self.store, job_id, self.owner)  # no other process's tracker touches it meanwhile

    def release(self, job_id: str) -> None:
        with self.context.cond:
            self.context.held.discard(job_id)

    def track(self, job_id: str, first_poll_in: float | None = None) -> None:
        """Start following a newly submitted job."""
        with self.context.cond:
            self.context.held.discard(job_id)
            sched = self.context.schedule(job_id)
            first = self.policy.first if first_poll_in is None else first_poll_in
            job = self.store.get(job_id)
            sched.asked_at = self.clock()
            sched.next_at = self.safety_net.next_poll(job, first) if job is not None else self.clock() + first
            self.context.cond.notify_all()

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
        with self.context.cond:
            self.context.schedules[job_id] = Schedule(next_at=self.clock())
            self.context.cond.notify_all()
        return job

    def last_error(self, job_id: str) -> str | None:
        sched = self.context.schedules.get(job_id)
        return sched.last_error if sched else None

    # -- the loop ----------------------------------------------------------------------------------

    def _loop(self) -> None:
        cond = self.context.cond
        while True:
            with cond:
                if self.context.stopping:
                    return
                self._adopt_others()
                due = self._due_jobs()
                uploads = self.uploads.due()
                if not due and not uploads:
                    cond.wait(timeout=self._time_to_next())
                    continue
                for job_id in due:
                    self.context.schedules[job_id].in_flight = True
            for job_id in due:
                assert self._pool is not None
                future = self._pool.submit(self._advance_safely, job_id)
                future.add_done_callback(self._done_callback(job_id))
            for job_id in uploads:
                assert self._pool is not None
                self._pool.submit(self.uploads.upload_safely, job_id)

    def _advance_safely(self, job_id: str) -> None:
        """One step in the pool: an unexpected error backs the job off instead of spinning on it."""
        try:
            self.advance(job_id)
        except Exception as exc:
            log.exception("tracking %s failed", job_id)
            sched = self.context.schedule(job_id)
            sched.last_error = f"{type(exc).__name__}: {exc}"
            sched.failures += 1
            sched.next_at = self.clock() + self.policy.cap

    def _done_callback(self, job_id: str) -> Callable[[Future[Any]], None]:
        def done(future: Future[Any]) -> None:
            with self.context.cond:
                sched = self.context.schedules.get(job_id)
                if sched:
                    sched.in_flight = False
                self.context.cond.notify_all()

        return done

    def _adopt_others(self) -> None:
        """Now and then, schedule active jobs this tracker does not follow (another process's, which
        it may take over when their lease lapses). Call with `cond` held."""
        now = self.clock()
        if now < self._next_adoption:
            return
        self._next_adoption = now + self.leases.adopt_every_s
        for job in self.store.active():
            self.context.schedules.setdefault(job.id, Schedule(next_at=now))

    def _due_jobs(self) -> list[str]:
        now = self.clock()
        due = []
        schedules = self.context.schedules
        for job_id, sched in list(schedules.items()):
            job = self.store.get(job_id)
            if job is None or not job.is_active:
                del schedules[job_id]
                continue
            if not sched.in_flight and sched.next_at <= now and job_id not in self.context.held:
                due.append(job_id)
        return due

    def _time_to_next(self) -> float:
        """How long the loop may sleep: until the next job or upload is due, a second at most while any is
        pending (a clock set back must not hold them), and with none until the next look for other
        processes' jobs (a submit, a resume or a finished step wakes the loop sooner)."""
        pending = [s.next_at for s in self.context.schedules.values() if not s.in_flight]
        pending += self.uploads.waiting_until()
        if not pending:
            return min(self.leases.adopt_every_s, max(0.01, self._next_adoption - self.clock()))
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
                sched = self.context.schedule(job.id)
                if sched.next_at <= now and job.id not in self.context.held:
                    self.advance(job.id)
            time.sleep(0.02)
        return not self.store.active()

    # -- one step for one job ----------------------------------------------------------------------

    def advance(self, job_id: str) -> Job | None:
        """Take one step for a job, as the worker for its state: send it (waiting), look for it (its create
        never answered), fetch its files (downloading), or poll it. Only under this tracker's lease."""
        job = self.store.get(job_id)
        if job is None or not job.is_active:
            return job
        sched = self.context.schedule(job_id)
        now = self.clock()
        if not self.leases.claim(self.store, job_id, self.owner):
            lease = self.store.lease(job_id) or {}
            sched.next_at = now + self.leases.ask_again_in(float(lease.get("until", 0)), time.time())
            return job  # another process's tracker works on it; ask again when its lease may have lapsed
        job = self.store.get(job_id)  # as the claim found it: its last owner may have just finished it
        if job is None or not job.is_active:
            self.store.release(job_id, self.owner)
            return job
        if job.status is JobStatus.WAITING:
            return self.poller.send_waiting(job, sched, now)
        if job.remote_id is None:
            return self.reconciler.unconfirmed(job, sched, now)
        if job.status is JobStatus.DOWNLOADING:
            return self.fetch.download(job, sched)
        return self.poller.poll(job, sched, now)
