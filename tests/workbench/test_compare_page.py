"""Compare: any two to four takes (named in the address), a job's lineage, synchronised players, prompt differences."""

from __future__ import annotations

import json

import pytest
from page_helpers import no_exception

from dailies.jobs import JobKind, JobRequest


def make_lineage(shared):
    source = shared.submit(JobRequest(prompt="a red kite over a beach at golden hour", model="dailies-preview",
                                      size="720x1280", seconds=4))
    assert shared.tracker.run_until_idle(timeout=60)
    remix = shared.submit(shared.request_from(source.id, JobKind.REMIX, "a red kite over a beach at night, neon"))
    edit = shared.submit(shared.request_from(source.id, JobKind.EDIT, "black and white"))
    assert shared.tracker.run_until_idle(timeout=90)
    return source, remix, edit


def players(at) -> list[str]:
    """The URLs the player on the page plays (the review player's data: one entry per take)."""
    (player,) = [e for e in at.get("bidi_component") if e.proto.component_name == "dailies_review_player"]
    return [take["url"] for take in json.loads(player.proto.json)["takes"]]


@pytest.mark.slow
def test_a_jobs_link_plays_its_whole_lineage(open_page, studio_of) -> None:
    at = open_page("generate.py")
    source, remix, edit = make_lineage(studio_of())
    at = no_exception(open_page("compare.py"))  # from the sidebar, nothing asked: the newest family plays
    assert at.multiselect(key="compare_pick").value == [source.id, remix.id, edit.id]
    at = no_exception(open_page("compare.py", query={"job": remix.id}))
    lineage = at.dataframe[0].value
    assert list(lineage["job"]) == [source.id, remix.id, edit.id]
    assert list(lineage[""]) == ["generate", "└ remix", "└ edit"]
    assert at.multiselect(key="compare_pick").value == [source.id, remix.id, edit.id], "three related takes, three play"
    assert len(players(at)) == 3
    assert players(at)[0].startswith(f"/app/static/takes/{source.id}/video.mp4")
    assert players(at)[1].startswith(f"/app/static/takes/{remix.id}/")
    assert at.query_params["takes"] == f"{source.id},{remix.id},{edit.id}", "the address holds the selection"
    diff = next(h.value for h in at.html if "prompt-diff" in h.value)
    assert "<del" in diff and "golden hour" in diff and "<ins" in diff and "neon" in diff

    at.multiselect(key="compare_pick").unselect(edit.id).run()
    assert len(players(at)) == 2
    assert at.query_params["takes"] == f"{source.id},{remix.id}"

    at.button(key="compare_play_lineage").click().run()  # a take's lineage, from the section under the players
    assert at.multiselect(key="compare_pick").value == [source.id, remix.id, edit.id]

    # A follow-up's card links to its lineage here, wherever the card shows (History's single pick here).
    at = open_page("history.py")
    row = list(at.dataframe[0].value["id"]).index(remix.id)
    at.session_state["history_table_1"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    no_exception(at.run())
    (link,) = [link for link in at.get("page_link") if link.proto.label == "Compare"]
    assert link.proto.query_string == f"job={remix.id}" and link.proto.page.endswith("compare")


@pytest.mark.slow
def test_any_takes_named_in_the_address_play_siblings_included(open_page, finished_grid) -> None:
    grid = finished_grid("a paper boat on a pond", 3)
    first, second, third = (job.id for job in grid)
    at = no_exception(open_page("compare.py", query={"takes": f"{first},{third}"}))
    assert at.multiselect(key="compare_pick").value == [first, third]
    assert len(players(at)) == 2, "two siblings of a grid, no lineage between them"
    assert not [i for i in at.info if "Pick a take" in i.value]

    at = no_exception(open_page("compare.py", query={"takes": f"{second},job_gone,{first},{third}"}))
    assert any("job_gone" in w.value for w in at.warning)
    assert at.multiselect(key="compare_pick").value == [second, first, third]
    assert at.query_params["takes"] == f"{second},{first},{third}"

    assert any("Nothing else to play in this lineage" in c.value for c in at.caption), "a grid's take has no lineage"


def test_an_unknown_job_in_the_link_is_said_plainly(open_page, studio_of) -> None:
    at = open_page("generate.py")
    studio_of().submit(JobRequest(prompt="a kite", model="dailies-preview", size="720x1280", seconds=4))
    at = no_exception(open_page("compare.py", query={"job": "../../etc/passwd"}))
    assert any("no job" in w.value for w in at.warning)
    assert not any("passwd" in w.value for w in at.warning), "a crafted link's text is not repeated on the page"


def test_a_job_without_follow_ups_explains_what_to_do(open_page, studio_of) -> None:
    at = no_exception(open_page("compare.py"))
    assert any("No jobs yet" in i.value for i in at.info)
    studio_of().submit(JobRequest(prompt="a kite", model="dailies-preview", size="720x1280", seconds=4))
    at.run()
    assert any("Pick a take to review, or two to four to compare" in i.value for i in at.info)


@pytest.mark.slow
def test_a_grids_picks_link_to_compare(open_page, studio_of, finished_grid) -> None:
    grid = finished_grid("a kite at dusk", 3)
    shared = studio_of()
    group = grid[0].group_id
    at = no_exception(open_page("variants.py", query={"group": group}))
    assert not [link for link in at.get("page_link") if link.proto.label == "Compare the picks"], "no picks yet"
    first, _, third = grid
    for job in (first, third):
        shared.review(job.id, picked=True)
    at.run()
    (link,) = [link for link in at.get("page_link") if link.proto.label == "Compare the picks"]
    assert link.proto.query_string == f"takes={first.id}%2C{third.id}"
    assert link.proto.page.endswith("compare")
