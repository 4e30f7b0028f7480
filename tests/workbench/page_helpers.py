"""Opening the workbench's pages with AppTest, each test with a fresh studio."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
WORKBENCH = str(ROOT / "workbench.py")


def open_pages() -> Iterator[Callable[..., AppTest]]:
    """Yield a function that opens a page as a new session would; the studio is closed afterwards."""
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


def no_exception(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at
