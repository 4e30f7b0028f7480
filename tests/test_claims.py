"""Keys claimed once in the store, across processes and restarts (issue 20, items 4, 7 and 10).

- An `Idempotency-Key` makes one take however many requests carry it at once, from however many app
  processes on one data folder: counted in the store and in the engine's own list of videos it made.
- A webhook delivery already received is refused as a replay by a fresh receiver (a restart, a second
  process), because its id is claimed in the store, not remembered in one process's memory.
- Events only hasten: a signed `video.completed` that arrives before the engine has finished the video
  makes the tracker ask; the take completes when the engine says so, and is never failed for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from shell_free import shell_free
from standardwebhooks import Webhook
from until import wait_until

from dailies.config import Environment
from dailies.engine import EngineConfig, serve_engine
from dailies.jobs import JobRequest, JobStatus
from dailies.store import JobStore
from dailies.studio import Studio
from dailies.webhooks import Registration, WebhookBook, WebhookReceiver

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "claims_worker.py"
SECRET = "whsec_" + "Y2xhaW1zLWNsYWltcy1jbGFpbXMtY2xhaW1zLTEyMzQ="


def process_env(home: Path) -> dict[str, str]:
    """This worktree's code first on the path, the test's own data folder, no server from the shell."""
    env = shell_free()
    tests = str(Path(__file__).resolve().parent)
    env.update({"DAILIES_HOME": str(home),
                "PYTHONPATH": os.pathsep.join([str(ROOT), tests, env.get("PYTHONPATH", "")])})
    return env


def start_worker(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WORKER), args[0], str(home), *args[1:]], cwd=ROOT,
                            env=process_env(home), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(workers: list[subprocess.Popen[str]], timeout: float = 120) -> list[list[str]]:
    outputs = [w.communicate(timeout=timeout) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    return [out.splitlines() for out, _ in outputs]


# The store's claims themselves (one winner of many processes, expiry, release) are tested against both
# backends in tests/store_conformance/.


# -- Idempotency-Key across processes --------------------------------------------------------------------


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_one_key_ordered_at_once_from_two_processes_makes_one_take(tmp_path: Path) -> None:
    """The pipeline's rules in two processes on one data folder (the fast complement of the app test below)."""
    home = tmp_path / "home"
    home.mkdir()
    keys = [f"order-{n}" for n in range(4)]
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2)) as engine:
        for key in keys:
            (home / "go").unlink(missing_ok=True)
            prompt = f"a lighthouse at dusk, {key}"
            workers = [start_worker(home, "order", engine.base_url, key, prompt, "10") for _ in range(2)]
            for worker in workers:
                assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
            (home / "go").touch()
            answers = [line for lines in finish(workers) for line in lines]
            assert len(answers) == 20 and not [a for a in answers if a.startswith("refused")], answers
            assert len([a for a in answers if a.startswith("made ")]) == 1, answers
            made = {a.split()[1] for a in answers if a.startswith(("made ", "same "))}
            assert len(made) == 1, f"every answer with a take names the same one: {answers}"
        listed = Counter(job.prompt for job in engine.engine.book.listed())
    assert listed == Counter({f"a lighthouse at dusk, {key}": 1 for key in keys}), "one paid video per key"
    stored = Counter(job.prompt for job in JobStore(home / "jobs.json").all())
    assert stored == listed


TOKEN = "claims-token-for-tests-0123456789"
ENGINE_KEY = "engine-key-for-the-claims-test"


@contextlib.contextmanager
def two_apps(folder: Path, engine_url: str) -> Iterator[list[str]]:
    """Two real app processes (`streamlit run app.py`) on one data folder, with the pipeline API on."""
    from tests.e2e.running_app import start_streamlit, stop_app

    env = {"DAILIES_ENGINE_URL": engine_url, "DAILIES_ENGINE_KEY": ENGINE_KEY, "DAILIES_API_TOKEN": TOKEN}
    started = []
    try:
        for n in range(2):
            started.append(start_streamlit(folder / "home", folder / f"app{n}.log", env=env))
        yield [url for _process, url in started]
    finally:
        for process, _url in started:
            stop_app(process)


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_twenty_posts_with_one_key_split_between_two_apps_make_one_take(tmp_path: Path) -> None:
    """Issue 20 item 4 as reported: two apps on one DAILIES_HOME, 20 concurrent POSTs per key split between
    them. Each key makes exactly one take: one 201, the rest 200 (the same take) or 409 (still being sent)."""
    keys = [f"cms-{n}" for n in range(7)]
    # The engine runs on the data folder's engine folder, so that both apps use it (one engine per folder).
    engine_folder = tmp_path / "home" / "engine"
    with serve_engine(EngineConfig(data_dir=engine_folder, api_key=ENGINE_KEY, workers=2)) as engine, \
            two_apps(tmp_path, engine.base_url) as urls:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        # One connection per thread, open before the race (the first request of each app also builds its
        # studio), and a barrier: the 20 POSTs of a key reach the two apps within a millisecond or so.
        clients = [httpx.Client(base_url=urls[n % 2], headers=auth, timeout=60) for n in range(20)]
        try:
            for client in clients:
                assert client.get("/api/v1/takes").status_code == 200

            def post(n: int, key: str, start: threading.Barrier) -> httpx.Response:
                start.wait()
                return clients[n].post("/api/v1/takes", json={"prompt": f"a paper crane, {key}", "seconds": 4},
                                       headers={"Idempotency-Key": key})

            with ThreadPoolExecutor(max_workers=20) as pool:
                for key in keys:
                    start = threading.Barrier(20)
                    answers = list(pool.map(lambda n, k=key, b=start: post(n, k, b), range(20)))
                    statuses = Counter(a.status_code for a in answers)
                    assert statuses[201] == 1 and set(statuses) <= {200, 201, 409}, (key, statuses)
                    ids = {a.json()["id"] for a in answers if a.status_code in (200, 201)}
                    assert len(ids) == 1, (key, ids)
        finally:
            for client in clients:
                client.close()
        listed = Counter(job.prompt for job in engine.engine.book.listed())
    assert listed == Counter({f"a paper crane, {key}": 1 for key in keys}), "one paid video per key at the engine"
    stored = Counter(job.prompt for job in JobStore(tmp_path / "home" / "jobs.json").all())
    assert stored == listed, "one take per key in the store"


# -- webhook replay after a restart ----------------------------------------------------------------------


class Told:
    """What the receiver told the tracker."""

    def __init__(self) -> None:
        self.nudges: list[tuple[str, str, str]] = []

    def delivery_arrived(self, provider: str) -> None:
        pass

    def nudge(self, provider: str, remote_id: str, status: str) -> str | None:
        self.nudges.append((provider, remote_id, status))
        return None


def signed_event(remote_id: str, event_id: str, event_type: str = "video.completed") -> tuple[str, dict[str, str]]:
    body = json.dumps({"id": event_id, "object": "event", "created_at": int(time.time()), "type": event_type,
                       "data": {"id": remote_id}})
    stamp = datetime.fromtimestamp(int(time.time()), tz=UTC)
    return body, {"webhook-id": event_id, "webhook-timestamp": str(int(stamp.timestamp())),
                  "webhook-signature": Webhook(SECRET).sign(event_id, stamp, body)}


def registered(home: Path) -> WebhookBook:
    book = WebhookBook(home)
    book.put(Registration("engine", "whep_1", "http://127.0.0.1:1/hooks/engine", SECRET, time.time()))
    return book


def test_a_replayed_webhook_is_refused_after_a_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    body, headers = signed_event("video_7", "evt_replayed")
    told = Told()
    first = WebhookReceiver(registered(home), told).receive("engine", body.encode(), headers)
    assert first.status == 200 and told.nudges == [("engine", "video_7", "completed")]

    # A restart, as fresh objects over the same folder: the replay is known.
    again = WebhookReceiver(WebhookBook(home), told).receive("engine", body.encode(), headers)
    assert again.status == 200 and "Already received" in again.message
    assert told.nudges == [("engine", "video_7", "completed")], "the replay was not handed on"

    # ...and as a fresh process on the same data folder.
    delivery = tmp_path / "delivery.json"
    delivery.write_text(json.dumps({"provider": "engine", "body": body, "headers": headers}))
    (lines,) = finish([start_worker(home, "receive", str(delivery))])
    assert lines == ["answer 200 Already received; ignored."], lines

    # Another delivery is still taken, by that fresh process.
    body2, headers2 = signed_event("video_8", "evt_new")
    delivery.write_text(json.dumps({"provider": "engine", "body": body2, "headers": headers2}))
    (lines,) = finish([start_worker(home, "receive", str(delivery))])
    assert "nudged engine video_8 completed" in lines and lines[-1].startswith("answer 200")


def test_a_webhook_id_is_claimed_in_the_apps_own_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = JobStore(home / "jobs.json")
    book = WebhookBook(home, store)
    book.put(Registration("engine", "whep_1", "http://127.0.0.1:1/hooks/engine", SECRET, time.time()))
    body, headers = signed_event("video_9", "evt_9")
    assert WebhookReceiver(book, Told()).receive("engine", body.encode(), headers).status == 200
    assert store.claims("webhook_ids").get("engine:evt_9") is not None
    assert "Already received" in WebhookReceiver(WebhookBook(home), Told()).receive(
        "engine", body.encode(), headers).message


# -- an early event never makes a final state ------------------------------------------------------------


@pytest.mark.slow  # a real process, server or render: out of the fast tier
@pytest.mark.parametrize("event_type", ["video.completed", "video.failed"])
def test_an_early_event_neither_fails_nor_completes_the_take(tmp_path: Path, event_type: str) -> None:
    """A signed `video.completed` (or a `video.failed` out of order) arrives while the engine is still rendering:
    the take is asked about, keeps being polled, and completes when the engine has finished, with its video."""
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, min_job_s=6.0)) as engine:
        studio = Studio(Environment(home=tmp_path / "home"), engine_base_url=engine.base_url)
        studio.start()
        try:
            book = registered(studio.home)
            receiver = WebhookReceiver(book, studio.tracker)
            job = studio.submit(JobRequest("a slow dolly along a pier", "dailies-preview", "720x1280", 4))
            assert job.remote_id
            body, headers = signed_event(job.remote_id, "evt_early", event_type)
            outcome = receiver.receive("engine", body.encode(), headers)
            assert outcome.status == 200 and outcome.job_id == job.id
            assert engine.engine.book.get(job.remote_id).status != "completed", "the event came early"

            def ended() -> bool:
                now = studio.store.require(job.id)
                assert now.status is not JobStatus.FAILED, f"failed by an early {event_type}: {now.error}"
                if now.status is JobStatus.COMPLETED:
                    assert engine.engine.book.get(job.remote_id).status == "completed", "completed by the engine"
                return now.status is JobStatus.COMPLETED and "video" in now.files

            wait_until(ended, 60, "the take to complete once the engine has finished")
            assert engine.engine.api.status_requests[job.remote_id] >= 2, "polled on after the early event"
        finally:
            studio.close()
