"""Review rounds in the pages: start one on a grid, reviewers score blind, results after submitting."""

from __future__ import annotations

import json

import pytest
from page_helpers import WORKBENCH, no_exception

from components.text import plain
from dailies.jobs import JobRequest
from dailies.review.rounds import ReviewBook
from dailies.studio import axis_combinations, new_group_id

AXES = {"light": ["dusk", "noon"], "angle": ["aerial", "eye level"]}


def launch_grid(shared) -> str:
    group = new_group_id()
    result = shared.launch([JobRequest(prompt=f"a paper boat, {combo['light']}, {combo['angle']}",
                                       model="dailies-preview", size="1280x720", seconds=4, group_id=group, axes=combo)
                            for combo in axis_combinations(AXES)])
    assert not result.errors
    assert shared.tracker.run_until_idle(timeout=120)
    return group


def as_person(open_page, name: str, page: str, query: dict[str, str] | None = None):
    """A session whose person gave their name in the sidebar (on the first page), then opened `page`."""
    at = no_exception(open_page("generate.py", query))
    at.text_input(key="person_input").input(name).run()
    at.switch_page(f"pages/{page}")
    return no_exception(at.run())


def player_data(at) -> list[dict]:
    """What each review player on the page sends to the browser (its whole data, as the browser gets it)."""
    return [json.loads(e.proto.json) for e in at.get("bidi_component")
            if e.proto.component_name == "dailies_review_player"]


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "success", "warning", "error")
                    for e in getattr(at, kind))


@pytest.fixture
def grid(open_page, studio_of):
    open_page("generate.py")
    return launch_grid(studio_of())


@pytest.mark.slow
def test_an_organiser_starts_a_blind_round_on_a_grid_and_it_is_shared_by_link(open_page, studio_of, grid) -> None:
    at = as_person(open_page, "Olga", "review.py", {"group": grid})
    assert at.selectbox(key="rv_group").value == grid
    at.text_input(key="rv_title").input("Which light?").run()
    at.button(key="rv_start").click().run()
    no_exception(at)
    rounds = ReviewBook(studio_of().store).rounds()
    assert len(rounds) == 1
    found = rounds[0]
    assert (found.blind, found.mode, found.created_by, found.title) == (True, "scores", "Olga", "Which light?")
    assert set(found.takes) == {job.id for job in studio_of().store.group(grid)}
    assert at.query_params["round"] in (found.id, [found.id])
    assert at.text_input(key=f"rv_link_{found.id}").value.endswith(f"?round={found.id}")


@pytest.mark.slow
def test_a_reviewer_scores_blind_submits_and_only_then_sees_results(open_page, studio_of, grid) -> None:
    shared = studio_of()
    found = ReviewBook(shared.store).start([j.id for j in shared.store.group(grid)], title="Boats", created_by="Olga")
    at = open_page("review.py", {"round": found.id})
    assert at.text_input(key="rv_name") is not None, "a reviewer is asked for a name first"
    at.text_input(key="rv_name").input("Ann").run()
    no_exception(at)
    shown = texts(at)
    assert "Take 1" in shown and "Take 4" in shown
    for job in shared.store.group(grid):  # blind: no axis value, model or prompt on the page
        assert job.prompt not in shown and "dusk" not in shown and "dailies-preview" not in shown
    # each take plays in the review player, and what it sends the browser names it "Take n" only
    sent = player_data(at)
    assert [[t["label"] for t in data["takes"]] for data in sent] == [["Take 1"], ["Take 2"], ["Take 3"], ["Take 4"]]
    assert all(data["writable"] and data["notes"] == [] for data in sent)
    raw = json.dumps(sent)
    for job in shared.store.group(grid):
        assert job.prompt not in raw and "dusk" not in raw and "noon" not in raw and job.model not in raw
        assert job.kind not in raw and job.size not in raw
    assert at.button(key="rv_submit").disabled
    order = ReviewBook(shared.store).order_for(found.id, "Ann")
    for position, take in enumerate(order):
        at.feedback(key=f"rs_{found.id}_{take}").set_value(position).run()  # 1, 2, 3, 4 stars
    at.text_input(key=f"rn_{found.id}_{order[3]}").input("the one").run()
    no_exception(at)
    assert not at.button(key="rv_submit").disabled
    at.button(key="rv_submit").click().run()
    assert "your review is in" in texts(at)

    # Another reviewer, in another session, is asked to review before seeing anything.
    other = as_person(open_page, "Bo", "review_results.py", {"round": found.id})
    assert "open once you have submitted" in texts(other)
    assert not other.table
    # Ann sees the results: one reviewer is too few to call, and her scores are there.
    results = as_person(open_page, "Ann", "review_results.py", {"round": found.id})
    assert "Too few reviews to call" in texts(results)
    ranking = results.table[0].value
    assert ranking["job"].iloc[0] == plain(order[3]) and list(ranking["mean"]) == [4.0, 3.0, 2.0, 1.0]
    assert "the one" in results.table[-1].value["note"].tolist()


@pytest.mark.slow
def test_pairwise_round_is_chosen_pair_by_pair(open_page, studio_of, grid) -> None:
    shared = studio_of()
    takes = [j.id for j in shared.store.group(grid)][:3]
    found = ReviewBook(shared.store).start(takes, mode="pairwise", blind=False, created_by="Olga")
    at = as_person(open_page, "Ann", "review.py", {"round": found.id})
    (pair,) = player_data(at)  # a labelled round: the pair in one player, named by axes and model
    assert len(pair["takes"]) == 2 and all("dailies-preview" in t["label"] for t in pair["takes"])
    for _ in range(3):
        assert at.button(key="choose_left") is not None
        at.button(key="choose_left").click().run()
        no_exception(at)
    assert "your review is in" in texts(at)
    results = ReviewBook(shared.store).results(found.id)
    assert sum(t.wins for t in results.takes) == 3 and all(t.comparisons == 2 for t in results.takes)


@pytest.mark.slow
def test_the_organiser_marks_the_winner_picked(open_page, studio_of, grid) -> None:
    shared = studio_of()
    book = ReviewBook(shared.store)
    takes = [j.id for j in shared.store.group(grid)]
    found = book.start(takes, created_by="Olga")
    for reviewer in ("Ann", "Bo", "Cy"):
        for take in takes:
            book.score(found.id, reviewer, take, stars=5 if take == takes[2] else 2)
        book.submit(found.id, reviewer)
    at = no_exception(open_page("review_results.py", {"round": found.id, "organiser": found.organiser_secret}))
    assert "is the best take" in texts(at)
    assert at.selectbox(key="rr_winner").value == takes[2]
    at.button(key="rr_pick").click().run()
    no_exception(at)
    assert shared.store.require(takes[2]).picked and book.get(found.id).winner == takes[2]


@pytest.mark.slow
def test_a_job_records_who_launched_it(open_page, studio_of) -> None:
    at = no_exception(open_page("generate.py"))
    assert "This is not sign-in" in at.text_input(key="person_input").help
    at.text_input(key="person_input").input("  Ann  ").run()
    assert at.session_state["person"] == "Ann", "kept in the tab's session"
    at.switch_page("pages/variants.py")
    no_exception(at.run())
    at.text_area(key="v_base").input("A paper boat on a pond").run()
    at.button(key="v_launch").click().run()
    no_exception(at)
    assert {job.made_by for job in studio_of().store.all()} == {"Ann"}


def test_the_sidebar_says_who_is_working(open_page, studio_of) -> None:
    from streamlit.testing.v1 import AppTest

    open_page("generate.py")
    at = AppTest.from_file(WORKBENCH, default_timeout=30)
    at.session_state["person"] = "Ann"
    no_exception(at.run())
    assert "Working as **Ann** (a name, not a sign-in)" in [c.value for c in at.sidebar.caption]


@pytest.mark.slow
def test_history_selection_opens_a_round_on_those_takes(open_page, studio_of, grid) -> None:
    takes = [j.id for j in studio_of().store.group(grid)][:3]
    at = open_page("review.py", {"takes": ",".join(takes)})
    assert at.segmented_control(key="rv_source").value == "Chosen takes"
    assert at.multiselect(key="rv_takes").value == takes
    at.segmented_control(key="rv_mode").set_value("pairwise").run()
    at.button(key="rv_start").click().run()
    no_exception(at)
    (found,) = ReviewBook(studio_of().store).rounds()
    assert (found.takes, found.mode, found.created_by) == (takes, "pairwise", "")


@pytest.mark.slow
def test_a_grid_links_to_a_round_on_it(open_page, grid) -> None:
    at = no_exception(open_page("variants.py", {"group": grid}))
    (link,) = [link for link in at.get("page_link") if link.proto.label.startswith("Start a review round")]
    assert link.proto.page.endswith("review") and f"group={grid}" in link.proto.query_string


@pytest.mark.slow
def test_results_export_as_csv_and_json(open_page, studio_of, grid, monkeypatch) -> None:
    import io
    import json

    import pandas as pd
    from page_helpers import record_downloads

    downloads = record_downloads(monkeypatch)
    shared = studio_of()
    book = ReviewBook(shared.store)
    takes = [j.id for j in shared.store.group(grid)]
    found = book.start(takes, created_by="Olga")
    for reviewer, best in (("Ann", 0), ("Bo", 0), ("Cy", 1)):
        for position, take in enumerate(takes):
            book.score(found.id, reviewer, take, stars=5 if position == best else 1, note="ok" if position else "")
        book.submit(found.id, reviewer)
    at = no_exception(open_page("review_results.py", {"round": found.id, "organiser": found.organiser_secret}))
    buttons = {b.label: b for b in at.get("download_button")}
    ranking = pd.read_csv(io.StringIO(downloads.of(buttons["Export CSV"]).decode()))
    assert list(ranking["job"][:2]) == [takes[0], takes[1]]
    assert ranking.loc[0, "mean"] == pytest.approx(11 / 3, abs=0.01) and ranking.loc[0, "reviews"] == 3
    scores = pd.read_csv(io.StringIO(downloads.of(buttons["Export every score (CSV)"]).decode()))
    assert len(scores) == 12 and set(scores["reviewer"]) == {"Ann", "Bo", "Cy"}
    data = json.loads(downloads.of(buttons["Export JSON"]))
    assert data["round"]["id"] == found.id and len(data["records"]) == 12
    assert data["labels"][takes[0]].startswith("light: dusk · angle: aerial")
    assert {e["axis"] for e in data["axis_effects"]} == {"light", "angle"}
