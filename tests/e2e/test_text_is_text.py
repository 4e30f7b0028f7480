"""Text is text, in a real browser: a prompt, note, label, name or provider error holding a bare URL,
`www.`, an e-mail address, a markdown link or a `:material/…:` shortcode makes no link and no icon on
the Variants tiles, the review results or a take's card, and reads as written.

Streamlit renders markdown with react-markdown and remark-gfm, whose autolinks are found in the text
after escapes are undone: only a browser shows what really becomes a link.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from running_app import start_streamlit, stop_app, wait_for_run

from dailies.jobs import FileRecord, Job, JobError, JobStatus
from dailies.review.rounds import ReviewBook
from dailies.store import JobStore

PIECES = ("https://evil.example/x", "http://evil.example/y", "www.evil.example", "someone@evil.example",
          ":material/home:", ":smile:", "[link](https://evil.example)")
EVIL = " ".join(PIECES)
WORD_JOINER = "\u2060"


def finished(job_id: str, n: int, model: str = "dailies-preview", **kwargs) -> Job:
    """A finished take whose files were removed on purpose (so nobody fetches them again): it has a video
    as far as a review round is concerned, with no file to serve."""
    return Job(id=job_id, provider="engine", model=model, size="720x1280", seconds=4,
               status=JobStatus.COMPLETED, created_at=1_000_000 + n, params={"files_removed_at": 1.0},
               files={"video": FileRecord(f"{job_id}/video.mp4", 10, "ab12" * 16)}, **kwargs)


def seed(home: Path) -> str:
    """A grid whose prompt, axis value, notes and provider error hold the pieces, and a review round on it
    with a reviewer named with them; returns the query of the round's organiser link."""
    store = JobStore(home / "jobs.json")
    store.insert(Job(id="video_tt_fail", provider="engine", model="dailies-preview", prompt=f"a boat {EVIL}",
                     size="720x1280", seconds=4, status=JobStatus.FAILED, group_id="grid_tt",
                     axes={"light": EVIL}, notes=EVIL, created_at=1_000_000,
                     error=JobError(f"The provider said: {EVIL}", "bad")))
    for n, light in enumerate(("dusk", EVIL)):
        store.insert(finished(f"video_tt_{n}", n + 1, prompt=f"a kite {EVIL}", group_id="grid_rr",
                              axes={"light": light}, model="www.evil.example" if n else "dailies-preview"))
    book = ReviewBook(store)
    found = book.start(["video_tt_0", "video_tt_1"], created_by="Olga", blind=False)
    for reviewer in ("Ann someone@evil.example", "Bo www.evil.example", "Cy :material/home:"):
        for stars, take in enumerate(found.takes, start=3):
            book.score(found.id, reviewer, take, stars=stars, note=EVIL)
        book.submit(found.id, reviewer)
    store.close()
    return f"round={found.id}&organiser={found.organiser_secret}"  # the organiser's link to the results


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    home = tmp_path_factory.mktemp("text-is-text")
    round_id = seed(home / "data")
    process, url = start_streamlit(home / "data", home / "app.log")
    try:
        yield url, round_id
    finally:
        stop_app(process)


def assert_text_only(area, *, expected: int) -> None:
    """No link and no icon made of the pieces, and each piece there, as written, `expected` times or more."""
    assert area.locator("a[href*='evil.example'], a[href^='mailto:'], a[href*='www.']").count() == 0
    icons = area.locator("[data-testid='stIconMaterial'], [data-testid='stIconEmoji']").all_inner_texts()
    assert "home" not in icons, icons
    text = area.inner_text().replace(WORD_JOINER, "")
    assert "😄" not in text, "the :smile: shortcode became an emoji"
    for piece in PIECES:
        assert text.count(piece) >= expected, (piece, text)


def test_variants_tiles_show_prompts_labels_and_errors_as_text(app, page) -> None:
    url, _ = app
    page.goto(f"{url}/variants?group=grid_tt&blind=0")
    tile = page.locator(".st-key-take_video_tt_fail")
    tile.get_by_text("The provider said:", exact=False).wait_for()
    wait_for_run(page)
    assert_text_only(tile, expected=3)  # the label, the prompt, the provider's error
    assert_text_only(page.locator("[data-testid='stMain']"), expected=3)


def test_review_results_show_labels_names_and_notes_as_text(app, page) -> None:
    url, round_id = app
    page.goto(f"{url}/review_results?{round_id}")
    wait_for_run(page)
    page.get_by_text("Ranking").wait_for()
    wait_for_run(page)
    main = page.locator("[data-testid='stMain']")
    # A rerun may land as the ranking shows (the tab told of a store change): its tables follow it.
    expect(page.locator("[data-testid='stTable']").nth(2)).to_be_attached(timeout=30_000)
    wait_for_run(page)
    assert page.locator("[data-testid='stTable']").count() >= 3, "ranking, axis effects, notes"
    assert_text_only(main, expected=2)
    names = main.inner_text().replace(WORD_JOINER, "")
    assert "Ann someone@evil.example" in names and "Cy :material/home:" in names


def test_a_take_s_status_line_shows_its_model_as_text(app, page) -> None:
    """The caption of a take's card (Generate, History's selection), here under Compare's lineage."""
    url, _ = app
    page.goto(f"{url}/compare?takes=video_tt_1,video_tt_0")  # the lineage of the first: its status line
    wait_for_run(page)
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("720x1280 · 4s", exact=False).first.wait_for()
    assert main.locator("a[href*='evil.example'], a[href*='www.']").count() == 0
    assert "www.evil.example" in main.inner_text().replace(WORD_JOINER, ""), "the model, as written"
