"""Webhooks: status requests per job and detection delay, our tracker told by webhooks vs the SDK's `videos.poll`.

Run: `.venv/bin/python -m bench.webhooks` (`--quick`: fewer, shorter jobs). Beside `bench.polling`,
on the same kind of server (an embedded engine sending `openai-poll-after-ms` and progress), with its
webhook endpoint registered to our receiver (`dailies.webhooks.WebhookReceiver` behind a loopback
HTTP server, as the app mounts it at /hooks/<provider>) and proven by a test event, so the tracker
polls only as its safety net while deliveries arrive (a job is asked about once deliveries have been
quiet for a minute, and at least every 5 minutes).

Two job lengths, each on its own engine, both at once: jobs of 10–50 s (inside the safety net's
minute) and the polling benchmark's 20–90 s (some outlast it: with the other jobs' events arriving,
their safety-net poll waits). For every seed the SDK and our studio each follow one job, started
together. Status requests (`GET /v1/videos[/{id}]`) are counted at each client's HTTP transport.
Detection delay: when the client learned the job had completed (the SDK's `poll` returned; our
receiver handed the verified `video.completed` event to the tracker) minus when the engine marked it
completed.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.polling import (
    MODEL,
    SECONDS,
    SIZE,
    CountingTransport,
    SdkFollower,
    Server,
    prompt,
    record_completions,
    spread_seeds,
    summarise,
)
from bench.report import cli, table, write
from dailies.config import Environment, Settings, SettingsFile
from dailies.engine import EngineConfig, Faults, serve_engine
from dailies.engine.server import free_port
from dailies.jobs import JobRequest, JobStatus
from dailies.studio import Studio
from dailies.webhooks import WebhookBook, WebhookReceiver, register

RANGES_FULL = {"10-50 s jobs": (10.0, 50.0), "20-90 s jobs": (20.0, 90.0)}
RANGES_QUICK = {"6-20 s jobs": (6.0, 20.0)}
JOBS_FULL, JOBS_QUICK = 6, 3
STAGGER_S = 3.0
"""Between creates. Not 2.5: with two engines each client then sends every 5 s, exactly uvicorn's keep-alive
timeout, and a create sent on a connection the server is closing comes back reset (unconfirmed)."""
MAX_REQUESTS_PER_JOB = 1.2
"""Events only hasten: each `video.completed` makes the tracker ask once (the provider's answer completes the job),
so one request per job, and a few safety-net polls across the run."""
MAX_MEDIAN_DELAY_S = 0.2
SDK, OURS = "openai SDK videos.poll", "dailies Tracker + webhooks"
GOAL = f"with webhooks, < {MAX_REQUESTS_PER_JOB:g} status requests per job and median delay < {MAX_MEDIAN_DELAY_S:g} s"
COLUMNS = [
    ("jobs of", "range"),
    ("client", "client"),
    ("jobs", "jobs"),
    ("job s (min-max)", "job_s_range"),
    ("requests/job", "requests_per_job"),
    ("median delay s", "median_delay_s"),
    ("p90 delay s", "p90_delay_s"),
    ("max delay s", "max_delay_s"),
]


@contextlib.contextmanager
def receiver_server(receiver: WebhookReceiver) -> Iterator[str]:
    """The receiver behind a loopback HTTP server; yields the base URL deliveries go to."""

    async def handle(request: Request) -> JSONResponse:
        outcome = receiver.receive(request.path_params["provider"], await request.body(), request.headers)
        return JSONResponse({"message": outcome.message}, status_code=outcome.status)

    port = free_port()
    app = Starlette(routes=[Route("/hooks/{provider}", handle, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


class HookedFollower:
    """Our studio on one engine, told by webhooks: each job submitted through `launch`."""

    def __init__(self, stack: ExitStack, base_url: str, home: Path, count: int) -> None:
        SettingsFile(home / "settings.json").save(Settings(max_concurrency=count))
        self.transport = CountingTransport()
        self.studio = Studio(Environment(home=home), engine_base_url=base_url, transport=self.transport)
        provider = self.studio.provider()
        self.learned: dict[str, float] = {}
        nudge = self.studio.tracker.nudge

        def nudge_and_record(name: str, remote_id: str, status: str) -> str | None:
            told_at = time.time()
            job_id = nudge(name, remote_id, status)
            if job_id and status == "completed":  # a job of ours (not the test event's sample video)
                self.learned.setdefault(remote_id, told_at)
            return job_id

        self.studio.tracker.nudge = nudge_and_record  # type: ignore[method-assign]
        self.studio.start()
        book = WebhookBook(home, self.studio.store)
        hooks = stack.enter_context(receiver_server(WebhookReceiver(book, self.studio.tracker)))
        registration = register(book, "engine", provider, hooks)
        answer = provider.test_webhook_endpoint(registration.endpoint_id)
        if answer.get("status_code") != 200 or not self.studio.tracker.pushing("engine"):
            raise RuntimeError(f"the test event did not arrive: {answer}")
        self.job_ids: list[str] = []

    def start(self, label: str, seed: int) -> None:
        text = prompt(Server(label, Faults(), True), "ours", seed)
        launched = self.studio.launch([JobRequest(prompt=text, model=MODEL, size=SIZE, seconds=SECONDS, seed=seed)],
                                      concurrency=1)
        if launched.errors:
            raise RuntimeError(f"submit failed: {launched.errors}")
        self.job_ids.extend(job.id for job in launched.jobs)

    def finish(self, deadline: float) -> None:
        try:
            while self.studio.store.active() and time.monotonic() < deadline:
                time.sleep(0.05)
            statuses = {self.studio.store.require(j).status for j in self.job_ids}
            if statuses != {JobStatus.COMPLETED}:
                raise RuntimeError(f"not every job completed: {statuses}")
        finally:
            self.studio.close()


def measure(quick: bool, folder: Path) -> list[dict[str, Any]]:
    count = JOBS_QUICK if quick else JOBS_FULL
    ranges = RANGES_QUICK if quick else RANGES_FULL
    seeds = spread_seeds(count)
    rows: list[dict[str, Any]] = []
    with ExitStack() as stack:
        followers = []
        for n, (label, job_s) in enumerate(ranges.items()):
            config = EngineConfig(data_dir=folder / f"engine-{n}", workers=2 * count, job_s_range=job_s)
            running = stack.enter_context(serve_engine(config))
            durations: dict[str, float] = {}
            completed = record_completions(running.engine.book, durations, {})
            server = Server(label, Faults(), True)
            sdk = SdkFollower(server, running.base_url)
            ours = HookedFollower(stack, running.base_url, folder / f"home-{n}", count)
            followers.append((label, server, completed, durations, sdk, ours))
        began = time.monotonic()
        slot = 0
        for seed in seeds:
            for label, _, _, _, sdk, ours in followers:
                time.sleep(max(0.0, began + slot * STAGGER_S - time.monotonic()))
                sdk.start(seed)
                ours.start(label, seed)
                slot += 1
        deadline = time.monotonic() + max(r[1] for r in ranges.values()) + 120
        for label, server, completed, durations, sdk, ours in followers:
            sdk.finish(deadline)
            ours.finish(deadline)
            for client, follower in ((SDK, sdk), (OURS, ours)):
                row = summarise(server, client, follower.learned, completed, durations, follower.transport.total,
                                count)
                rows.append({"range": label, **row})
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        rows = measure(quick, Path(tmp))
    print(table(f"Webhooks: status requests per job and detection delay (goal: {GOAL})",
                [header for header, _ in COLUMNS], [[r[key] for _, key in COLUMNS] for r in rows]))
    checks = []
    for row in rows:
        if row["client"] != OURS:
            continue
        met = row["requests_per_job"] < MAX_REQUESTS_PER_JOB and row["median_delay_s"] < MAX_MEDIAN_DELAY_S
        checks.append({"range": row["range"], "requests_per_job": row["requests_per_job"],
                       "median_delay_s": row["median_delay_s"], "met": met})
        print(f"{row['range']}: {row['requests_per_job']:.2f} requests/job, median delay "
              f"{row['median_delay_s']:.3f} s -> {'met' if met else 'NOT met'}")
    result = {"quick": quick, "rows": rows, "checks": checks, "goal": GOAL,
              "goal_met": all(c["met"] for c in checks)}
    print(f"goal met: {result['goal_met']}")
    print(f"wrote {write('webhooks', result)}")
    return result


if __name__ == "__main__":
    cli(run, __doc__)
