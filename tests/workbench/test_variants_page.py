"""Variants: axes become combinations with a total cost, a launch becomes a grid to review and export."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from page_helpers import no_exception, record_downloads


def launch_default_grid(at):
    at.text_area(key="v_base").input("A paper boat on a pond").run()
    return at


def test_axes_become_every_combination_with_its_cost_before_launch(open_page, studio_of) -> None:
    at = launch_default_grid(open_page("variants.py"))
    combos = at.dataframe[-1].value
    assert len(combos) == 4
    assert set(combos["prompt"]) == {
        "A paper boat on a pond, golden hour, aerial", "A paper boat on a pond, golden hour, eye level",
        "A paper boat on a pond, overcast, aerial", "A paper boat on a pond, overcast, eye level",
    }
    assert at.metric[-1].label == "4 takes"
    assert at.button(key="v_launch").label == "Launch 4 takes"
    assert len(studio_of().store) == 0, "nothing is sent before launch"


def test_seeds_multiply_the_takes(open_page) -> None:
    at = launch_default_grid(open_page("variants.py"))
    at.number_input(key="v_seeds").set_value(2).run()
    assert len(at.dataframe[-1].value) == 8


def test_a_grid_over_budget_cannot_launch(open_page, studio_of, over_budget) -> None:
    at = launch_default_grid(open_page("variants.py"))
    assert at.metric[-1].value == "$16.00"
    assert any("budget" in e.value.lower() for e in at.error)
    assert at.button(key="v_launch").disabled
    assert len(studio_of().store) == 0


@pytest.mark.slow
def test_launch_opens_the_grid_and_the_review_is_kept_and_exported(open_page, studio_of, monkeypatch) -> None:
    downloads = record_downloads(monkeypatch)
    at = launch_default_grid(open_page("variants.py"))
    at.button(key="v_launch").click().run()
    no_exception(at)
    jobs = studio_of().store.all()
    assert len(jobs) == 4 and len({j.group_id for j in jobs}) == 1
    group = jobs[0].group_id
    assert at.query_params["group"] == group
    assert at.tabs[1].label == "Review a grid"
    assert studio_of().tracker.run_until_idle(timeout=90)
    at.run()
    first = studio_of().store.group(group)[0]
    at.feedback(key=f"stars_{first.id}").set_value(3).run()
    at.text_input(key=f"notes_{first.id}").input("the best light").run()
    at.toggle(key=f"pick_{first.id}").set_value(True).run()
    kept = studio_of().store.require(first.id)
    assert (kept.rating, kept.notes, kept.picked) == (4, "the best light", True)

    # What the buttons offer now, without a reload: exactly what the tiles show.
    exported = {b.label: b for b in at.get("download_button")}
    assert {"Export CSV", "Export JSON"} <= set(exported)
    csv_text = downloads.of(exported["Export CSV"]).decode()
    review = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False)
    row = review[review["job"] == first.id].iloc[0]
    assert (row["rating"], row["picked"], row["notes"], row["axis:lighting"]) == (
        "4", "True", "the best light", "golden hour"), csv_text
    others = review[review["job"] != first.id]
    assert set(others["rating"]) == {""} and set(others["picked"]) == {"False"}, "unrated is blank, not None"
    as_json = json.loads(downloads.of(exported["Export JSON"]))
    mine = next(r for r in as_json if r["job"] == first.id)
    assert (mine["rating"], mine["picked"], mine["notes"]) == (4, True, "the best light")
    assert mine["axes"] == first.axes


def test_values_typed_with_pipes_or_new_lines_are_separate_values(open_page) -> None:
    at = open_page("variants.py")
    at.text_area(key="v_base").input("A paper boat on a pond").run()
    assert at.button(key="v_launch").label == "Launch 4 takes"
    pills = {p.label: p.options for p in at.get("pills") if "(" in p.label}
    assert pills == {"lighting (2)": ["golden hour", "overcast"], "angle (2)": ["aerial", "eye level"]}
    from components.variant_grid import axes_from_table

    assert axes_from_table([{"axis": "time", "values": "dawn | dusk"}]) == {"time": ["dawn", "dusk"]}
    assert axes_from_table([{"axis": "time", "values": "dawn\ndusk,noon"}]) == {"time": ["dawn", "dusk", "noon"]}
    assert axes_from_table([{"axis": "time", "values": None}, {"axis": None, "values": "x"}]) == {}


def test_one_take_is_singular_and_launch_is_there_before_the_grid_is_valid(open_page, studio_of) -> None:
    at = open_page("variants.py")
    launch = at.button(key="v_launch")
    assert launch.disabled and launch.help == "Write a base prompt first."
    assert any(c.value == "Write a base prompt first." for c in at.caption)
    at.text_area(key="v_base").input("A paper boat on a pond").run()
    assert not at.button(key="v_launch").disabled
    from components.prompt_form import count_of

    assert (count_of(1, "take"), count_of(2, "take")) == ("1 take", "2 takes")
    assert len(studio_of().store) == 0


@pytest.mark.slow
def test_a_shared_link_opens_the_same_grid_and_blind_mode_hides_labels(open_page, studio_of) -> None:
    at = launch_default_grid(open_page("variants.py"))
    at.button(key="v_launch").click().run()
    group = studio_of().store.all()[0].group_id
    assert studio_of().tracker.run_until_idle(timeout=90)  # finished tiles: each has a video to open large

    shared = open_page("variants.py", query={"group": group, "blind": "1"})
    no_exception(shared)
    assert shared.selectbox(key="v_group").value == group
    titles = [m.value for m in shared.markdown]
    assert {"**Take A**", "**Take B**", "**Take C**", "**Take D**"} <= set(titles)
    assert not any("lighting:" in t for t in titles), "blind mode hides the axis labels"
    assert not [b for b in shared.get("download_button")], "the review is exported once labels are revealed"
    large = "Open large in the player"
    assert not [link for link in shared.get("page_link") if link.proto.label == large], "Compare would unblind"
    shared.toggle(key="v_blind").set_value(False).run()
    assert any("lighting: golden hour" in m.value for m in shared.markdown)
    done = [job.id for job in studio_of().store.group(group) if job.has_video]
    links = [link for link in shared.get("page_link") if link.proto.label == large]
    assert done and len(links) == len(done), "each finished tile opens large in the review player"
    assert {link.proto.query_string for link in links} == {f"takes={job_id}" for job_id in done}
