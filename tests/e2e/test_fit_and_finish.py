"""Issue 13 in the browser: what only a browser shows (above the fold, a download's bytes, requests)."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

VIEWPORT_HEIGHT = 1000  # the conftest's 1440x1000


def leaves_loopback(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme not in ("data", "blob", "about") and parsed.hostname not in ("127.0.0.1", "localhost")


def test_after_generate_the_feedback_is_in_view_and_nothing_leaves_the_machine(app, page: Page) -> None:
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url) if leaves_loopback(request.url) else None)
    page.goto(app.url)
    expect(page.get_by_role("heading", name="Generate", level=1)).to_be_visible()
    icon = page.eval_on_selector("link[rel='shortcut icon']", "link => link.href")
    assert not leaves_loopback(icon), icon

    page.get_by_role("textbox", name="Prompt", exact=True).fill("A paper boat on a pond, golden hour")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("Sent: 1 take rendering, shown on the right")).to_be_visible()
    # The sidebar counts the queued take in the run that sent it (drawn after the page), not at its
    # next 3 s refresh; a second is what the rest of that run may take to arrive.
    running = page.locator("[data-testid='stSidebar'] [data-testid='stMetric']", has_text="Running")
    expect(running.locator("[data-testid='stMetricValue']")).to_have_text("1", timeout=1000)
    # The new take's card is on screen without scrolling: its progress, then its player.
    page.wait_for_selector("[data-testid='stVideo']", timeout=90_000)
    box = page.locator("[data-testid='stVideo']").first.bounding_box()
    assert box is not None and page.evaluate("window.scrollY") == 0
    assert box["y"] < VIEWPORT_HEIGHT, f"the new take starts at y={box['y']:.0f}, below the fold"
    assert not outside, f"requests left loopback: {outside}"

    # A remix from its pop-up: sent once, then the pop-up closes and forgets the text.
    page.get_by_role("button", name="Remix").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox", name="Prompt", exact=True).fill("A paper boat on a pond at night, neon")
    dialog.get_by_role("button", name="Send remix").click()
    expect(page.get_by_text(re.compile(r"^Remix sent: job_"))).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("remix · dailies-preview", exact=False)).to_have_count(1)
    page.get_by_role("button", name="Remix").first.click()
    expect(page.get_by_role("dialog").get_by_role("textbox", name="Prompt", exact=True)).not_to_have_value(
        "A paper boat on a pond at night, neon")


def test_variants_exports_the_rating_note_and_pick_just_made(app, page: Page, tmp_path: Path) -> None:
    page.goto(f"{app.url.rstrip('/')}/variants")
    expect(page.get_by_role("heading", name="Variants", level=1)).to_be_visible()
    launch = page.get_by_role("button", name="Launch 4 takes")
    expect(launch).to_be_disabled()  # there from the start, off until there is a base prompt
    expect(page.get_by_text("Write a base prompt first.")).to_be_visible()
    page.get_by_role("textbox", name="Base prompt").fill("A paper boat on a pond")
    page.get_by_role("textbox", name="Base prompt").press("Control+Enter")
    expect(launch).to_be_enabled()
    launch.click()
    expect(page.get_by_role("tab", name="Review a grid", selected=True)).to_be_visible()

    first_take = page.locator("[class*='st-key-take_']").first
    expect(first_take.get_by_text("lighting: golden hour · angle: aerial")).to_be_visible()
    first_take.get_by_role("radio", name="4 out of 5 stars").click()
    notes = first_take.get_by_placeholder("Notes")
    notes.fill("the best light")
    notes.press("Enter")
    first_take.get_by_text("Pick").click()
    expect(first_take.get_by_role("switch", name="Pick")).to_be_checked()

    # No reload: the next download carries what the tiles show (waited for, not slept on). While takes
    # still render, the grid redraws every 2 s and a download started just before a redraw is cancelled
    # by the browser: that one is asked for again.
    deadline, row = time.monotonic() + 20, {}
    while time.monotonic() < deadline:
        with page.expect_download() as download:
            page.get_by_role("button", name="Export CSV").click()
        try:
            saved = Path(download.value.path())
        except PlaywrightError as cancelled:
            assert "canceled" in str(cancelled), cancelled
            continue
        rows = list(csv.DictReader(io.StringIO(saved.read_text())))
        row = next(r for r in rows if (r["axis:lighting"], r["axis:angle"]) == ("golden hour", "aerial"))
        if (row["rating"], row["picked"], row["notes"]) == ("4", "True", "the best light"):
            break
        page.wait_for_timeout(250)
    assert (row["rating"], row["picked"], row["notes"]) == ("4", "True", "the best light"), row
    others = [r for r in rows if r is not row]
    assert {r["rating"] for r in others} == {""}, "an unrated take exports a blank"
