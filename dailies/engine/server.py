"""Running the engine on a loopback port in a background thread: for tests, the CLI and benchmarks."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import uvicorn

from ..server_tick import QuietServer
from . import Engine, EngineConfig


@dataclass(frozen=True)
class RunningEngine:
    engine: Engine
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve_engine(config: EngineConfig, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningEngine]:
    """Serve an engine until the block ends; yields once it answers."""
    engine = Engine(dataclasses.replace(config, allowed_hosts=(*config.allowed_hosts, host)))
    port = port or free_port(host)
    server = QuietServer(
        uvicorn.Config(
            engine.app, host=host, port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, name=f"dailies-engine-http-{port}", daemon=True)
    engine.start()
    thread.start()
    running = RunningEngine(engine, host, port)
    slowness = config.faults.latency_ms / 1000  # an engine made slow on purpose still has to start
    deadline = time.monotonic() + 15 + slowness
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    while True:
        try:
            httpx.get(f"{running.base_url}/models", headers=headers, timeout=1.0 + slowness)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or not thread.is_alive():
                server.should_exit = True
                engine.close()
                raise RuntimeError(f"the engine did not start on {host}:{port}") from None
            time.sleep(0.05)
    engine.folder.publish(running.base_url, config.api_key)  # now that it answers: a CLI next to it may use it
    try:
        yield running
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.close()
