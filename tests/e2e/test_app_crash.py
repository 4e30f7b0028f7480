"""The app's own process is killed with SIGKILL in the middle of a sweep launched from the browser,
and started again on the same data folder: the store loads and every take resumes and finishes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from running_app import start_app, stop_app

from dailies.media import sha256_file
from dailies.store.journal import Journal
from dailies.store.journal_store import SCHEMA_VERSION

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def jobs_on_disk(home: Path) -> dict[str, dict]:
    """The jobs as the store's journal holds them (read as another process would, without the app)."""
    journal = Journal(home / "jobs.journal", schema=SCHEMA_VERSION)
    assert journal.damaged_lines == 0
    return journal.table("jobs")


def test_the_app_killed_mid_sweep_resumes_every_take(tmp_path: Path, browser, screenshots) -> None:
    home = tmp_path / "home"
    process, url = start_app(home, tmp_path / "app.log")
    try:
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{url}/variants")
        base = page.get_by_role("textbox", name="Base prompt")
        base.fill("A paper boat on a pond")
        base.press("Control+Enter")
        page.get_by_role("radiogroup", name="Seconds").get_by_role("radio", name="12").click()
        page.get_by_role("spinbutton", name="Takes per combination (different seeds)").fill("2")
        page.get_by_role("spinbutton", name="Takes per combination (different seeds)").press("Enter")
        launch = page.get_by_role("button", name="Launch 8 takes")
        expect(launch).to_be_enabled()
        launch.click()
        deadline = time.monotonic() + 60
        while True:  # kill once the sweep is under way: some takes done or rendering, others not
            jobs = jobs_on_disk(home) if (home / "jobs.journal").exists() else {}
            done = sum(j["status"] == "completed" for j in jobs.values())
            if (len(jobs) == 8 and 1 <= done < 8) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(jobs) == 8 and done < 8, f"the sweep was not caught mid-way: {len(jobs)} jobs, {done} done"
        page.close()
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    before = jobs_on_disk(home)
    assert len(before) == 8

    process, url = start_app(home, tmp_path / "app-again.log")
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            jobs = jobs_on_disk(home)
            if all(j["status"] in ("completed", "failed") for j in jobs.values()):
                break
            time.sleep(0.5)
        assert set(jobs) == set(before), "no take lost, none added"
        assert all(j["status"] == "completed" for j in jobs.values()), {k: j["status"] for k, j in jobs.items()}
        for job in jobs.values():
            for record in job["files"].values():
                path = home / "media" / record["path"]
                assert path.stat().st_size == record["size"] and sha256_file(path) == record["sha256"]
        group = next(iter(jobs.values()))["group_id"]
        page = browser.new_page()
        page.goto(f"{url}/variants?group={group}")  # a shared link is the first visit after the restart
        expect(page.locator("[data-testid='stSidebarNav'] a", has_text="Generate")).to_be_visible()
        expect(page.locator("[data-testid='stSidebar']").get_by_text("Provider", exact=True)).to_be_visible()
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stVideo]')]"
                               ".filter(v => v.duration > 11).length === 8", timeout=60_000)
        page.screenshot(path=str(screenshots / "crash-resumed-grid.png"))
        page.close()
    finally:
        stop_app(process)
