"""AppTest runs of the workbench's pages against a real engine on loopback and a real TinyDB file."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from page_helpers import open_pages
from streamlit.testing.v1 import AppTest

from dailies.jobs import Job, JobRequest
from dailies.studio import Studio


@pytest.fixture
def open_page(engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """Open a page of the workbench as a new session would; the studio is fresh for each test."""
    monkeypatch.setenv("DAILIES_ENGINE_URL", engine.base_url)
    yield from open_pages()


@pytest.fixture
def studio_of(open_page) -> Callable[[], Studio]:
    """The studio the pages share (the same cached object), for arranging and checking: once it has started,
    so that its look for finished takes' missing files is over before a test arranges takes without files."""
    from components.runtime import studio

    def started() -> Studio:
        shared = studio()
        assert shared.wait_started(60), "the studio did not start"
        return shared

    return started


@pytest.fixture
def finished_grid(open_page, studio_of) -> Callable[..., list[Job]]:
    """`finished_grid(prompt, takes)`: a grid of that many takes of one prompt (the engine's preview model,
    1280x720, 4 s) made through the pages' studio, once the Generate page is open; its jobs, every one finished
    (within `timeout` seconds)."""

    def make(prompt: str, takes: int, timeout: float = 90) -> list[Job]:
        open_page("generate.py")
        shared = studio_of()
        grid = shared.launch(shared.takes_of(shared.submit(JobRequest(
            prompt=prompt, model="dailies-preview", size="1280x720", seconds=4)).id, takes))
        assert shared.tracker.run_until_idle(timeout=timeout)
        return grid.jobs

    return make


@pytest.fixture
def over_budget(studio_of, engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The remote provider active (the engine, reached as OpenAI's API is), at $1 a second of the preview model
    with a $10 daily budget: a few takes are over it."""
    monkeypatch.setenv("OPENAI_BASE_URL", engine.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    settings = studio_of().settings
    settings.active_provider = "remote"
    settings.rates = {**settings.rates, "dailies-preview": 1.0}
    settings.daily_budget_usd = 10.0
    studio_of().save_settings(settings)
