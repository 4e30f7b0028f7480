"""A take held by the provider's rate limit, as the team meets it in Chromium: the engine refuses every create
with 429 and a long Retry-After (`Faults.rate_429_create`), so Generate's take is kept, waiting; History shows
it waiting and why, its card says when it is tried next, and it is cancelled there with nothing ever sent."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from running_app import start_streamlit, stop_app, wait_for_run

from dailies.engine import EngineConfig, Faults, serve_engine
from dailies.jobs import JobStatus
from dailies.store import JobStore
from tests.until import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_take_waiting_on_a_429_shows_in_history_and_is_cancelled_there(page: Page, screenshots,
                                                                          tmp_path: Path) -> None:
    faults = Faults(rate_429_create=1.0, retry_after_s=600.0)
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=1, faults=faults)) as engine:
        home = tmp_path / "home"
        process, url = start_streamlit(home, tmp_path / "app.log", env={"DAILIES_ENGINE_URL": engine.base_url})
        store = JobStore(home / "jobs.json")
        try:
            page.goto(url)
            expect(page.get_by_role("heading", name="Generate", level=1)).to_be_visible()
            page.locator(".st-key-prompt textarea").fill("A lighthouse in fog")
            page.get_by_role("button", name="Generate", exact=True).click()
            wait_for_run(page)

            def waiting():
                store.refresh()
                return next((job for job in store.all() if job.status is JobStatus.WAITING), None)

            job = wait_until(waiting, 60, "the refused take kept, waiting to send")
            assert job.wait_reason.startswith("the provider's rate limit"), job.wait_reason

            page.goto(f"{url}/history")
            grid = page.locator("[data-testid='stDataFrame']").first
            expect(grid).to_be_visible()
            box = grid.bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + 18, box["y"] + 35 + 28)  # the only row's marker (rows are 56 px)
            card = page.locator(f"[class*='st-key-card_h_{job.id}']")
            expect(card).to_contain_text("waiting to send")
            expect(card.get_by_text(re.compile(r"Waiting to send: the provider's rate limit .*; next try in \d+ s"))
                   ).to_be_visible()
            page.screenshot(path=str(screenshots / "history-waiting.png"))

            card.get_by_role("button", name="Cancel").click()
            wait_until(lambda: (store.refresh(), store.require(job.id).status)[1] is JobStatus.FAILED, 30,
                       "the take cancelled")
            assert store.require(job.id).error.code == "cancelled"
            assert httpx.get(f"{engine.base_url}/videos", timeout=10).json()["data"] == [], "nothing was sent"
        finally:
            store.close()
            stop_app(process)
