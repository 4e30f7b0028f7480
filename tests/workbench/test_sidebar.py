"""The sidebar on every page: the provider and whether it answers, today's spend, running jobs."""

from __future__ import annotations

import pytest
from page_helpers import no_exception, open_pages

from dailies.engine import EngineConfig, serve_engine
from dailies.engine.server import free_port
from dailies.jobs import JobRequest


def sidebar(at, kind: str) -> list:
    """The sidebar"s elements of one kind (AppTest"s block shortcuts skip some of them)."""
    return [element for element in at.sidebar if type(element).__name__ == kind]


PAGES = ("generate.py", "variants.py", "history.py", "compare.py", "settings.py")


def test_sidebar_shows_provider_spend_and_running_jobs(open_page, studio_of) -> None:
    at = open_page("generate.py")
    studio_of().submit(JobRequest(prompt="a kite", model="dailies-preview", size="720x1280", seconds=4))
    at = open_page("generate.py")
    assert any("Embedded engine" in m.value for m in sidebar(at, "Markdown"))
    assert any(s.value.startswith("Answers (") for s in sidebar(at, "Success"))
    metrics = {m.label: m.value for m in sidebar(at, "Metric")}
    assert metrics["Spent today"] == "$0.00" and metrics["Running"] == "1"


@pytest.fixture
def pages_without_engine(monkeypatch, tmp_path):
    port = free_port("127.0.0.1")
    monkeypatch.setenv("DAILIES_ENGINE_URL", f"http://127.0.0.1:{port}/v1")
    for open_ in open_pages():
        yield open_, port


@pytest.mark.slow
def test_pages_load_and_say_so_when_the_provider_is_down_then_recover(pages_without_engine, tmp_path) -> None:
    open_page, port = pages_without_engine
    for page in PAGES:
        at = no_exception(open_page(page))
        assert at.title, f"{page} still shows itself"
    at = open_page("generate.py")
    assert any("does not answer" in e.value for e in sidebar(at, "Error"))
    (unreachable,) = at.main.error
    assert unreachable.value.startswith("Unreachable.") and "nothing answers at its address" in unreachable.value
    assert "Error" not in unreachable.value and "Errno" not in unreachable.value, "plain words"
    assert not any("did not list its video models" in w.value for w in at.warning), "not a model-list problem"
    at.text_area(key="prompt").input("a kite over a beach").run()
    assert at.button(key="send").disabled, "nothing can be sent to a provider that does not answer"

    with serve_engine(EngineConfig(data_dir=tmp_path / "engine"), port=port):
        assert any("does not answer" in e.value for e in sidebar(open_page("generate.py"), "Error")), \
            "asked at most every 15 seconds"
        settings = open_page("settings.py")
        settings.button(key="test_engine").click().run()  # "Settings → Test connection asks again"
        assert any("answers" in s.value for s in settings.success)
        assert any(s.value.startswith("Answers (") for s in sidebar(open_page("generate.py"), "Success"))
        at.run()
        assert not at.main.error and not at.button(key="send").disabled


@pytest.fixture
def pages_on_a_slow_engine(monkeypatch, tmp_path):
    from dailies.engine import Faults

    config = EngineConfig(data_dir=tmp_path / "slow-engine", faults=Faults(latency_ms=6000))
    with serve_engine(config) as slow:
        monkeypatch.setenv("DAILIES_ENGINE_URL", slow.base_url)
        yield from open_pages()


@pytest.mark.slow
def test_a_slow_provider_is_reported_not_waited_on(pages_on_a_slow_engine) -> None:
    """Every call to the engine takes 6 s; a page asks with a 4 s limit and no retries, so it opens
    well inside AppTest's 20 s limit and says what is wrong."""
    at = no_exception(pages_on_a_slow_engine("generate.py", timeout=20))
    (problem,) = sidebar(at, "Error")
    assert "does not answer" in problem.value and "in time" in problem.value
    assert problem.value in {e.value.removeprefix("Unreachable. ").split(" Nothing can be sent")[0]
                             for e in at.main.error}, "the page says what the sidebar says"
