"""Polling: status requests per job and detection delay, our tracker vs the openai SDK's `client.videos.poll`.

Run: `.venv/bin/python -m bench.polling` (`--quick`: one render time, fewer jobs). An embedded engine
(8 workers) makes every job take at least T seconds (`min_job_s`), for T of 3.5 s and 8.5 s (half-second
offsets, so that a client polling on whole seconds from the create is not phase-locked to the end of
the render: at T = 3 s the SDK's 1 s cadence lands just after completion by construction). For each T,
a batch of 4 s 720x1280 jobs (6; quick: 3) is followed to completion by the SDK (one thread per job:
`videos.create` then `videos.poll` with the SDK's default interval, which is the engine's first
`openai-poll-after-ms` hint, kept for the whole poll), and a batch of the same size by our Studio's
background tracker. Both run in this process against the same engine, one batch at a time, so no job
waits for a worker; full runs do 3 rounds, alternating which client goes first (quick: 1 round).

Requests are counted at the HTTP transport: status requests only (`GET /v1/videos/{id}` and
`GET /v1/videos`), not creates, model lists or downloads. Detection delay is the time the client
learned a job had completed (the SDK's `poll` returned; our provider's `refresh` answered `completed`)
minus the moment the engine marked it completed, which is recorded to the microsecond by wrapping the
in-process engine's `JobBook._finish` (the video object's own `completed_at` is whole seconds).
"""

from __future__ import annotations

import re
import statistics
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai

from bench.report import cli, table, write
from dailies.client import RetryPolicy, VideosClient
from dailies.config import Environment, Settings, SettingsFile
from dailies.engine import EngineConfig, serve_engine
from dailies.engine.state import JobBook
from dailies.jobs import JobRequest, JobStatus
from dailies.providers.base import RemoteVideo
from dailies.studio import Studio

RENDER_TIMES_FULL = (3.5, 8.5)
RENDER_TIMES_QUICK = (3.5,)
JOBS_FULL = 6
JOBS_QUICK = 3
ROUNDS_FULL = 3
ROUNDS_QUICK = 1
SDK, OURS = "openai SDK videos.poll", "dailies Tracker"
MODEL, SIZE, SECONDS = "dailies-preview", "720x1280", 4
COLUMNS = [
    ("T (s)", "render_s"),
    ("client", "client"),
    ("jobs", "jobs"),
    ("job s (mean)", "job_s_mean"),
    ("requests/job", "requests_per_job"),
    ("median delay s", "median_delay_s"),
    ("p90 delay s", "p90_delay_s"),
    ("max delay s", "max_delay_s"),
]
STATUS_PATH = re.compile(r"^/v1/videos(?:/(?P<id>[^/]+))?$")


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


def record_completions(book: JobBook, durations: dict[str, float]) -> dict[str, float]:
    """Wrap the engine's `_finish` on this instance: video id -> the time its status became final
    (and, in `durations`, how long the job was in progress)."""
    done: dict[str, float] = {}
    finish = book._finish

    def finish_and_record(job: Any, error: dict[str, Any] | None = None) -> None:
        finish(job, error)
        done[job.id] = time.time()
        durations[job.id] = done[job.id] - (job.started_at or done[job.id])

    book._finish = finish_and_record  # type: ignore[method-assign]
    return done


def prompts(count: int, tag: str) -> list[str]:
    return [f"a lighthouse at golden hour, take {i} ({tag}), slow pan left" for i in range(count)]


def follow_with_sdk(base_url: str, count: int) -> tuple[dict[str, float], CountingTransport]:
    """Create and poll `count` videos with the SDK, one thread each. Returns video id -> time learned."""
    transport = CountingTransport()
    client = openai.OpenAI(base_url=base_url, api_key="x", http_client=httpx.Client(transport=transport))
    learned: dict[str, float] = {}
    warnings.filterwarnings("ignore", message="The Sora API", category=DeprecationWarning)

    def one(prompt: str) -> None:
        video = client.videos.create(prompt=prompt, model=MODEL, seconds=str(SECONDS), size=SIZE)  # type: ignore[arg-type]
        final = client.videos.poll(video.id)
        learned[final.id] = time.time()

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(one, prompts(count, "sdk")))
    client.close()
    return learned, transport


def follow_with_tracker(
    base_url: str, count: int, home: Path, timeout: float = 120
) -> tuple[dict[str, float], CountingTransport]:
    """Submit `count` jobs through a Studio and let its background tracker see them through (files too)."""
    SettingsFile(home / "settings.json").save(Settings(max_concurrency=count))
    studio = Studio(Environment(home=home), engine_base_url=base_url)
    transport = CountingTransport()
    provider = studio.provider()
    provider.client = VideosClient(base_url, transport=transport, retry=RetryPolicy(max_retries=2))
    learned: dict[str, float] = {}
    provider.refresh = _recording(provider.refresh, learned)
    studio.start()
    try:
        requests = [JobRequest(prompt=p, model=MODEL, size=SIZE, seconds=SECONDS) for p in prompts(count, "ours")]
        launched = studio.launch(requests, concurrency=count)
        if launched.errors:
            raise RuntimeError(f"submits failed: {launched.errors}")
        end = time.monotonic() + timeout
        while studio.store.active() and time.monotonic() < end:
            time.sleep(0.05)
        statuses = Counter(studio.store.require(j.id).status for j in launched.jobs)
        if statuses != Counter({JobStatus.COMPLETED: count}):
            raise RuntimeError(f"tracker did not complete every job: {dict(statuses)}")
    finally:
        studio.close()
    return learned, transport


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
    client: str,
    render_s: float,
    learned: dict[str, float],
    completed: dict[str, float],
    durations: dict[str, float],
    requests: int,
) -> dict[str, Any]:
    delays = [learned[vid] - completed[vid] for vid in learned]
    return {
        "render_s": render_s,
        "client": client,
        "jobs": len(learned),
        "job_s_mean": statistics.mean(durations[vid] for vid in learned),
        "status_requests": requests,
        "requests_per_job": requests / len(learned),
        "median_delay_s": statistics.median(delays),
        "p90_delay_s": p90(delays),
        "max_delay_s": max(delays),
    }


def measure(render_s: float, count: int, rounds: int, folder: Path) -> list[dict[str, Any]]:
    """`rounds` batches per client on one engine, alternating which client goes first."""
    config = EngineConfig(data_dir=folder / "engine", workers=8, min_job_s=render_s)
    learned: dict[str, dict[str, float]] = {SDK: {}, OURS: {}}
    requests = dict.fromkeys(learned, 0)
    with serve_engine(config) as running:
        durations: dict[str, float] = {}
        completed = record_completions(running.engine.book, durations)
        for n in range(rounds):
            for client in (SDK, OURS) if n % 2 == 0 else (OURS, SDK):
                if client == SDK:
                    seen, transport = follow_with_sdk(running.base_url, count)
                else:
                    seen, transport = follow_with_tracker(running.base_url, count, folder / f"home-{n}")
                learned[client].update(seen)
                requests[client] += transport.total
    return [summarise(c, render_s, learned[c], completed, durations, requests[c]) for c in (SDK, OURS)]


def run(quick: bool = False) -> dict[str, Any]:
    count = JOBS_QUICK if quick else JOBS_FULL
    rows: list[dict[str, Any]] = []
    for render_s in RENDER_TIMES_QUICK if quick else RENDER_TIMES_FULL:
        with tempfile.TemporaryDirectory() as tmp:
            rows.extend(measure(render_s, count, ROUNDS_QUICK if quick else ROUNDS_FULL, Path(tmp)))
    print(
        table(
            "Polling: status requests per job and detection delay (goal: fewer requests than the SDK, delay no worse)",
            [header for header, _ in COLUMNS],
            [[r[key] for _, key in COLUMNS] for r in rows],
        )
    )
    comparisons = []
    for sdk, ours in zip(rows[::2], rows[1::2], strict=True):
        comparisons.append(
            {
                "render_s": sdk["render_s"],
                "requests_ratio_ours_to_sdk": ours["requests_per_job"] / sdk["requests_per_job"],
                "median_delay_diff_s": ours["median_delay_s"] - sdk["median_delay_s"],
                "p90_delay_diff_s": ours["p90_delay_s"] - sdk["p90_delay_s"],
            }
        )
    for c in comparisons:
        print(
            f"T={c['render_s']:g}s: ours/SDK requests {c['requests_ratio_ours_to_sdk']:.2f}; "
            f"median delay {c['median_delay_diff_s']:+.2f}s, p90 {c['p90_delay_diff_s']:+.2f}s vs the SDK"
        )
    result = {
        "quick": quick,
        "rows": rows,
        "comparisons": comparisons,
        "goal": "fewer status requests per job than the SDK's poll, with detection delay no worse",
        "goal_met": all(c["requests_ratio_ours_to_sdk"] < 1 and c["median_delay_diff_s"] <= 0.05 for c in comparisons),
    }
    print(f"wrote {write('polling', result)}")
    return result


if __name__ == "__main__":
    cli(run, __doc__)
