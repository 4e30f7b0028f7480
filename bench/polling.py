"""Polling: status requests per job and detection delay, our tracker vs the openai SDK's `client.videos.poll`.

Run: `.venv/bin/python -m bench.polling` (`--quick`: shorter jobs, fewer of them). Real providers do
not all say when to ask again, so the same jobs are followed on three kinds of server, each an
embedded engine (`dailies.engine`, its opt-in server behaviours in `Faults`):

- exact hint: `openai-poll-after-ms` is the time the job has left (capped at 5 s), progress reported;
- progress only: no poll-after header (`omit_poll_hint`), progress reported;
- nothing: no header and progress 0 until the job is done (`omit_poll_hint`, `hide_progress`).

Each job takes a time drawn by its seed from 20 to 90 s (`EngineConfig.job_s_range`; quick: 6 to 20 s),
and the seeds are picked so the job times spread evenly over that range. For every seed the SDK and
our tracker each follow one job, started together, so both clients see the same job times. The SDK
uses one thread per job (`videos.create`, then `videos.poll` with its default interval: the first
`openai-poll-after-ms` hint, kept for the whole poll, or 1 s without one); our Studio submits through
`launch` and its one background tracker follows them all. The three servers run at once and the
creates are staggered, so the renders (about 1 s of CPU each) do not pile up on the 2 cores and no job
waits for a worker: the whole run takes about as long as the longest job plus the stagger.

Requests are counted at the HTTP transport: status requests only (`GET /v1/videos/{id}` and
`GET /v1/videos`), not creates, model lists or downloads. Detection delay is the time the client
learned a job had completed (the SDK's `poll` returned; our provider's `refresh` answered `completed`)
minus the moment the engine marked it completed, which is recorded to the microsecond by wrapping the
in-process engine's `JobBook._finish` (the video object's own `completed_at` is whole seconds).
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai

from bench.report import cli, columns_table, write
from dailies.config import Environment, Settings, SettingsFile
from dailies.engine import EngineConfig, Faults, serve_engine
from dailies.engine.state import JobBook
from dailies.jobs import JobRequest, JobStatus
from dailies.providers.base import RemoteVideo
from dailies.studio import Studio


@dataclass(frozen=True)
class Server:
    name: str
    faults: Faults
    reports_progress: bool


SERVERS = (
    Server("exact hint", Faults(), True),
    Server("progress only", Faults(omit_poll_hint=True), True),
    Server("nothing", Faults(omit_poll_hint=True, hide_progress=True), False),
)
JOB_S_FULL, JOB_S_QUICK = (20.0, 90.0), (6.0, 20.0)
JOBS_FULL, JOBS_QUICK = 6, 3
STAGGER_FULL_S, STAGGER_QUICK_S = 2.5, 2.5
MAX_MEDIAN_DELAY_S = 1.0
MAX_CLEAN_OVERRUN_S = 1.0
"""A job finishing later than this past its drawn time means the engine's renders were starved of CPU."""
SDK, OURS = "openai SDK videos.poll", "dailies Tracker"
MODEL, SIZE, SECONDS = "dailies-preview", "720x1280", 4
FOLLOWER_COLUMNS = [
    ("client", "client"),
    ("jobs", "jobs"),
    ("job s (min-max)", "job_s_range"),
    ("requests/job", "requests_per_job"),
    ("median delay s", "median_delay_s"),
    ("p90 delay s", "p90_delay_s"),
    ("max delay s", "max_delay_s"),
]
"""What a row says of one client following jobs (as `summarise` counts it), here and in bench/webhooks.py."""
COLUMNS = [("server", "server"), *FOLLOWER_COLUMNS]
STATUS_PATH = re.compile(r"^/v1/videos(?:/(?P<id>[^/]+))?$")
GOAL = (
    "the tracker sends fewer status requests per job than the SDK on every server, "
    f"and its median detection delay is at most {MAX_MEDIAN_DELAY_S:g} s where the server reports progress"
)


class CountingTransport(httpx.HTTPTransport):
    """Counts status requests (retrieve and list) as they leave, per video id."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        match = STATUS_PATH.match(request.url.path)
        if request.method == "GET" and match:
            with self.lock:
                self.counts[match.group("id") or "(list)"] += 1
        return super().handle_request(request)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def record_completions(book: JobBook, durations: dict[str, float], overruns: dict[str, float]) -> dict[str, float]:
    """Wrap the engine's `_finish` on this instance: video id -> the time its status became final (and,
    in `durations`, how long the job was in progress; in `overruns`, how far past its drawn job time it
    ran, which is near 0 unless the renders were starved of CPU)."""
    done: dict[str, float] = {}
    finish = book._finish

    def finish_and_record(job: Any, error: dict[str, Any] | None = None) -> None:
        finish(job, error)
        done[job.id] = time.time()
        durations[job.id] = done[job.id] - (job.started_at or done[job.id])
        overruns[job.id] = durations[job.id] - book.job_seconds(job)

    book._finish = finish_and_record  # type: ignore[method-assign]
    return done


def spread_seeds(count: int) -> list[int]:
    """Seeds whose drawn job times (`JobBook.job_seconds`) fall one in each of `count` equal slices of the range."""
    seeds: list[int] = []
    seed = 1
    for k in range(count):
        while not k / count <= random.Random(seed).random() < (k + 1) / count:
            seed += 1
        seeds.append(seed)
        seed += 1
    return seeds


def prompt(server: Server, client: str, seed: int) -> str:
    return f"a lighthouse at golden hour, take {seed} ({server.name}, {client}), slow pan left"


class SdkFollower:
    """The SDK on one server: each job in its own thread, `create` then `poll`."""

    def __init__(self, server: Server, base_url: str) -> None:
        self.server = server
        self.transport = CountingTransport()
        self.client = openai.OpenAI(base_url=base_url, api_key="x", http_client=httpx.Client(transport=self.transport))
        self.learned: dict[str, float] = {}
        self.threads: list[threading.Thread] = []
        warnings.filterwarnings("ignore", message="The Sora API", category=DeprecationWarning)

    def start(self, seed: int) -> None:
        thread = threading.Thread(target=self._follow, args=(seed,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _follow(self, seed: int) -> None:
        video = self.client.videos.create(
            prompt=prompt(self.server, "sdk", seed),
            model=MODEL,  # type: ignore[arg-type]
            seconds=str(SECONDS),  # type: ignore[arg-type]
            size=SIZE,
            extra_body={"seed": seed},
        )
        final = self.client.videos.poll(video.id)
        self.learned[final.id] = time.time()

    def finish(self, deadline: float) -> None:
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.client.close()


def counted_studio(home: Path, base_url: str, count: int) -> tuple[Studio, CountingTransport]:
    """A studio in `home` on the engine at `base_url`, sending up to `count` takes at once, and the transport that
    counts its provider's requests."""
    SettingsFile(home / "settings.json").save(Settings(max_concurrency=count))
    transport = CountingTransport()
    return Studio(Environment(home=home), engine_base_url=base_url, transport=transport), transport


class TrackerFollower:
    """Our Studio on one server: each job submitted through `launch`, its background tracker following."""

    def __init__(self, server: Server, base_url: str, home: Path, count: int) -> None:
        self.server = server
        self.studio, self.transport = counted_studio(home, base_url, count)
        provider = self.studio.provider()
        self.learned: dict[str, float] = {}
        provider.refresh = _recording(provider.refresh, self.learned)
        self.job_ids: list[str] = []
        self.studio.start()

    def start(self, seed: int) -> None:
        self.job_ids.extend(launch_one(self.studio, prompt(self.server, "ours", seed), seed))

    def finish(self, deadline: float) -> None:
        close_once_completed(self.studio, self.job_ids, deadline, f"on {self.server.name}")


def launch_one(studio: Studio, text: str, seed: int) -> list[str]:
    """One take of `text` launched through the studio, as a person's grid of one is; its job's id."""
    launched = studio.launch([JobRequest(prompt=text, model=MODEL, size=SIZE, seconds=SECONDS, seed=seed)],
                             concurrency=1)
    if launched.errors:
        raise RuntimeError(f"submit failed: {launched.errors}")
    return [job.id for job in launched.jobs]


def close_once_completed(studio: Studio, job_ids: list[str], deadline: float, where: str) -> None:
    """Wait, up to `deadline` (monotonic), until the studio's tracker has no active job, then close the studio;
    every job must have completed."""
    try:
        while studio.store.active() and time.monotonic() < deadline:
            time.sleep(0.05)
        statuses = Counter(studio.store.require(j).status for j in job_ids)
        if statuses != Counter({JobStatus.COMPLETED: len(job_ids)}):
            raise RuntimeError(f"the tracker did not complete every job {where}: {dict(statuses)}")
    finally:
        studio.close()


def _recording(refresh: Callable[[str], RemoteVideo], learned: dict[str, float]) -> Callable[[str], RemoteVideo]:
    def refresh_and_record(remote_id: str) -> RemoteVideo:
        remote = refresh(remote_id)
        if remote.status is JobStatus.COMPLETED:
            learned.setdefault(remote_id, time.time())
        return remote

    return refresh_and_record


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]


def summarise(
    server: Server,
    client: str,
    learned: dict[str, float],
    completed: dict[str, float],
    durations: dict[str, float],
    requests: int,
    expected: int,
) -> dict[str, Any]:
    if len(learned) != expected:
        raise RuntimeError(f"{client} on {server.name} learned {len(learned)} of {expected} completions")
    delays = [learned[vid] - completed[vid] for vid in learned]
    times = [durations[vid] for vid in learned]
    return {
        "server": server.name,
        "reports_progress": server.reports_progress,
        "client": client,
        "jobs": len(learned),
        "job_s_min": min(times),
        "job_s_max": max(times),
        "job_s_range": f"{min(times):.0f}-{max(times):.0f}",
        "status_requests": requests,
        "requests_per_job": requests / len(learned),
        "median_delay_s": statistics.median(delays),
        "p90_delay_s": p90(delays),
        "max_delay_s": max(delays),
    }


def measure(quick: bool, folder: Path) -> tuple[list[dict[str, Any]], float]:
    """All three servers at once; for every seed one SDK job and one tracker job, started together."""
    count = JOBS_QUICK if quick else JOBS_FULL
    job_s = JOB_S_QUICK if quick else JOB_S_FULL
    stagger = STAGGER_QUICK_S if quick else STAGGER_FULL_S
    seeds = spread_seeds(count)
    rows: list[dict[str, Any]] = []
    overruns: dict[str, float] = {}
    with ExitStack() as stack:
        followers = []
        for n, server in enumerate(SERVERS):
            config = EngineConfig(
                data_dir=folder / f"engine-{n}", workers=2 * count, job_s_range=job_s, faults=server.faults
            )
            running = stack.enter_context(serve_engine(config))
            durations: dict[str, float] = {}
            completed = record_completions(running.engine.book, durations, overruns)
            sdk = SdkFollower(server, running.base_url)
            ours = TrackerFollower(server, running.base_url, folder / f"home-{n}", count)
            followers.append((server, completed, durations, sdk, ours))
        began = time.monotonic()
        slot = 0
        for seed in seeds:  # round-robin over servers, so each server's jobs start at the same pace
            for _, _, _, sdk, ours in followers:
                time.sleep(max(0.0, began + slot * stagger - time.monotonic()))
                sdk.start(seed)
                ours.start(seed)
                slot += 1
        deadline = time.monotonic() + job_s[1] + 120
        for server, completed, durations, sdk, ours in followers:
            sdk.finish(deadline)
            ours.finish(deadline)
            rows.append(summarise(server, SDK, sdk.learned, completed, durations, sdk.transport.total, count))
            rows.append(summarise(server, OURS, ours.learned, completed, durations, ours.transport.total, count))
    return rows, max(overruns.values())


def checks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The goal, one check per server: fewer requests than the SDK, and (with progress) the delay bound."""
    out = []
    for sdk, ours in zip(rows[::2], rows[1::2], strict=True):
        fewer = ours["requests_per_job"] < sdk["requests_per_job"]
        delay_ok = ours["median_delay_s"] <= MAX_MEDIAN_DELAY_S if sdk["reports_progress"] else None
        out.append(
            {
                "server": sdk["server"],
                "requests_ratio_ours_to_sdk": ours["requests_per_job"] / sdk["requests_per_job"],
                "fewer_requests": fewer,
                "ours_median_delay_s": ours["median_delay_s"],
                "sdk_median_delay_s": sdk["median_delay_s"],
                "median_delay_within_bound": delay_ok,
                "met": fewer and delay_ok is not False,
            }
        )
    return out


def run(quick: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        rows, overrun = measure(quick, Path(tmp))
    print(
        columns_table(
            f"Polling: status requests per job and detection delay (goal: {GOAL})",
            COLUMNS,
            rows,
        )
    )
    results = checks(rows)
    print(f"longest overrun of a job past its drawn time: {overrun:.2f}s (renders starved of CPU if large)")
    if overrun > MAX_CLEAN_OVERRUN_S:
        print(
            "warning: renders were starved of CPU, so job times and progress were not what the servers promised; "
            "the delays measure the busy machine as much as the clients (rerun when the cores are quieter)"
        )
    for c in results:
        bound = c["median_delay_within_bound"]
        verdict = (
            "no bound: no progress" if bound is None else f"{'within' if bound else 'OVER'} {MAX_MEDIAN_DELAY_S:g}s"
        )
        delay = f"median delay {c['ours_median_delay_s']:.2f}s ({verdict}; SDK {c['sdk_median_delay_s']:.2f}s)"
        print(
            f"{c['server']}: ours/SDK requests {c['requests_ratio_ours_to_sdk']:.2f} "
            f"({'fewer' if c['fewer_requests'] else 'NOT fewer'}); {delay} -> {'met' if c['met'] else 'NOT met'}"
        )
    result = {
        "quick": quick,
        "rows": rows,
        "checks": results,
        "max_overrun_s": overrun,
        "renders_starved": overrun > MAX_CLEAN_OVERRUN_S,
        "goal": GOAL,
        "goal_met": all(c["met"] for c in results),
    }
    print(f"goal met: {result['goal_met']}")
    print(f"wrote {write('polling', result)}")
    return result


if __name__ == "__main__":
    cli(run, __doc__)
