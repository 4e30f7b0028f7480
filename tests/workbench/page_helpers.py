"""Opening the workbench's pages with AppTest, each test with a fresh studio."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.testing.v1 import AppTest

from dailies.jobs import Job, JobStatus, new_job_id

if TYPE_CHECKING:
    from dailies.studio import Studio

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


def stored_take(store, status: JobStatus, prompt: str = "a lighthouse in fog", **fields: object) -> Job:
    """A take of the engine's preview model (720x1280, 4 s) in `status`, put straight into the store."""
    return store.insert(Job(id=new_job_id(), provider="engine", model="dailies-preview", prompt=prompt,
                            size="720x1280", seconds=4, status=status, **fields))


def beside_a_finished_take(open_page, studio_of, make: Callable[..., Job]) -> Job:
    """Once the pages' studio has started (Generate opened), the job `make(store)` puts in its store, with a
    finished take beside it for the filters to leave out."""
    open_page("generate.py")
    store = studio_of().store
    job = make(store)
    stored_take(store, JobStatus.COMPLETED, "done", progress=100)
    return job


def card_of(job_id: str) -> None:
    """A script for `AppTest.from_function`: the job's card alone (its keys end in `_t`)."""
    from components.job_card import job_card
    from components.runtime import studio

    job_card(studio().store.require(job_id), key="t")


def open_card(job_id: str) -> AppTest:
    """The job's card drawn alone, as a page's studio shows it (its keys end in `_t`)."""
    return no_exception(AppTest.from_function(card_of, args=(job_id,), default_timeout=30).run())


def a_new_card(open_page, studio_of, make: Callable[..., Job]) -> tuple[Studio, Job, AppTest]:
    """Once the pages' studio has started (Generate opened): that studio, the job `make(store)` puts in its store,
    and the job's card drawn alone."""
    open_page("generate.py")
    shared = studio_of()
    job = make(shared.store)
    return shared, job, open_card(job.id)


def history_filtered_to(open_page, status: str, words: str) -> AppTest:
    """History with its status filter set to `status` alone, which the filter offers as `words`."""
    at = no_exception(open_page("history.py"))
    status_filter = at.multiselect(key="f_status")
    assert words in status_filter.options, "shown in words"
    status_filter.select(status).run()
    return at


def new_board(open_page, title: str = "Kite on the beach") -> AppTest:
    """The Storyboard page, a new board made on it with this title."""
    at = open_page("storyboard.py")
    assert any("No boards yet" in i.value for i in at.info)
    form_title = next(t for t in at.text_input if t.label == "Title")
    form_title.input(title)
    next(b for b in at.button if b.label == "Create").click().run()
    return no_exception(at)


def board_of(studio_of, board_id: str):
    from dailies.storyboard import Storyboards

    return Storyboards(studio_of()).get(board_id)


def shot_ids(studio_of, board_id: str) -> list[str]:
    return [s.id for s in board_of(studio_of, board_id).shots]


def one_take_a_shot(open_page, studio_of, title: str) -> tuple[AppTest, str, str]:
    """A new board asking one take a shot, its first shot prompted "the kite lifts off": the page, the board's id
    and the shot's."""
    at = new_board(open_page, title)
    board_id = at.selectbox(key="sb_board").value
    at.number_input(key=f"sb_takes_{board_id}").set_value(1).run()
    shot = shot_ids(studio_of, board_id)[0]
    at.text_area(key=f"sb_prompt_{shot}").input("the kite lifts off").run()
    return at, board_id, shot


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
