"""An open tab with nothing running asks the server for nothing; a running take still turns done on its own."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from bench.process import wake_ups

pytestmark = pytest.mark.e2e

# Longer than two periods of the slowest timer the pages used (3 s), so a timer left on is seen.
QUIET_WINDOW_MS = 7_000
RENDER_WAIT_MS = 90_000


def frames_sent_by(page: Page) -> list[float]:
    """When the tab sent each message to the server (reruns are messages the tab sends)."""
    sent: list[float] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda _frame: sent.append(time.monotonic())))
    return sent


def settled(page: Page) -> None:
    expect(page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_have_count(1)


def test_idle_tab_is_quiet_and_a_running_take_updates_without_reload(app, page: Page) -> None:
    sent = frames_sent_by(page)
    page.goto(app.url)
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_visible()
    settled(page)
    before = len(sent)
    page.wait_for_timeout(QUIET_WINDOW_MS)  # an observation window: what matters is what did not happen
    assert len(sent) == before, f"an idle Generate tab sent {len(sent) - before} reruns in 7 s"

    page.get_by_role("textbox", name="Prompt", exact=True).fill("A paper boat on a pond at dawn")
    page.get_by_role("button", name="Generate", exact=True).click()
    # The take's card turns from rendering to a playable video with no reload and no click.
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='stVideo']\")].some(v => v.readyState >= 1)",
        timeout=RENDER_WAIT_MS,
    )
    settled(page)
    before = len(sent)
    page.wait_for_timeout(QUIET_WINDOW_MS)
    assert len(sent) == before, "the refresh timer kept running after the take was done"


def test_an_idle_tab_catches_up_with_a_job_made_in_another_tab(app, browser) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(30_000)
    idle, other = context.new_page(), context.new_page()
    idle.goto(f"{app.url}/history")
    jobs = idle.locator("[data-testid='stMetric']", has_text="Jobs").locator("[data-testid='stMetricValue']")
    expect(jobs).to_be_visible()
    settled(idle)
    shown_before = int(jobs.inner_text().replace(",", ""))

    other.goto(app.url)
    other.get_by_role("textbox", name="Prompt", exact=True).fill("A kite over dunes at noon")
    other.get_by_role("button", name="Generate", exact=True).click()
    # The server tells the idle tab the store changed (components/tab_push.py); nothing is clicked in it.
    expect(jobs).to_have_text(f"{shown_before + 1:,}", timeout=120_000)
    # The take finishes before the next test measures an idle server.
    running = idle.locator("[data-testid='stMetric']", has_text="Running").locator("[data-testid='stMetricValue']")
    expect(running).to_have_text("0", timeout=RENDER_WAIT_MS)
    context.close()


def test_an_idle_server_with_a_tab_open_sleeps(app, page: Page) -> None:
    """With a tab open and nothing running, the server's threads wake a few times a second at most.

    Streamlit's pollers of its settings files (three paths, five looks a second each), uvicorn's tick (ten a
    second) and the store's follower (four) woke it about 54 times a second; each wake-up costs CPU all day."""
    page.goto(app.url)
    expect(page.get_by_role("button", name="Generate", exact=True)).to_be_visible()
    settled(page)
    # The first page's work (thumbnails, the provider's answer) and what an earlier test left running (its
    # take's last files, each write telling this tab to redraw) end: up to 60 s for three quiet seconds in a
    # row. A timer that never stops never lets it settle, and the window below then sees it too.
    quiet = 0
    for _ in range(60):
        start = wake_ups(app.pid)
        page.wait_for_timeout(1_000)
        quiet = quiet + 1 if wake_ups(app.pid) - start < 10 else 0
        if quiet == 3:
            break
    before = wake_ups(app.pid)
    page.wait_for_timeout(QUIET_WINDOW_MS)  # an observation window: what matters is what did not happen
    per_second = (wake_ups(app.pid) - before) / (QUIET_WINDOW_MS / 1000)
    assert per_second < 10, f"the idle server woke {per_second:.1f} times a second"
