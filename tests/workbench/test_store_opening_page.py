"""The first page after a start is drawn, and can be used, while a large job store is still loading."""

from __future__ import annotations

import threading


def sidebar_metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.sidebar if type(m).__name__ == "Metric"}


def test_the_first_page_is_drawn_while_the_store_opens(open_page, slow_opening: threading.Event) -> None:
    from components.runtime import studio  # as it is (`studio_of` waits for it to start)

    at = open_page("generate.py")
    assert not at.exception, [e.value for e in at.exception]
    assert not studio().store.ready, "the page was drawn before the jobs had loaded"
    assert not at.button(key="send").disabled, "a prompt can be written and sent meanwhile"
    assert sidebar_metrics(at) == {"Spent today": "…", "Running": "…"}, "no figure is made up while the jobs load"
    (cost,) = [m for m in at.main.metric if m.label == "Estimated cost"]
    assert "still being counted" in cost.help

    slow_opening.set()
    assert studio().store.wait_ready(30)
    at = open_page("generate.py")
    assert sidebar_metrics(at) == {"Spent today": "$0.00", "Running": "0"}
    (cost,) = [m for m in at.main.metric if m.label == "Estimated cost"]
    assert "Today's spend $0.00" in cost.help


def test_what_the_store_said_as_it_opened_is_in_the_sidebar_of_the_first_page(open_page, isolated_home) -> None:
    """A damaged store file is kept aside as the store opens, after a start once the page is drawn: the first
    page's sidebar still says so (the browser test `test_a_corrupt_store_is_kept_aside_and_the_app_still_starts`
    caught it missing)."""
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "jobs.json").write_text('{"jobs": {"1": {"id": "job_01", "prom')
    at = open_page("generate.py")
    warnings = [e.value for e in at.sidebar if type(e).__name__ == "Warning"]
    assert any("could not be read" in w and "kept aside" in w for w in warnings), warnings
