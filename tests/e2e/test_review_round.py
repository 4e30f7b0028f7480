"""A blind review round in the browser: an organiser launches a four-take grid on Variants and starts a
round; three reviewers, each in their own browser context, score it blind; the results page shows the
ranking and what each axis did, with the numbers checked against a hand computation here."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from running_app import RunningApp, new_tab, running, start_streamlit, wait_for_run

from dailies.jobs import JobStatus
from dailies.review.rounds import ReviewBook
from dailies.store import JobStore
from tests.until import wait_until

# The Variants page's default axes make four takes: lighting × angle.
SCORES = {  # reviewer → (lighting, angle) → stars
    "Ann": {("golden hour", "aerial"): 5, ("golden hour", "eye level"): 4, ("overcast", "aerial"): 2,
            ("overcast", "eye level"): 1},
    "Bo": {("golden hour", "aerial"): 4, ("golden hour", "eye level"): 4, ("overcast", "aerial"): 3,
           ("overcast", "eye level"): 2},
    "Cy": {("golden hour", "aerial"): 5, ("golden hour", "eye level"): 3, ("overcast", "aerial"): 1,
           ("overcast", "eye level"): 2},
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with running(tmp_path_factory.mktemp("review-home"), start_streamlit) as started:
        yield started


def give_name(page, name: str) -> None:
    box = page.locator("[data-testid='stSidebar']").get_by_role("textbox", name="Your name")
    box.fill(name)
    box.press("Enter")
    page.get_by_text(f"Working as {name}").wait_for()
    wait_for_run(page)


def table_rows(page, index: int) -> list[list[str]]:
    table = page.locator("[data-testid='stTable']").nth(index)
    return [[cell.strip() for cell in row.locator("td, th").all_inner_texts()]
            for row in table.locator("tbody tr").all()]


def test_three_reviewers_score_a_grid_blind_and_the_results_add_up(app: RunningApp, browser, screenshots: Path) -> None:
    organiser_context, organiser = new_tab(browser)
    organiser.goto(f"{app.url}/variants")
    wait_for_run(organiser)
    give_name(organiser, "Olga")
    organiser.get_by_role("textbox", name="Base prompt").fill("A paper boat on a pond")
    organiser.get_by_role("textbox", name="Base prompt").press("Control+Enter")
    wait_for_run(organiser)
    organiser.get_by_role("button", name="Launch 4 takes").click()
    wait_for_run(organiser)

    store = JobStore(app.home / "jobs.json")
    try:
        def finished() -> bool:
            jobs = store.all()
            return len(jobs) == 4 and all(job.status == JobStatus.COMPLETED and job.has_video for job in jobs)

        wait_until(finished, 180, "the grid's four takes to render")
        jobs = store.all()
        assert {job.made_by for job in jobs} == {"Olga"}, "each job says who launched it"
        by_axes = {(job.axes["lighting"], job.axes["angle"]): job for job in jobs}

        # Within the tab (the sidebar's navigation), so the session and its name stay.
        organiser.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Review rounds").click()
        organiser.get_by_role("button", name="Start the round").wait_for()
        wait_for_run(organiser)
        organiser.get_by_role("textbox", name="Title").fill("Which light?")
        organiser.get_by_role("button", name="Start the round").click()
        organiser.get_by_role("textbox", name="Share this link with the reviewers").wait_for()
        wait_for_run(organiser)
        link = organiser.get_by_role("textbox", name="Share this link with the reviewers").input_value()
        round_id = link.rsplit("=", 1)[1]
        assert link.startswith(app.url) and round_id.startswith("rev_")
        book = ReviewBook(store)
        found = wait_until(lambda: store.refresh() or book.get(round_id), 10, "the round to reach the store")
        assert (found.created_by, found.title, found.blind, set(found.takes)) == (
            "Olga", "Which light?", True, {job.id for job in jobs})

        for reviewer, stars in SCORES.items():
            context, page = new_tab(browser)
            page.goto(link)
            wait_for_run(page)
            page.get_by_text("Give your name to review").wait_for()
            page.locator("[data-testid='stMain']").get_by_role("textbox", name="Your name").fill(reviewer)
            page.locator("[data-testid='stMain']").get_by_role("textbox", name="Your name").press("Enter")
            page.get_by_text("Take 4").first.wait_for()  # the tile's title (and the player's caption)
            wait_for_run(page)
            text = page.locator("[data-testid='stMain']").inner_text()
            assert "golden hour" not in text and "dailies-preview" not in text and "paper boat" not in text, "blind"
            assert page.get_by_role("button", name="Submit my review").is_disabled()
            order = book.order_for(round_id, reviewer)
            for position, take in enumerate(order):
                job = store.require(take)
                tile = page.locator(f".st-key-review_take_{position + 1}")
                value = stars[(job.axes["lighting"], job.axes["angle"])]
                tile.locator("[data-testid='stFeedback'] button, [data-testid='stButtonGroup'] button").nth(
                    value - 1).click()
                left = len(order) - position - 1
                if left:
                    page.get_by_text(f"{left} take{'s' if left > 1 else ''} still without stars.").wait_for()
                else:
                    expect(page.get_by_role("button", name="Submit my review")).to_be_enabled()
                wait_for_run(page)
                if value == 1:
                    note = tile.get_by_placeholder("A note (optional)")
                    note.fill(f"{reviewer}: too dark")
                    note.press("Enter")
                    wait_for_run(page)
            if reviewer == "Ann":
                page.screenshot(path=str(screenshots / "review-round-blind.png"), full_page=True)
                # Nothing of Ann's counts until she submits, and she cannot see the results yet.
                assert book.results(round_id).takes[0].count == 0
            page.get_by_role("button", name="Submit my review").click()
            page.get_by_text("your review is in").wait_for()
            context.close()

        store.refresh()
        organiser.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Review results").click()
        wait_for_run(organiser)
        organiser.get_by_text("Ranking").wait_for()
        organiser.locator("[data-testid='stTable']").nth(2).locator("tbody tr").first.wait_for()  # the notes, last
        wait_for_run(organiser)
        organiser.screenshot(path=str(screenshots / "review-results.png"), full_page=True)

        # By hand: each take's mean and spread over the three reviewers, highest mean first.
        hand = {combo: [SCORES[r][combo] for r in SCORES] for combo in by_axes}
        ranked = sorted(hand, key=lambda c: -statistics.fmean(hand[c]))
        ranking = table_rows(organiser, 0)
        assert [row[2] for row in ranking] == [by_axes[c].id for c in ranked]
        for row, combo in zip(ranking, ranked, strict=True):
            assert row[0] == str(ranked.index(combo) + 1)
            assert f"lighting: {combo[0]} · angle: {combo[1]}" in row[1]
            assert float(row[3]) == pytest.approx(statistics.fmean(hand[combo]), abs=0.006)
            assert row[4] == "3"
            assert float(row[5]) == pytest.approx(statistics.stdev(hand[combo]), abs=0.006)

        # Axis effects: a value's mean over every score its takes got, minus the mean of all twelve.
        every = [s for scores in hand.values() for s in scores]
        effects = {(row[0], row[1]): (float(row[2]), float(row[3])) for row in table_rows(organiser, 1)}
        for axis, place in (("lighting", 0), ("angle", 1)):
            for value in {combo[place] for combo in hand}:
                got = [s for combo, scores in hand.items() if combo[place] == value for s in scores]
                mean, effect = effects[(axis, value)]
                assert mean == pytest.approx(statistics.fmean(got), abs=0.006)
                assert effect == pytest.approx(statistics.fmean(got) - statistics.fmean(every), abs=0.006)
        assert organiser.locator("[data-testid='stVegaLiteChart'], [data-testid='stArrowVegaLiteChart']").count() >= 1

        # Golden hour aerial beats golden hour eye level for Ann and Cy and ties for Bo: it ranks first
        # strictly unless a resample draws Bo three times, so in 26/27 of resamples.
        verdict = organiser.locator("[data-testid='stAlert']").filter(has_text="resamples").inner_text()
        share = int(re.search(r"(\d+)% of", verdict)[1]) / 100
        assert share == pytest.approx(26 / 27, abs=0.02), verdict
        assert "lighting: golden hour · angle: aerial" in verdict
        notes = table_rows(organiser, 2)
        assert sorted(row[2] for row in notes) == ["Ann: too dark", "Cy: too dark"]

        organiser.get_by_role("button", name="Mark it picked").click()
        wait_until(lambda: store.refresh() or store.require(by_axes[ranked[0]].id).picked, 10, "the winner picked")
    finally:
        store.close()
        organiser_context.close()


def test_a_reviewer_chooses_in_pairs_in_the_review_player(app: RunningApp, browser, screenshots: Path) -> None:
    """A pairwise round on three of the grid's takes: each pair plays side by side in one review player, named
    Left and Right only (blind), one button each side."""
    store = JobStore(app.home / "jobs.json")
    try:
        takes = [job.id for job in store.all() if job.has_video][:3]
        if len(takes) < 3:
            pytest.skip("needs the grid the test above renders")
        book = ReviewBook(store)
        found = book.start(takes, mode="pairwise", blind=True, created_by="Olga")
        context, page = new_tab(browser)
        page.goto(f"{app.url}/review?round={found.id}")
        wait_for_run(page)
        page.locator("[data-testid='stMain']").get_by_role("textbox", name="Your name").fill("Dee")
        page.locator("[data-testid='stMain']").get_by_role("textbox", name="Your name").press("Enter")
        pairs = book.pairs_for(found.id, "Dee")
        prefer = {take: rank for rank, take in enumerate(takes)}  # Dee prefers the earlier take of each pair
        for number, (left, right) in enumerate(pairs):
            page.get_by_text(f"Pair {number + 1} of 3").wait_for()
            wait_for_run(page)
            player = page.locator("[data-testid='review-player']")
            expect(player.locator("video")).to_have_count(2, timeout=15_000)  # mounts after the run ends
            expect(player.locator("figcaption b")).to_have_text(["Left", "Right"])
            if number == 0:
                page.screenshot(path=str(screenshots / "review-pairs.png"), full_page=True)
            side = "Left" if prefer[left] < prefer[right] else "Right"
            page.get_by_role("button", name=f"{side} is better").click()
        page.get_by_text("your review is in").wait_for()
        context.close()
        store.refresh()
        results = book.results(found.id)
        assert [(t.take, t.wins, t.comparisons) for t in results.takes] == [
            (takes[0], 2, 2), (takes[1], 1, 2), (takes[2], 0, 2)]
        assert "Too few reviews to call" in results.certainty.sentence
    finally:
        store.close()
