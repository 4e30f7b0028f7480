"""History's action bar: several picked rows give one compact bar, not a stack of cards; Compare takes them along."""

from __future__ import annotations

import json

import pytest
from page_helpers import no_exception
from streamlit.testing.v1 import AppTest

from dailies.jobs import JobRequest


def selected(job_ids: list[str]) -> None:
    from components.history_actions import selected_actions

    selected_actions(job_ids)


def bar_buttons(at: AppTest) -> dict[str, object]:
    return {b.key: b for b in at.button if b.key and b.key.startswith("h_")}


@pytest.mark.slow
def test_several_picked_rows_give_one_compact_bar(finished_grid) -> None:
    grid = finished_grid("a paper boat on a pond", 3)
    ids = [job.id for job in grid]

    at = no_exception(AppTest.from_function(selected, args=(ids,), default_timeout=30).run())
    assert not at.get("video"), "no players stacked under the table"
    assert not [c for c in at.get("flex_container") if "card_h_" in str(c.proto)]
    assert not at.get("multiselect"), "no tag pickers, no follow-up forms"
    buttons = bar_buttons(at)
    assert buttons["h_compare"].label == "Compare 3" and not buttons["h_compare"].disabled
    assert buttons["h_recheck"].label == "Re-check 0" and buttons["h_recheck"].disabled
    assert any("3 selected" in m.value for m in at.markdown)

    at = no_exception(AppTest.from_function(selected, args=(ids[:1],), default_timeout=30).run())
    assert at.get("video"), "one picked row opens its card, to remix, extend or edit it"


@pytest.mark.slow
def test_more_takes_than_compare_plays_say_so(finished_grid) -> None:
    grid = finished_grid("a kite", 5, timeout=120)
    at = no_exception(AppTest.from_function(selected, args=([j.id for j in grid],), default_timeout=30).run())
    compare = bar_buttons(at)["h_compare"]
    assert compare.disabled and "2 to 4" in compare.help


@pytest.mark.slow
def test_compare_opens_the_compare_page_with_the_picks(open_page, finished_grid) -> None:
    grid = finished_grid("a kite", 2)
    siblings = {job.id for job in grid}
    at = open_page("history.py")
    rows = [n for n, job_id in enumerate(at.dataframe[0].value["id"]) if job_id in siblings]
    at.session_state["history_table_1"] = {"selection": {"rows": rows, "columns": [], "cells": []}}  # two rows picked
    no_exception(at.run())
    at.button(key="h_compare").click().run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Compare"]
    assert set(at.query_params["takes"].split(",")) == siblings
    (player,) = [e for e in at.get("bidi_component") if e.proto.component_name == "dailies_review_player"]
    assert len(json.loads(player.proto.json)["takes"]) == 2, "two sibling takes of a grid play side by side"


@pytest.mark.slow
def test_delete_says_plainly_when_the_provider_has_no_delete(tmp_path, monkeypatch) -> None:
    """A gateway without DELETE (LiteLLM answers 405): the confirmation says the takes go here only and
    does not offer to delete at the provider; deleting still removes them here."""
    from page_helpers import open_pages

    from dailies.engine import EngineConfig, Faults, serve_engine

    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", faults=Faults(refuse_delete=True))) as running:
        monkeypatch.setenv("DAILIES_ENGINE_URL", running.base_url)
        for open_page in open_pages():
            open_page("generate.py")
            from components.runtime import studio

            shared = studio()
            first, second = shared.launch([JobRequest(prompt=f"a kite {n}", model="dailies-preview",
                                                      size="1280x720", seconds=4) for n in (1, 2)]).jobs
            assert shared.tracker.run_until_idle(timeout=90)
            shared.delete(first.id, remote=True)  # the provider answers 405 and is known to have no delete
            assert shared.store.get(first.id) is None

            at = AppTest.from_function(selected, args=([second.id],), default_timeout=30).run()
            at.button(key="h_delete").click().run()
            no_exception(at)
            remote = at.checkbox(key="delete_remote")
            assert remote.disabled and not remote.value, "no offer to delete where there is no delete"
            assert any("has no delete" in c.value and "removed here only" in c.value for c in at.caption)
            at.button(key="delete_confirm").click().run()
            no_exception(at)
            assert shared.store.get(second.id) is None
