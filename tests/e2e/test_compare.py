"""Compare in a real browser: the longest clip leads, seek and play never jump back to 0, portrait players
keep the shared controls on screen, and any takes named in the address play.

The store is made first with the core against an engine on loopback (a 4 s portrait clip, its 4 s
extension, 8 s long, and two sibling takes of a grid), then the app is
started on it as `scripts/start` does, and Chromium opens it at 1440x1000.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from running_app import running, studio_beside

from dailies.jobs import JobKind, JobRequest

pytestmark = pytest.mark.e2e

PLAYERS = "[data-testid='synced-video']"
VIEWPORT_HEIGHT = 1000


@dataclass
class ComparedApp:
    url: str
    source: str
    extension: str
    siblings: list[str]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComparedApp]:
    home = tmp_path_factory.mktemp("compare-home")
    with studio_beside(home) as studio:
        source = studio.submit(JobRequest(prompt="a paper boat on a pond, orbit", model="dailies-preview",
                                          size="720x1280", seconds=4))
        assert studio.tracker.run_until_idle(timeout=90)
        extension = studio.submit(studio.request_from(source.id, JobKind.EXTEND, "the boat drifts on", seconds=4))
        grid = studio.launch(studio.takes_of(source.id, 2))
        assert studio.tracker.run_until_idle(timeout=120)
    with running(home) as app:
        yield ComparedApp(app.url, source.id, extension.id, [job.id for job in grid.jobs])


def open_compare(page: Page, app: ComparedApp, takes: list[str]) -> None:
    page.goto(f"{app.url}/compare?takes={','.join(takes)}")
    expect(page.get_by_role("heading", name="Compare", level=1)).to_be_visible()
    page.wait_for_function(
        """([sel, n]) => { const v = [...document.querySelectorAll(sel)];
                          return v.length === n && v.every(x => x.readyState >= 1 && x.duration > 0); }""",
        arg=[PLAYERS, len(takes)], timeout=90_000,
    )


def clock(page: Page) -> list[dict]:
    return page.eval_on_selector_all(
        PLAYERS, "vs => vs.map(v => ({t: v.currentTime, d: v.duration, paused: v.paused}))")


def wait_for(page: Page, condition: str, timeout: float = 30_000) -> None:
    """Wait until `condition` holds of the players (`v[0]` the source, `v[1]` the extension)."""
    page.wait_for_function(f"() => {{ const v = [...document.querySelectorAll(\"{PLAYERS}\")]; return {condition}; }}",
                           timeout=timeout)


def test_the_longest_clip_leads_and_nothing_jumps_back_to_0(compared: ComparedApp, page: Page, screenshots) -> None:
    open_compare(page, compared, [compared.source, compared.extension])
    source, extension = clock(page)
    assert source["d"] == pytest.approx(4.0, abs=0.1)
    assert extension["d"] == pytest.approx(8.0, abs=0.1), extension
    play = page.locator("[data-role='play']")

    # Played from the start, the extension runs on past the source's end, which holds its last frame.
    play.click()
    wait_for(page, "v[1].currentTime > 4.8 && !v[1].paused")
    source, extension = clock(page)
    assert source["paused"] and source["t"] > 3.9, source
    wait_for(page, "v[1].paused")  # the end of the longest clip
    source, extension = clock(page)
    assert extension["t"] > extension["d"] - 0.2, "both used to stop at 4.00 s"
    expect(page.locator("[data-role='play']")).to_have_text("Play")

    # Seek to 75 %, then play: on from there, never from 0.
    page.locator("[data-role='seek']").fill("750")
    wait_for(page, "Math.abs(v[1].currentTime - 0.75 * v[1].duration) < 0.1")
    source, extension = clock(page)
    assert source["t"] > 3.9, "past its end a shorter clip shows its last frame"
    page.eval_on_selector_all(PLAYERS, """vs => { window.lowest = vs.map(v => v.currentTime);
        vs.forEach((v, i) => v.addEventListener("timeupdate",
            () => { window.lowest[i] = Math.min(window.lowest[i], v.currentTime); })); }""")
    play.click()
    wait_for(page, "v[1].currentTime > 0.75 * v[1].duration + 0.5 && !v[1].paused")
    source, extension = clock(page)
    assert source["t"] > 3.9 and source["paused"], source
    play.click()  # Pause
    lowest = page.evaluate("() => window.lowest")
    assert lowest[1] > 0.7 * extension["d"] and lowest[0] > 3.9, f"seek then play went back to 0: {lowest}"
    page.screenshot(path=str(screenshots / "compare-extension.png"))

    # Chosen so, a shorter clip loops under the longest instead of holding its last frame.
    page.locator("[data-role='shorter']").select_option("loop")
    page.locator("[data-role='seek']").fill("750")
    play.click()
    wait_for(page, "!v[0].paused && !v[1].paused && v[0].currentTime < 3.5 && v[1].currentTime > 6")
    source, extension = clock(page)
    assert abs(source["t"] - (extension["t"] - source["d"])) < 0.3, (source, extension)


def test_portrait_players_keep_the_controls_on_screen(compared: ComparedApp, page: Page, screenshots) -> None:
    assert page.viewport_size == {"width": 1440, "height": VIEWPORT_HEIGHT}
    open_compare(page, compared, [compared.source, compared.extension])
    bar = page.locator(".synced .bar")
    box = bar.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT_HEIGHT, box
    expect(page.locator("[data-role='play']")).to_be_in_viewport()
    for video in page.locator(PLAYERS).all():
        size = video.bounding_box()
        assert size is not None and size["height"] < VIEWPORT_HEIGHT * 0.8, size
        assert size["width"] < size["height"], "portrait takes keep their shape"
        assert size["y"] + size["height"] <= box["y"], "opened at the top, the players fit above their controls"
    # Scrolled to the players, the whole of them and their controls fit in the window.
    page.locator(".synced").scroll_into_view_if_needed()
    page.eval_on_selector(".synced", "el => el.scrollIntoView({block: 'start'})")
    whole = page.locator(".synced").bounding_box()
    assert whole is not None and whole["height"] <= VIEWPORT_HEIGHT, whole
    page.screenshot(path=str(screenshots / "compare-portrait.png"))


def test_siblings_of_a_grid_play_from_a_shared_link(compared: ComparedApp, page: Page) -> None:
    takes = [*compared.siblings, compared.source]
    open_compare(page, compared, takes)
    assert f"takes={','.join(takes)}" in page.url.replace("%2C", ",")
    page.locator("[data-role='play']").click()
    wait_for(page, "v.length === 3 && v.every(x => !x.paused && x.currentTime > 0.5)")
    expect(page.locator("[data-testid='stException']")).to_have_count(0)



def test_history_selection_opens_compare(compared: ComparedApp, page: Page, screenshots) -> None:
    """History → pick two sibling takes of a grid (the newest two rows) → Compare: both play."""
    page.goto(f"{compared.url}/history")
    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()
    grid = page.locator("[data-testid='stDataFrame']").first
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    assert box is not None
    # The grid is drawn on a canvas: rows are found by position. The header is Streamlit's default 35 px;
    # History's rows are 56 px (its `row_height`: thumbnails); markers come first.
    header, row_height = 35, 56
    for row in (1, 2):
        page.mouse.click(box["x"] + 18, box["y"] + header + (row - 1) * row_height + row_height / 2)
        expect(page.locator("[class*='st-key-history_actions']").get_by_text(f"{row} selected")).to_be_visible()
    expect(page.locator("[class*='st-key-card_h_']")).to_have_count(0)
    page.screenshot(path=str(screenshots / "history-actions.png"))
    page.locator("[class*='st-key-history_actions']").get_by_role("button", name="Compare 2").click()
    expect(page.get_by_role("heading", name="Compare", level=1)).to_be_visible()
    page.wait_for_function(
        f"""() => {{ const v = [...document.querySelectorAll("{PLAYERS}")];
                    return v.length === 2 && v.every(x => x.readyState >= 1 && x.duration > 0); }}""",
        timeout=90_000,
    )
    assert sorted(page.url.split("takes=")[1].replace("%2C", ",").split(",")) == sorted(compared.siblings)
