"""A new user's first session, in a real browser: generate, grid and rate, find it in History, remix, compare."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from running_app import wait_for_run
from until import wait_until

from dailies.store.journal import Journal
from dailies.store.journal_store import SCHEMA_VERSION

pytestmark = pytest.mark.e2e

RENDER_WAIT_MS = 90_000


def no_broken_page(page: Page, name: str, screenshots) -> None:
    """Once its script run has finished, screenshot the page, then fail if Streamlit shows an exception on it."""
    wait_for_run(page)
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    exceptions = page.locator("[data-testid='stException']")
    assert exceptions.count() == 0, f"{name} shows an exception: {exceptions.first.inner_text()[:800]}"


def jobs_on_disk(home) -> dict[str, dict]:
    """The app's saved jobs, as the store's journal holds them (read as another process would)."""
    path = home / "jobs.journal"
    return Journal(path, schema=SCHEMA_VERSION).table("jobs") if path.exists() else {}


def go(page: Page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def wait_playable(page: Page, selector: str, count: int) -> list[float]:
    """Wait until `count` videos under `selector` know their duration, as a browser that can play them does."""
    page.wait_for_function(
        """([sel, n]) => { const v = [...document.querySelectorAll(sel)];
                          return v.length >= n && v.slice(0, n).every(x => x.readyState >= 1 && x.duration > 0); }""",
        arg=[selector, count], timeout=RENDER_WAIT_MS,
    )
    return page.eval_on_selector_all(selector, "vs => vs.map(v => v.duration)")


def test_first_session(app, page: Page, screenshots) -> None:
    page.goto(app.url)
    expect(page.get_by_role("heading", name="Generate", level=1)).to_be_visible()
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.get_by_text("Embedded engine (local preview renderer)")).to_be_visible()
    expect(sidebar.get_by_text(re.compile(r"Answers \(\d+ ms\)"))).to_be_visible()

    # Generate a clip and see it play.
    expect(page.get_by_text("Estimated cost")).to_be_visible()
    # Type and click at once, as people do: the click itself commits the prompt.
    page.get_by_role("textbox", name="Prompt", exact=True).fill("A red kite over a beach at golden hour, slow pan left")
    page.get_by_role("button", name="Generate").click()
    durations = wait_playable(page, "[data-testid='stVideo']", 1)
    assert 3.5 < durations[0] < 4.5, durations
    src = page.eval_on_selector("[data-testid='stVideo']", "v => v.currentSrc")
    assert "/app/static/takes/" in src, src
    part = httpx.get(src, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100, "seeking needs Range requests"
    saved = httpx.get(src + "&download=1")
    assert saved.headers["content-disposition"].startswith("attachment;")
    assert saved.content.startswith(part.content) and saved.content[4:8] == b"ftyp"
    no_broken_page(page, "1-generate", screenshots)

    # Remix it: the same shot, a new look.
    page.get_by_role("button", name="Remix").first.click()
    remix_box = page.get_by_role("dialog").get_by_role("textbox", name="Prompt", exact=True)
    remix_box.fill("A red kite over a beach at night, neon, slow pan left")
    page.get_by_role("button", name="Send remix").click()
    expect(page.get_by_text(re.compile(r"remix sent", re.I))).to_be_visible()
    wait_playable(page, "[data-testid='stVideo']", 2)

    # A four-take grid, rated.
    go(page, "Variants")
    page.get_by_role("textbox", name="Base prompt").fill("A paper boat on a pond")
    page.get_by_role("textbox", name="Base prompt").press("Control+Enter")
    launch = page.get_by_role("button", name="Launch 4 takes")
    expect(launch).to_be_enabled()
    launch.click()
    expect(page.get_by_role("tab", name="Review a grid", selected=True)).to_be_visible()
    wait_playable(page, "[data-testid='stVideo']", 4)
    first_take = page.locator("[class*='st-key-take_']").first
    expect(first_take.get_by_text("lighting: golden hour · angle: aerial")).to_be_visible()
    first_take.get_by_role("radio", name="4 out of 5 stars").click()
    first_take.get_by_text("Pick").click()
    wait_until(
        lambda: any(j.get("rating") == 4 and j.get("picked") for j in jobs_on_disk(app.home).values()),
        30,
        "the rating and the pick to be saved",
    )
    no_broken_page(page, "2-variants", screenshots)

    # The page's address is a shareable link: a new session opens the same grid, with the review kept.
    assert "group=" in page.url
    page.goto(page.url)
    first_take = page.locator("[class*='st-key-take_']").first
    expect(first_take.get_by_role("radio", name="4 out of 5 stars")).to_have_attribute("aria-checked", "true")
    expect(first_take.get_by_role("switch", name="Pick")).to_be_checked()
    page.get_by_text("Blind review: hide labels and shuffle").click()
    expect(page.get_by_text("Take A", exact=True)).to_be_visible()
    expect(page.get_by_text("lighting: golden hour · angle: aerial")).to_have_count(0)
    no_broken_page(page, "2b-variants-blind", screenshots)

    # Find every job in History, with the rating.
    go(page, "History")
    expect(page.get_by_text("Jobs", exact=True)).to_be_visible()
    jobs_metric = page.locator("[data-testid='stMetric']", has_text="Jobs").locator("[data-testid='stMetricValue']")
    expect(jobs_metric).to_have_text("6")
    no_broken_page(page, "3-history", screenshots)

    # Compare the remix with its source: two players that move together.
    go(page, "Compare")
    players = "[data-testid='synced-video']"
    wait_playable(page, players, 2)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        f"() => [...document.querySelectorAll(\"{players}\")].every(v => !v.paused && v.currentTime > 0.5)",
        timeout=20_000,
    )
    page.get_by_role("button", name="Pause").click()
    times = page.eval_on_selector_all(players, "vs => vs.map(v => v.currentTime)")
    assert abs(times[0] - times[1]) < 0.15, times
    page.locator("[data-role='seek']").fill("250")
    page.wait_for_function(
        f"() => [...document.querySelectorAll(\"{players}\")].every(v => Math.abs(v.currentTime - 1) < 0.3)",
        timeout=10_000,
    )
    times = page.eval_on_selector_all(players, "vs => vs.map(v => v.currentTime)")
    assert all(0.7 < t < 1.3 for t in times), times
    page.locator("[data-role='speed']").select_option("2.0")
    page.locator("[data-role='loop']").check()
    state = page.eval_on_selector_all(players, "vs => vs.map(v => [v.playbackRate, v.loop])")
    assert state == [[2, True], [2, True]], state
    expect(page.locator("[data-testid='prompt-diff'] ins").first).to_be_visible()
    no_broken_page(page, "4-compare", screenshots)

    go(page, "Settings")
    no_broken_page(page, "5-settings", screenshots)
