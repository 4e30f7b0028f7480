"""The one review player in a review round and in a guest's view, in Chromium.

A blind round on two takes: the reviewer steps to frame 5 of "Take 1" in its review player, writes a note
there, replies to it and marks it done from the player's note list; the store holds all three under the
reviewer's name, and the page (the player's DOM included) names no prompt or model. A guest link to one of
the takes opens the guest view, where the take plays in the review player alone (the other take's id is
nowhere on the page) and the guest's note is written as "guest: name".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from running_app import start_app, stop_app, wait_for_run

from dailies.media import MediaLibrary
from dailies.review import ReviewDesk
from dailies.review.guests import GuestLinks
from dailies.review.rounds import ReviewBook
from dailies.store import JobStore
from tests.review_fixtures import store_take, tiny_video

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROMPTS = ("a red kite over dunes", "a blue kite over the sea")
PLAYER = "[data-testid='review-player']"


@dataclass
class RoundApp:
    url: str
    home: Path
    takes: list[str]
    round_id: str
    guest_secret: str


@pytest.fixture(scope="module")
def round_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoundApp]:
    home = tmp_path_factory.mktemp("round-player")
    store, media = JobStore(home / "jobs.json"), MediaLibrary(home / "media")
    video = tiny_video(home / "source.mp4", fps=24, frames=48)
    takes = [store_take(store, media, video, prompt).id for prompt in PROMPTS]
    found = ReviewBook(store).start(takes, mode="scores", blind=True, created_by="Olga")
    link = GuestLinks(store).create("round", found.id, takes[:1], made_by="Olga", life_s=3600)
    store.close()
    process, url = start_app(home, home.parent / f"{home.name}.log")
    try:
        yield RoundApp(url, home, takes, found.id, link.secret)
    finally:
        stop_app(process)


def notes_in_store(app: RoundApp, take: str):
    store = JobStore(app.home / "jobs.json")
    try:
        return ReviewDesk(store, MediaLibrary(app.home / "media")).notes_of(take)
    finally:
        store.close()


def anns_notes(app: RoundApp, take: str):
    return [note for note in notes_in_store(app, take) if note.author == "Ann"]


def ready(page: Page, count: int) -> None:
    page.wait_for_function(
        """([sel, n]) => { const v = [...document.querySelectorAll(sel + " video")];
                          return v.length === n && v.every(x => x.readyState >= 1 && x.duration > 0); }""",
        arg=[PLAYER, count], timeout=60_000)
    wait_for_run(page)


def test_a_note_at_a_frame_of_a_blind_rounds_take_a_reply_and_done(round_app: RoundApp, page: Page) -> None:
    page.goto(f"{round_app.url}/review?round={round_app.round_id}")
    wait_for_run(page)
    name = page.locator("[data-testid='stMain']").get_by_role("textbox", name="Your name")
    name.fill("Ann")
    name.press("Enter")
    page.get_by_text("Take 2").first.wait_for()
    ready(page, 2)
    main = page.locator("[data-testid='stMain']").inner_text()
    assert not any(p in main for p in PROMPTS) and "sora-2" not in main and "720x1280" not in main, "blind"

    store = JobStore(round_app.home / "jobs.json")
    try:
        first = ReviewBook(store).order_for(round_app.round_id, "Ann")[0]
    finally:
        store.close()
    tile = page.locator(".st-key-review_take_1")
    player = tile.locator(PLAYER)
    player.locator("[data-role='frame']").click()
    for _ in range(5):
        page.keyboard.press("Period")
    expect(player).to_have_attribute("data-frame", "5")
    # the keys drove the take clicked, not every player on the page
    expect(page.locator(".st-key-review_take_2").locator(PLAYER)).to_have_attribute("data-frame", "0")
    player.locator("[data-role='note-text']").fill("<b>the kite</b> jumps here")
    player.locator("[data-role='add-note']").click()
    # The guest test in this module may have left its own note on this take first: work in Ann's.
    item = player.locator("[data-role='notes'] li", has_text="the kite")
    expect(item.locator("[data-role='note-body']")).to_have_text("Ann: <b>the kite</b> jumps here")  # as text
    (note,) = anns_notes(round_app, first)
    assert (note.frame, note.author, note.text) == (5, "Ann", "<b>the kite</b> jumps here")

    item.locator("[data-role='reply-text']").fill("smooth it over two frames")
    item.locator("[data-role='reply-send']").click()
    expect(item.locator("[data-role='reply']")).to_have_text("↳ Ann: smooth it over two frames")
    item.locator("[data-role='note-done']").click()
    expect(item.locator("[data-role='note-done-mark']")).to_have_text(" (done, Ann)")
    expect(item.locator("[data-role='note-done']")).to_have_text("Reopen")
    (note,) = anns_notes(round_app, first)
    assert note.done and note.done_by == "Ann"
    assert [(r.author, r.text) for r in note.replies] == [("Ann", "smooth it over two frames")]


def test_a_guest_links_view_plays_its_take_in_the_review_player(round_app: RoundApp, page: Page) -> None:
    shared, other = round_app.takes
    page.goto(f"{round_app.url}/guest?t={round_app.guest_secret}")
    wait_for_run(page)
    page.get_by_text("Take 1").first.wait_for()
    box = page.locator("[data-testid='stMain']").get_by_role("textbox", name="Your name")
    box.fill("Gil")
    box.press("Enter")
    page.get_by_text("Reviewing as").wait_for()
    ready(page, 1)
    assert page.locator("[data-testid='stVideo']").count() == 0, "the review player, not st.video"
    html = page.content()
    assert other not in html, "nothing of the take outside the link reaches the page"
    assert not any(p in html for p in PROMPTS[1:])
    player = page.locator(PLAYER)
    player.locator("[data-role='frame']").click()
    for _ in range(3):
        page.keyboard.press("Period")
    expect(player).to_have_attribute("data-frame", "3")
    player.locator("[data-role='note-text']").fill("the sky flickers")
    player.locator("[data-role='add-note']").click()
    # The other test in this module may have left its own note on this take first.
    expect(player.locator("[data-role='note-body']", has_text="the sky flickers")).to_have_text(
        "guest: Gil: the sky flickers")
    assert [(n.frame, n.author) for n in notes_in_store(round_app, shared) if n.text == "the sky flickers"] == [
        (3, "guest: Gil")]
