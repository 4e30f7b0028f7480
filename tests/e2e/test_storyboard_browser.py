"""Storyboard in a real browser, on the app's embedded engine: a three-shot board with continuity is
built, its takes are picked, it is assembled, the assembly plays as one video as long as the three
shots together, and the OTIO timeline downloads and loads back with the three clips in order."""

from __future__ import annotations

from collections.abc import Iterator

import opentimelineio as otio
import pytest
from playwright.sync_api import Page, expect
from running_app import check_option, choose, running, start_streamlit, wait_for_run

from dailies.jobs import Job
from dailies.store import JobStore
from dailies.storyboard import Board
from tests.until import wait_until

pytestmark = pytest.mark.e2e

PROMPTS = ["a red kite lifts off the sand", "the kite climbs over the dunes", "the kite lands by the sea"]
CHAINED = "Starts from the previous shot's last frame"


@pytest.fixture(scope="module")
def board_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    with running(tmp_path_factory.mktemp("board-home"), start_streamlit) as app:
        yield app.url, app.home


def settled(page: Page) -> None:
    wait_for_run(page)


def shot(page: Page, n: int, key: str):
    """A widget of the n-th shot (0-based), by its key's prefix: shots are in page order."""
    return page.locator(f"[class*='st-key-{key}_']").nth(n)


def wait_for_takes(page: Page, n: int, count: int) -> None:
    """Until the n-th shot shows `count` finished takes (video players inside its box); up to 4 minutes, as the
    renders share both cores with the suite's kill tests."""
    page.locator("[class*='st-key-sb_shot_']").nth(n).locator("video").nth(count - 1).wait_for(timeout=240_000)
    settled(page)


def pick(page: Page, n: int, take: str) -> None:
    """Pick a take and see it picked (a click lost to a run that redrew the shot is clicked again)."""
    check_option(page, shot(page, n, "sb_pick").get_by_role("radio", name=take), f"{take} of shot {n + 1}")


def test_a_three_shot_board_with_continuity_is_assembled_and_handed_off(board_app, page: Page, screenshots,
                                                                         tmp_path) -> None:
    url, home = board_app
    page.goto(f"{url}/storyboard")
    expect(page.get_by_role("heading", name="Storyboard", level=1)).to_be_visible()
    page.get_by_role("button", name="New board").click()
    page.get_by_label("Title").fill("Kite, three shots")
    page.get_by_role("button", name="Create").click()
    settled(page)
    page.keyboard.press("Escape")  # close the popover

    for _ in range(2):
        page.get_by_role("button", name="Add a shot").click()
        settled(page)
    for n, words in enumerate(PROMPTS):
        box = shot(page, n, "sb_prompt").locator("textarea")
        box.fill(words)
        box.press("Tab")  # a text area sends its value when it loses focus
        settled(page)
    for n in (1, 2):
        choose(page, shot(page, n, "sb_cont"), CHAINED)
        settled(page)
    expect(page.get_by_text("Waits for a picked, finished take of Shot 1.")).to_be_visible()

    # A button with help text also has a hidden copy for its tooltip: buttons are found by role.
    launch = page.get_by_role("button", name="Launch 1 shot × 2 takes")
    expect(launch).to_be_enabled()
    launch.click()
    settled(page)
    for n in range(3):
        wait_for_takes(page, n, 2)
        pick(page, n, "Take 2")  # the pick launches the chained shot after it
    expect(page.get_by_text("(chained;")).to_have_count(2)
    page.screenshot(path=str(screenshots / "storyboard-picked.png"), full_page=True)

    page.get_by_role("button", name="Assemble", exact=True).click()
    settled(page)
    expect(page.get_by_text("packets were copied")).to_be_visible()
    assembly = page.locator("video").last
    assembly.scroll_into_view_if_needed()
    page.wait_for_function("v => v.readyState >= 1 && v.duration > 0", arg=assembly.element_handle(),
                           timeout=30_000)
    store = JobStore(home / "jobs.json", follow=False)
    try:
        board = Board.from_dict(next(iter(store.table("boards").all().values())))
        picks = [store.require(s.picked) for s in board.shots]
        assembled = store.require(board.assembly_id)
    finally:
        store.close()
    assert [p.axes["take"] for p in picks] == ["2", "2", "2"]
    assert picks[1].params["reference_name"] == f"{picks[0].id}-last.png"
    duration = assembly.evaluate("v => v.duration")
    assert duration == pytest.approx(sum(p.duration for p in picks), abs=1 / 24)
    assert assembled.params["picks"] == [p.id for p in picks]
    assembly.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.currentTime > 0.5 && !v.paused", arg=assembly.element_handle(), timeout=30_000)
    page.screenshot(path=str(screenshots / "storyboard-assembled.png"), full_page=True)

    with page.expect_download() as info:
        page.get_by_role("button", name="Timeline (.otio)").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".otio"
    timeline = otio.adapters.read_from_file(str(saved))
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["Shot 1", "Shot 2", "Shot 3"]
    assert [c.metadata["dailies"]["job_id"] for c in clips] == [p.id for p in picks]
    assert [c.metadata["dailies"]["prompt"].split(".")[0] for c in clips] == PROMPTS

    # A retake of shot 2 alone; picking its new take makes the assembly again.
    page.locator("[class*='st-key-sb_retake_']").nth(1).get_by_role("button", name="Retake").click()
    settled(page)
    wait_for_takes(page, 1, 3)
    pick(page, 1, "Take 3")
    expect(page.get_by_text(f"job {assembled.id}")).to_have_count(0, timeout=120_000)  # the new assembly

    def board_now() -> tuple[Board, Job]:
        store = JobStore(home / "jobs.json", follow=False)
        try:
            board_then = Board.from_dict(store.table("boards").get(board.id))
            return board_then, store.require(board_then.assembly_id)
        finally:
            store.close()

    # The pick's run assembles the board again; wait for the assembly made from the picks as they are now.
    wait_until(lambda: (lambda b, a: a.params["picks"] == b.picks)(*board_now()), 60, "the assembly of the new pick")
    again, reassembled = board_now()
    assert [len(s.takes) for s in again.shots] == [2, 3, 2]
    assert again.shots[1].picked == again.shots[1].takes[2]
    assert reassembled.id != assembled.id and reassembled.params["picks"] == again.picks
    expect(page.get_by_text(f"job {reassembled.id}")).to_be_visible()
    expect(page.get_by_text("Started from an earlier take of the shot before")).to_be_visible()  # shot 3

