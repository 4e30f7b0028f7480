"""AppTest runs of the workbench's pages against a real engine on loopback and a real TinyDB file."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from page_helpers import open_pages
from streamlit.testing.v1 import AppTest

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
