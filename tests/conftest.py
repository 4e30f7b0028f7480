"""Shared fixtures: an isolated data folder for every test, and a real engine on loopback."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dailies.engine import server as _engine_server


def _ports_of_this_worker() -> None:
    """Under pytest-xdist, every port a test picks (`free_port`, and the engines it serves) comes from a range
    of this worker's own, below the kernel's ephemeral range.

    A port is picked free and bound later, by a server thread or a subprocess: meanwhile the kernel may hand the
    same port to another worker's pick, and two servers collide (one fails to start, or a test talks to the
    other's server). Ranges of their own keep workers apart; the kernel still picks the ports the app's and the
    engine's subprocesses choose themselves, which never fall in these ranges."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    import random
    import socket

    span = 1000
    low = 20_000 + (int(worker[2:]) % 12) * span  # 20000-31999: under 32768, where Linux's ephemeral ports start
    # A random start: two runs on one machine (two worktrees) do not walk the same ports in step.
    order = itertools.count(random.randrange(span))
    lock = threading.Lock()

    def free_port(host: str = "127.0.0.1") -> int:
        with lock:
            for _ in range(span):
                port = low + next(order) % span
                with socket.socket() as sock:
                    try:
                        sock.bind((host, port))  # no SO_REUSEADDR: a port still in TIME_WAIT is passed over too
                    except OSError:
                        continue
                return port
        raise RuntimeError(f"no free port in {low}-{low + span - 1} for {worker}")

    _engine_server.free_port = free_port


_ports_of_this_worker()

# The suite renders hundreds of takes: x264's `ultrafast` renders each in about 60% of the default's CPU time, still
# a real H.264 MP4 that Chromium plays (`dailies/engine/encoding.py`). Every engine of the run uses it, in this
# process and in the apps and CLIs it starts (`shell_free` keeps it); `DAILIES_ENGINE_PRESET=veryfast` in the shell
# runs the suite on the default. tests/engine/test_output.py renders both presets whatever this says.
os.environ.setdefault("DAILIES_ENGINE_PRESET", "ultrafast")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own DAILIES_HOME and no key or server from the developer's shell."""
    home = tmp_path / "home"
    monkeypatch.setenv("DAILIES_HOME", str(home))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DAILIES_API_KEY", "DAILIES_BASE_URL", "DAILIES_PROVIDER",
                 "DAILIES_ACCESS_TOKEN", "DAILIES_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("DAILIES_PROVIDER_")]:  # providers defined in the shell
        monkeypatch.delenv(name)
    return home


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[object]:
    """A real embedded engine serving the OpenAI Videos API on 127.0.0.1 (fast jobs)."""
    from dailies.engine import EngineConfig, serve_engine

    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2)) as running:
        yield running


@pytest.fixture
def studio(engine, isolated_home: Path) -> Iterator[object]:
    """A studio on the test's own engine, its tracker started (a module with other needs defines its own)."""
    from dailies.config import Environment
    from dailies.studio import Studio

    made = Studio(Environment(home=isolated_home), engine_base_url=engine.base_url)
    made.start()
    yield made
    made.close()


@pytest.fixture(scope="session")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One engine for a whole session, for tests that only read or add their own jobs."""
    from dailies.engine import EngineConfig, serve_engine

    with serve_engine(EngineConfig(data_dir=tmp_path_factory.mktemp("shared-engine"), workers=2)) as running:
        yield running


def pytest_report_header(config: pytest.Config) -> str:
    chromium = os.path.exists("/usr/bin/chromium")
    return f"dailies: DAILIES_HOME is isolated per test; /usr/bin/chromium present: {chromium}"


@pytest.fixture
def slow_opening(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Hold every job store opened in the background (the app's) until the returned event is set: a large
    store's load, made as long as the test needs."""
    from dailies.store.open_state import Opening

    release = threading.Event()
    real = Opening._open_when_needed

    def held(self: Opening, *args: object) -> None:
        assert release.wait(60), "the test never let the store open"
        real(self, *args)

    monkeypatch.setattr(Opening, "_open_when_needed", held)
    yield release
    release.set()


E2E = Path(__file__).parent / "e2e"


@pytest.hookimpl(tryfirst=True)  # before `-m` selects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in tests/e2e is an `e2e` test (it starts the app as the README does; most drive Chromium), so
    that the fast tier, `-m "not e2e and not slow"`, has none, whether or not its file says so.

    Then the order a parallel run (scripts/test: one file to a worker, handed out in the order collected) starts
    the files in: the longest first, so that none is started last and finishes long after the others; and the
    browser tests' files between the slow others', so that a few Chromiums and apps run at once, not one on every
    worker (on 2 cores those would slow each other down past their timeouts)."""
    for item in items:
        if item.path.is_relative_to(E2E) and not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.e2e)

    def files(marker: str) -> list:
        return list(dict.fromkeys(item.path for item in items if item.get_closest_marker(marker)))

    browser = files("e2e")
    slow = [path for path in files("slow") if path not in browser]
    first = [path for pair in itertools.zip_longest(browser, slow) for path in pair if path is not None]
    rank = {path: i for i, path in enumerate(first)}
    items.sort(key=lambda item: rank.get(item.path, len(rank)))  # stable: the rest keep the order collected
