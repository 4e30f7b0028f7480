"""Shared fixtures: an isolated data folder for every test, and a real engine on loopback."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own DAILIES_HOME and no key or server from the developer's shell."""
    home = tmp_path / "home"
    monkeypatch.setenv("DAILIES_HOME", str(home))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DAILIES_API_KEY", "DAILIES_BASE_URL", "DAILIES_PROVIDER",
                 "DAILIES_ACCESS_TOKEN"):
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
    from dailies.store import JobStore

    release = threading.Event()
    real = JobStore._open_when_needed

    def held(self: JobStore, *args: object) -> None:
        assert release.wait(60), "the test never let the store open"
        real(self, *args)

    monkeypatch.setattr(JobStore, "_open_when_needed", held)
    yield release
    release.set()
