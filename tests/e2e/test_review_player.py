"""The reviewer's player in Chromium: notes at an exact frame (24 and 30 fps), drawings over the frame, two
reviewers deciding, the organiser's OTIO, and the compare modes (wipe, difference, overlay, offsets).

The store is made first with the core against an engine on loopback (a 4 s take at 24 fps and a remix of
it, its next version), plus a 30 fps take re-encoded from the first with PyAV; then the app is started on
it as `scripts/start` does. Frames are read back from the `<video>` elements' `currentTime` by the core's
own rule (`Clock.frame_at_time`).
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio
import pytest
from playwright.sync_api import Page, expect
from review_fixtures import reencode, store_take
from running_app import running, studio_beside, wait_for_run

from dailies.jobs import JobKind, JobRequest
from dailies.review.timecode import Clock, to_frame

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VIDEOS = "[data-testid='synced-video']"
DOCS = Path(__file__).resolve().parents[2] / "docs"


@dataclass
class ReviewApp:
    url: str
    take24: str
    remix: str
    take30: str


@pytest.fixture(scope="module")
def review_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewApp]:
    home = tmp_path_factory.mktemp("player-home")
    with studio_beside(home) as studio:
        first = studio.submit(JobRequest(prompt="a red kite over dunes", model="dailies-preview", size="1280x720",
                                         seconds=4))
        assert studio.tracker.run_until_idle(timeout=90)
        remix = studio.submit(studio.request_from(first.id, JobKind.REMIX, "a red kite over dunes, larger"))
        assert studio.tracker.run_until_idle(timeout=90)
        source = studio.media.resolve(studio.store.require(first.id).files["video"].path)
        thirty = home.parent / f"{home.name}-30fps.mp4"
        reencode(source, thirty, fps=30, frames=120)
        take30 = store_take(studio.store, studio.media, thirty, "a 30 fps take")
    try:
        with running(home) as app:
            yield ReviewApp(app.url, first.id, remix.id, take30.id)
    finally:
        shutil.rmtree(home.parent / f"{home.name}-engine", ignore_errors=True)


def open_takes(page: Page, app: ReviewApp, takes: list[str]) -> None:
    page.goto(f"{app.url}/compare?takes={','.join(takes)}")
    page.wait_for_function(
        """([sel, n]) => { const v = [...document.querySelectorAll(sel)];
                          return v.length === n && v.every(x => x.readyState >= 1 && x.duration > 0); }""",
        arg=[VIDEOS, len(takes)], timeout=90_000,
    )
    wait_for_run(page)


def frames(page: Page, fps: list[float]) -> list[int]:
    """Each player's frame, read from its `currentTime` by the core's rule."""
    times = page.eval_on_selector_all(VIDEOS, "vs => vs.map(v => v.currentTime)")
    return [Clock(fps=f, frames=10_000).frame_at_time(t) for t, f in zip(times, fps, strict=True)]


def settle(page: Page) -> None:
    """Wait until no player is seeking."""
    page.wait_for_function(f"() => [...document.querySelectorAll(\"{VIDEOS}\")].every(v => !v.seeking)")


def focus_player(page: Page) -> None:
    page.locator("[data-testid='review-player'] [data-role='frame']").click()


def step_to(page: Page, frame: int, fps: list[float]) -> None:
    focus_player(page)
    start = frames(page, fps)[0]
    for _ in range(frame - start):
        page.keyboard.press("Period")
    settle(page)
    page.wait_for_function(f"() => document.querySelector(\"[data-testid='review-player']\").dataset.frame === "
                           f"'{frame}'")


def sign(page: Page, name: str) -> None:
    box = page.locator(".st-key-review_name input")
    box.fill(name)
    box.press("Enter")
    wait_for_run(page)


def show(page: Page, mode: str) -> None:
    page.locator(".st-key-compare_mode").get_by_text(mode, exact=True).click()
    wait_for_run(page)


def add_note(page: Page, text: str) -> None:
    page.locator("[data-role='note-text']").fill(text)
    page.locator("[data-role='add-note']").click()
    expect(page.locator("[data-role='notes'] [data-role='note-body']", has_text=text)).to_be_visible()


@pytest.mark.parametrize(("which", "fps", "tc37"), [("take24", 24.0, "00:00:01:13"), ("take30", 30.0, "00:00:01:07")])
def test_a_note_at_frame_37_brings_every_player_back_to_frame_37(review_app: ReviewApp, page: Page, which: str,
                                                                 fps: float, tc37: str) -> None:
    take = getattr(review_app, which)
    open_takes(page, review_app, [take])
    sign(page, "Ann")
    step_to(page, 37, [fps])
    expect(page.locator("[data-role='timecode']")).to_have_text(tc37)
    text = f"kite too small at {fps:g} fps <b>x</b> **x**"
    add_note(page, text)
    page.reload()
    page.wait_for_function(f"() => [...document.querySelectorAll(\"{VIDEOS}\")].every(v => v.readyState >= 1)")
    wait_for_run(page)
    note = page.locator("[data-role='note']", has_text=text)
    expect(note).to_contain_text(tc37)
    assert note.locator("b").count() == 0, "a note's text is text, never markup"
    assert frames(page, [fps]) == [0]
    note.click()
    page.wait_for_function(f"() => document.querySelector(\"{VIDEOS}\").currentTime > 1")
    settle(page)
    shown = frames(page, [fps])[0]
    assert shown not in (36, 38)
    assert shown == 37
    expect(page.locator("[data-role='frame']")).to_contain_text("frame 37")


def test_two_reviewers_note_draw_and_decide_and_the_organiser_exports_otio_and_markers(review_app: ReviewApp, browser,
                                                                            tmp_path: Path) -> None:
    take = review_app.remix
    contexts = [browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
                for _ in range(3)]
    try:
        ann, bob, organiser = (c.new_page() for c in contexts)
        for tab in (ann, bob, organiser):
            tab.set_default_timeout(60_000)
        open_takes(ann, review_app, [take])
        sign(ann, "Ann")
        step_to(ann, 12, [24.0])
        ann.locator("[data-tool='rect']").click()
        ann.locator("[data-role='overlay']").scroll_into_view_if_needed()
        box = ann.locator("[data-role='overlay']").bounding_box()
        assert box is not None
        ann.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
        ann.mouse.down()
        ann.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5, steps=6)
        ann.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=6)
        ann.mouse.up()
        expect(ann.locator("[data-layer='draft'] rect")).to_have_count(1)
        add_note(ann, "the kite is too small here")

        open_takes(bob, review_app, [take])
        sign(bob, "Bob")
        step_to(bob, 50, [24.0])
        add_note(bob, "hold this beat longer")

        ann.get_by_role("button", name="Approve").click()
        wait_for_run(ann)
        expect(ann.get_by_text("Ann: approved")).to_be_visible()
        bob.get_by_role("button", name="Request changes").click()
        wait_for_run(bob)
        expect(bob.get_by_text("Bob: changes requested")).to_be_visible()

        open_takes(organiser, review_app, [take])
        notes = organiser.locator("[data-role='note']")
        expect(notes).to_have_count(2)
        assert [n.get_attribute("data-frame") for n in notes.all()] == ["12", "50"], "notes in frame order"
        expect(notes.nth(0)).to_contain_text("Ann: the kite is too small here")
        expect(notes.nth(1)).to_contain_text("Bob: hold this beat longer")
        expect(organiser.get_by_text("Ann: approved")).to_be_visible()
        expect(organiser.get_by_text("Bob: changes requested")).to_be_visible()
        expect(organiser.locator("[data-layer='saved'] rect")).to_have_count(0)
        notes.nth(0).click()
        settle(organiser)
        expect(organiser.locator("[data-layer='saved'] rect")).to_have_count(1)
        shape = organiser.locator("[data-layer='saved'] rect")
        width = float(shape.get_attribute("width"))
        overlay = organiser.locator("[data-role='overlay']").bounding_box()
        assert overlay is not None and abs(width / overlay["width"] - 0.3) < 0.03, "drawn where Ann drew it"
        DOCS.mkdir(exist_ok=True)
        organiser.eval_on_selector("[data-testid='review-player']", "el => el.scrollIntoView({block: 'start'})")
        organiser.screenshot(path=str(DOCS / "review.png"))
        notes.nth(1).click()
        settle(organiser)
        expect(organiser.locator("[data-layer='saved'] rect")).to_have_count(0)

        with organiser.expect_download() as got:
            organiser.get_by_role("button", name="Notes as OTIO").click()
        path = tmp_path / "notes.otio"
        got.value.save_as(path)
        timeline = otio.adapters.read_from_string(path.read_text(), "otio_json")
        clip = next(iter(timeline.find_clips()))
        marked = sorted(m.marked_range.start_time.to_frames() for m in clip.markers)
        assert marked == [12, 50]

        # The marker list an NLE imports: Resolve's EDL, one event per note at its timecode, and the CSV.
        with organiser.expect_download() as got:
            organiser.get_by_role("button", name="Markers for Resolve (EDL)").click()
        edl = (tmp_path / "notes.edl")
        got.value.save_as(edl)
        events = [line.split() for line in edl.read_text().splitlines() if line[:3].isdigit()]
        assert [to_frame(event[4], 24) for event in events] == [12, 50]  # the remix renders at 24 fps
        with organiser.expect_download() as got:
            organiser.get_by_role("button", name="Markers as CSV").click()
        table = tmp_path / "notes.csv"
        got.value.save_as(table)
        assert [int(row["frame"]) for row in csv.DictReader(table.open())] == [12, 50]
    finally:
        for c in contexts:
            c.close()


def test_compare_modes_frame_step_and_offsets(review_app: ReviewApp, page: Page) -> None:
    open_takes(page, review_app, [review_app.take24, review_app.remix])
    player = page.locator("[data-testid='review-player']")
    expect(player).to_have_attribute("data-mode", "side")

    show(page, "Wipe")
    expect(player).to_have_attribute("data-mode", "wipe")
    top = page.locator(f"{VIDEOS}[data-side='1']")
    assert "inset(0px 0px 0px 50%)" in top.evaluate("v => getComputedStyle(v).clipPath")
    handle = page.locator("[data-role='wipe']").bounding_box()
    stage = page.locator("[data-testid='review-player'] .rp-box").bounding_box()
    assert handle is not None and stage is not None
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(stage["x"] + stage["width"] * 0.25, handle["y"] + handle["height"] / 2, steps=5)
    page.mouse.up()
    assert abs(int(player.get_attribute("data-split")) - 25) <= 1, "the split follows the drag"

    show(page, "Difference")
    expect(player).to_have_attribute("data-mode", "difference")
    assert top.evaluate("v => getComputedStyle(v).mixBlendMode") == "difference"

    show(page, "Overlay")
    expect(player).to_have_attribute("data-mode", "overlay")
    page.locator("[data-role='opacity']").fill("30")
    assert top.evaluate("v => getComputedStyle(v).opacity") == "0.3"

    show(page, "Side by side")
    expect(player).to_have_attribute("data-mode", "side")
    page.wait_for_function(f"() => [...document.querySelectorAll(\"{VIDEOS}\")].every(v => v.readyState >= 1)")
    step_to(page, 10, [24.0, 24.0])
    assert frames(page, [24.0, 24.0]) == [10, 10]
    focus_player(page)
    page.keyboard.press("ArrowRight")
    settle(page)
    assert frames(page, [24.0, 24.0]) == [11, 11], "a frame step moves both sides by one frame"

    offset = page.locator(f".st-key-compare_offset_{review_app.remix} input")
    offset.fill("5")
    offset.press("Enter")
    wait_for_run(page)
    page.wait_for_function(f"() => [...document.querySelectorAll(\"{VIDEOS}\")].every(v => v.readyState >= 1)")
    expect(player).to_have_attribute("data-offsets", "0,5")
    focus_player(page)
    page.keyboard.press("ArrowRight")
    settle(page)
    page.wait_for_function(f"() => document.querySelector(\"{VIDEOS}[data-side='1']\").dataset.frame === '17'")
    assert frames(page, [24.0, 24.0]) == [12, 17], "the second side runs five frames ahead"


def test_compare_with_the_previous_version_then_note_an_in_out_range(review_app: ReviewApp, page: Page) -> None:
    open_takes(page, review_app, [review_app.remix])
    page.get_by_role("button", name="Compare with the previous version").click()
    page.wait_for_function(f"() => [...document.querySelectorAll(\"{VIDEOS}\")].filter(v => v.readyState >= 1)"
                           ".length === 2", timeout=60_000)
    wait_for_run(page)
    assert page.url.replace("%2C", ",").endswith(f"takes={review_app.take24},{review_app.remix}")
    # notes (and drawings) go on the newer one, on the right
    expect(page.locator(f".rp-box:has({VIDEOS}[data-side='1']) [data-role='overlay']")).to_have_count(1)
    sign(page, "Cy")
    step_to(page, 20, [24.0, 24.0])
    page.keyboard.press("i")
    for _ in range(10):
        page.keyboard.press("Period")
    page.keyboard.press("o")
    expect(page.locator("[data-role='in-out']")).to_have_text("in 20 · out 30")
    add_note(page, "ease into the cut here")
    note = page.locator("[data-role='note']", has_text="Cy: ease into the cut here")
    expect(note).to_contain_text("00:00:00:20–00:00:01:06")
    assert note.get_attribute("data-frame") == "20"


def test_j_k_l_and_space_drive_both_sides(review_app: ReviewApp, page: Page) -> None:
    open_takes(page, review_app, [review_app.take24, review_app.remix])
    step_to(page, 30, [24.0, 24.0])
    page.keyboard.press("l")
    page.wait_for_function(f"() => [...document.querySelectorAll(\"{VIDEOS}\")].every(v => !v.paused "
                           "&& v.currentTime > 36 / 24)")
    page.keyboard.press("k")
    page.wait_for_function(f"() => [...document.querySelectorAll(\"{VIDEOS}\")].every(v => v.paused)")
    settle(page)
    played = frames(page, [24.0, 24.0])
    assert played[0] == played[1] and played[0] > 30, played
    page.keyboard.press("j")
    page.wait_for_function(f"() => +document.querySelector(\"[data-testid='review-player']\").dataset.frame < "
                           f"{played[0] - 2}")
    page.keyboard.press("Space")
    page.wait_for_function(f"() => [...document.querySelectorAll(\"{VIDEOS}\")].every(v => !v.paused)")
    page.keyboard.press("Space")
    page.wait_for_function(f"() => [...document.querySelectorAll(\"{VIDEOS}\")].every(v => v.paused)")
    settle(page)
    now = frames(page, [24.0, 24.0])
    assert now[0] == now[1], now
