"""AppTest runs of the workbench's pages against a real engine on loopback and a real TinyDB file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
WORKBENCH = str(ROOT / "workbench.py")


@pytest.fixture
def open_page(engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """Open a page of the workbench as a new session would; the studio is fresh for each test."""
    monkeypatch.setenv("DAILIES_ENGINE_URL", engine.base_url)
    yield from _pages()


def _pages() -> Iterator[Callable[..., AppTest]]:
    from components.runtime import close_studio

    st.cache_resource.clear()
    st.cache_data.clear()

    def open_(page: str, query: dict[str, str] | None = None, timeout: float = 30) -> AppTest:
        at = AppTest.from_file(WORKBENCH, default_timeout=timeout)
        for name, value in (query or {}).items():
            at.query_params[name] = value
        if page != "generate.py":  # the default page
            at.switch_page(f"pages/{page}")
        return at.run()

    try:
        yield open_
    finally:
        close_studio()
        st.cache_resource.clear()
        st.cache_data.clear()


@pytest.fixture
def studio_of(open_page):
    """The studio the pages share (the same cached object), for arranging and checking."""
    from components.runtime import studio

    return studio


def no_exception(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at
