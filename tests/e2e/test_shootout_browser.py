"""A shoot-out in a real browser: one Variants grid across three providers (the embedded engine, fal and
Runway), each vendor reached through its official SDK pointed at a local fake of its wire format.

The fakes are started by the test (rendering real, tiny MP4s), the app is started as `streamlit run app.py`
with a dummy key per vendor in its environment and the two vendors in its settings file (kind and base
URL, as Settings writes them). The grid completes, every take plays, each label names its provider and
model, three picks (one per provider) play side by side in Compare, History narrows to one provider's takes,
and each fake saw only its own key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from running_app import start_streamlit, stop_app, wait_for_run

from dailies.config import ProviderSettings, Settings, SettingsFile
from dailies.providers import registry
from tests.fakes.fal import KEY as FAL_KEY
from tests.fakes.fal import FakeFal
from tests.fakes.runway import KEY as RUNWAY_KEY
from tests.fakes.runway import FakeRunway
from tests.server_side import variables

pytestmark = pytest.mark.e2e

KLING = "fal/fal-ai/kling-video/v2.5-turbo/pro"
GEN = "runway/gen4.5"
TILES = "[class*='st-key-take_']"
RENDER_WAIT_MS = 120_000


@dataclass
class ShootoutApp:
    url: str
    fal: FakeFal
    runway: FakeRunway


@pytest.fixture(scope="module")
def shootout_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShootoutApp]:
    home = tmp_path_factory.mktemp("shootout-home")
    with FakeFal() as fal, FakeRunway() as runway:
        SettingsFile(home / "settings.json").save(Settings(extra_providers=[  # their rates; where they are: below
            ProviderSettings("fal", "fal", kind="fal", rates=registry.prices("fal").to_table()),
            ProviderSettings("runway", "runway", kind="runway", rates=registry.prices("runway").to_table()),
        ]))
        process, url = start_streamlit(home, home.parent / f"{home.name}.log",
                                       env={"FAL_KEY": FAL_KEY, "RUNWAYML_API_SECRET": RUNWAY_KEY,
                                            **variables("fal", "fal", fal.base_url),
                                            **variables("runway", "runway", runway.base_url)})
        try:
            yield ShootoutApp(url, fal, runway)
        finally:
            stop_app(process)


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a Streamlit multiselect, as a person does: open it, type, choose."""
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    wait_for_run(page)


def test_a_grid_across_three_providers_completes_plays_and_names_each_model(shootout_app, page: Page,
                                                                             screenshots) -> None:
    page.goto(f"{shootout_app.url}/variants")
    expect(page.get_by_role("heading", name="Variants", level=1)).to_be_visible()
    page.get_by_role("textbox", name="Base prompt").fill("A paper boat on a pond")
    page.get_by_role("textbox", name="Base prompt").press("Control+Enter")
    wait_for_run(page)
    page.get_by_text("Shoot-out: send each take to several providers' models").click()
    wait_for_run(page)
    choose(page, "Also send each take to", KLING)
    choose(page, "Also send each take to", GEN)
    # Before launch: what each model is asked for, and what each costs (engine 720x1280, 4 s by default).
    expect(page.get_by_text("720x1280 → 9:16 · 4 s → 5 s").first).to_be_attached()
    expect(page.get_by_text("720x1280 → 720:1280 · 4 s").first).to_be_attached()
    launch = page.get_by_role("button", name="Launch 12 takes")
    expect(launch).to_be_enabled()
    launch.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "shootout-1-before-launch.png"))
    launch.click()
    expect(page.get_by_role("tab", name="Review a grid", selected=True)).to_be_visible()

    videos = f"{TILES} [data-testid='stVideo']"
    page.wait_for_function(
        """sel => { const v = [...document.querySelectorAll(sel)];
                    return v.length === 12 && v.every(x => x.readyState >= 1 && x.duration > 0); }""",
        arg=videos, timeout=RENDER_WAIT_MS,
    )
    page.eval_on_selector_all(videos, "vs => vs.forEach(v => { v.muted = true; v.play(); })")
    page.wait_for_function("sel => [...document.querySelectorAll(sel)].every(v => v.currentTime > 0.2)",
                           arg=videos, timeout=30_000)

    tiles = page.locator(TILES)
    for name in (KLING, GEN):
        expect(tiles.filter(has_text=f"provider/model: {name}")).to_have_count(4)
    expect(tiles.filter(has_text="provider/model: engine/")).to_have_count(4)
    wait_for_run(page)
    page.screenshot(path=str(screenshots / "shootout-2-grid.png"), full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0

    # One pick per provider, then Compare plays them side by side.
    for name in (KLING, GEN, "engine/"):
        tile = tiles.filter(has_text=f"provider/model: {name}").first
        tile.get_by_text("Pick").click()
        expect(tile.get_by_label("Pick", exact=True)).to_be_checked()  # a click during a rerun is not lost
        wait_for_run(page)
    compare = page.get_by_role("link", name="Compare the picks")
    # The link is drawn by the run the last pick started: wait until it names all three picks.
    expect(compare).to_have_attribute("href", re.compile(r"takes=[^&]+(,|%2C)[^&]+(,|%2C)[^&]+"))
    compare.click()
    expect(page.get_by_role("heading", name="Compare", level=1)).to_be_visible()
    players = "[data-testid='synced-video']"
    page.wait_for_function(
        "sel => { const v = [...document.querySelectorAll(sel)]; "
        "return v.length === 3 && v.every(x => x.readyState >= 1 && x.duration > 0); }",
        arg=players, timeout=30_000,
    )
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("sel => [...document.querySelectorAll(sel)].every(v => v.currentTime > 0.3)",
                           arg=players, timeout=20_000)
    page.screenshot(path=str(screenshots / "shootout-3-compare.png"), full_page=True)

    # History narrows to one provider's takes.
    page.locator("[data-testid='stSidebarNav'] a", has_text="History").click()
    expect(page.get_by_role("heading", name="History", level=1)).to_be_visible()
    jobs_metric = page.locator("[data-testid='stMetric']", has_text="Jobs").locator("[data-testid='stMetricValue']")
    expect(jobs_metric).to_have_text("12")
    choose(page, "Provider", "runway")
    expect(jobs_metric).to_have_text("4")

    # Settings lists each vendor with its kind and where its key comes from, never the key.
    page.locator("[data-testid='stSidebarNav'] a", has_text="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    expect(page.get_by_text("(from FAL_KEY)")).to_be_visible()
    expect(page.get_by_text("(from RUNWAYML_API_SECRET)")).to_be_visible()
    wait_for_run(page)
    page.screenshot(path=str(screenshots / "shootout-4-settings.png"))
    assert FAL_KEY not in page.content() and RUNWAY_KEY not in page.content()

    # Each vendor was sent its own key and nobody else's (its output downloads carry none).
    fal_seen = {r.headers.get("Authorization") for r in shootout_app.fal.requests} - {None}
    runway_seen = {r.headers.get("Authorization") for r in shootout_app.runway.requests} - {None}
    assert fal_seen == {f"Key {FAL_KEY}"} and runway_seen == {f"Bearer {RUNWAY_KEY}"}
    assert len([r for r in shootout_app.fal.requests if r.method == "POST"]) == 4
    assert len([r for r in shootout_app.runway.requests if r.method == "POST"]) == 4
