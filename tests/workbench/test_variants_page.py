"""Variants: axes become combinations with a total cost, a launch becomes a grid to review and export."""

from __future__ import annotations

import io

import pandas as pd
from page_helpers import no_exception


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


def test_a_grid_over_budget_cannot_launch(open_page, studio_of, engine, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", engine.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    settings = studio_of().settings
    settings.active_provider = "remote"
    settings.rates = {**settings.rates, "dailies-preview": 1.0}
    settings.daily_budget_usd = 10.0
    studio_of().save_settings(settings)
    at = launch_default_grid(open_page("variants.py"))
    assert at.metric[-1].value == "$16.00"
    assert any("budget" in e.value.lower() for e in at.error)
    assert at.button(key="v_launch").disabled
    assert len(studio_of().store) == 0


def test_launch_opens_the_grid_and_the_review_is_kept_and_exported(open_page, studio_of) -> None:
    at = launch_default_grid(open_page("variants.py"))
    at.button(key="v_launch").click().run()
    no_exception(at)
    jobs = studio_of().store.all()
    assert len(jobs) == 4 and len({j.group_id for j in jobs}) == 1
    group = jobs[0].group_id
    assert at.query_params["group"] == [group] or at.query_params["group"] == group
    assert at.tabs[1].label == "Review a grid"
    assert studio_of().tracker.run_until_idle(timeout=90)
    at.run()
    first = studio_of().store.group(group)[0]
    at.feedback(key=f"stars_{first.id}").set_value(3).run()
    at.text_input(key=f"notes_{first.id}").input("the best light").run()
    at.toggle(key=f"pick_{first.id}").set_value(True).run()
    kept = studio_of().store.require(first.id)
    assert (kept.rating, kept.notes, kept.picked) == (4, "the best light", True)

    exported = {b.label: b for b in at.get("download_button")}
    assert {"Export CSV", "Export JSON"} <= set(exported)
    from components.variant_grid import review_frame

    review = review_frame(studio_of().store.group(group))
    row = review[review["job"] == first.id].iloc[0]
    assert (row["rating"], row["picked"], row["axis:lighting"]) == (4, True, "golden hour")
    assert pd.read_csv(io.StringIO(review.to_csv(index=False)))["rating"].notna().sum() == 1


def test_a_shared_link_opens_the_same_grid_and_blind_mode_hides_labels(open_page, studio_of) -> None:
    at = launch_default_grid(open_page("variants.py"))
    at.button(key="v_launch").click().run()
    group = studio_of().store.all()[0].group_id

    shared = open_page("variants.py", query={"group": group, "blind": "1"})
    no_exception(shared)
    assert shared.selectbox(key="v_group").value == group
    titles = [m.value for m in shared.markdown]
    assert {"**Take A**", "**Take B**", "**Take C**", "**Take D**"} <= set(titles)
    assert not any("lighting:" in t for t in titles), "blind mode hides the axis labels"
    assert not [b for b in shared.get("download_button")], "the review is exported once labels are revealed"
    shared.toggle(key="v_blind").set_value(False).run()
    assert any("lighting: golden hour" in m.value for m in shared.markdown)
