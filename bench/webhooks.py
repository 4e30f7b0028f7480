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

import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.loopback import receiver_server
from bench.polling import (
    FOLLOWER_COLUMNS,
    SdkFollower,
    Server,
    close_once_completed,
    counted_studio,
    launch_one,
    prompt,
    record_completions,
    spread_seeds,
    summarise,
)
from bench.report import cli, columns_table, write
from dailies.engine import EngineConfig, Faults, serve_engine
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
COLUMNS = [("jobs of", "range"), *FOLLOWER_COLUMNS]


class HookedFollower:
    """Our studio on one engine, told by webhooks: each job submitted through `launch`."""

    def __init__(self, stack: ExitStack, base_url: str, home: Path, count: int) -> None:
        self.studio, self.transport = counted_studio(home, base_url, count)
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
        self.job_ids.extend(launch_one(self.studio, prompt(Server(label, Faults(), True), "ours", seed), seed))

    def finish(self, deadline: float) -> None:
        close_once_completed(self.studio, self.job_ids, deadline, "told by webhooks")


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
    print(columns_table(f"Webhooks: status requests per job and detection delay (goal: {GOAL})", COLUMNS, rows))
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
