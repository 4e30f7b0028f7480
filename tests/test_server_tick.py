"""The once-a-second server loop still does what uvicorn's tick did: fresh Date headers, and a stop when asked."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from shell_free import shell_free
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from until import wait_until

from dailies.engine.server import free_port
from dailies.server_tick import QuietServer

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_date_header_moves_on_and_the_server_stops_when_told(tmp_path: Path) -> None:
    app = Starlette(routes=[Route("/", lambda _request: PlainTextResponse("ok"))])
    port = free_port()
    server = QuietServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/"
    first = wait_until(lambda: _answer(url), 15, "the server's first answer")
    time.sleep(2.2)  # two of the loop's ticks: the header is made once a second
    later = httpx.get(url, timeout=5)
    assert later.headers["date"] != first.headers["date"], "the Date header was not refreshed"
    server.should_exit = True
    thread.join(10)
    assert not thread.is_alive(), "the server did not stop when told"


def _answer(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_engine_process_stops_on_a_signal(tmp_path: Path, sig: signal.Signals) -> None:
    port = free_port()
    env = {**shell_free(),
           "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "dailies.engine", "--port", str(port), "--data-dir", str(tmp_path / "engine")],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until(lambda: _answer(f"http://127.0.0.1:{port}/v1/models") is not None or process.poll() is not None,
                   60, "the engine's first answer")
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(sig)
        # uvicorn shuts down, then raises the signal again so that the exit says what stopped it
        assert process.wait(timeout=15) in (0, -sig), process.stderr.read() if process.stderr else ""
        assert "Finished server process" in (process.stderr.read() if process.stderr else ""), "no clean shutdown"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
