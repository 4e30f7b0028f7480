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


class Downloads:
    """The bytes each download button offers, as the browser would receive them when clicked.

    AppTest keeps a download's data in an in-memory media store that it discards after each run, so
    the data is recorded as it is stored, keyed by the id the button's URL carries.
    """

    def __init__(self) -> None:
        self.by_id: dict[str, bytes] = {}

    def of(self, button) -> bytes:
        file_id = button.proto.url.rsplit("/", 1)[-1].split(".", 1)[0]
        return self.by_id[file_id]


def record_downloads(monkeypatch) -> Downloads:
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    downloads = Downloads()
    store = MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = store(self, path_or_data, mimetype, kind, filename)
        downloads.by_id[file_id] = self._files_by_id[file_id].content
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)
    return downloads
