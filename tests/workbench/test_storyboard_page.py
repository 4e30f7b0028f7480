"""Storyboard: a board made and edited on the page, its cost before launch, takes picked, the continuity
figure on the board, an assembly, and the timeline offered for download."""

from __future__ import annotations

import opentimelineio as otio
import pytest
from page_helpers import board_of, new_board, no_exception, one_take_a_shot, record_downloads, shot_ids

from components.text import plain


def test_a_board_is_made_edited_priced_and_nothing_is_sent_before_launch(open_page, studio_of) -> None:
    at = new_board(open_page)
    board_id = at.selectbox(key="sb_board").value
    assert at.query_params["board"] in (board_id, [board_id])
    first = shot_ids(studio_of, board_id)[0]
    at.text_input(key=f"sb_style_{board_id}_grade").input("golden hour")
    at.text_input(key=f"sb_style_{board_id}_subject").input("a red kite")
    next(b for b in at.button if b.label == "Save style").click().run()
    at.text_area(key=f"sb_prompt_{first}").input("the kite lifts off").run()
    at.text_input(key=f"sb_camera_{first}").input("slow pan left").run()
    no_exception(at)
    assert any("Sent as: the kite lifts off, camera: slow pan left. subject: a red kite; colour grade: golden hour"
               in c.value for c in at.caption)

    at.button(key="sb_add").click().run()
    at.button(key=f"sb_dup_{first}").click().run()
    ids = shot_ids(studio_of, board_id)
    assert len(ids) == 3 and ids[0] == first
    at.button(key=f"sb_down_{first}").click().run()
    assert shot_ids(studio_of, board_id)[1] == first
    at.button(key=f"sb_del_{ids[1]}").click().run()  # the copy
    ids = shot_ids(studio_of, board_id)
    assert ids[0] == first and len(ids) == 2
    # The empty shot is named as the problem and the launch is off; nothing was sent.
    assert any("write what happens in the shot" in e.value for e in at.error)
    assert at.button(key="sb_launch").disabled
    assert len(studio_of().store) == 0

    at.text_area(key=f"sb_prompt_{ids[1]}").input("the kite over the dunes").run()
    at.selectbox(key=f"sb_cont_{ids[1]}").set_value("last_frame").run()
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Whole board"] == "$0.00"  # the engine is free; priced boards: tests/test_storyboard.py
    assert at.button(key="sb_launch").label == "Launch 1 shot × 2 takes"  # the chained shot waits
    assert len(studio_of().store) == 0

    at.selectbox(key=f"sb_size_{board_id}").set_value("720x1280").run()
    no_exception(at)
    assert board_of(studio_of, board_id).size == "720x1280"

    at.button(key="sb_version").click().run()
    no_exception(at)
    copy = at.selectbox(key="sb_board").value
    assert copy != board_id and "v2" in at.selectbox(key="sb_board").format_func(copy)

    at.button(key="sb_delete_board").click().run()
    no_exception(at)
    assert at.selectbox(key="sb_board").options == [at.selectbox(key="sb_board").format_func(board_id)]


@pytest.mark.slow
def test_takes_are_picked_cuts_measured_assembled_and_handed_off(open_page, studio_of, monkeypatch) -> None:
    downloads = record_downloads(monkeypatch)
    at, board_id, first = one_take_a_shot(open_page, studio_of, "Two shots")
    at.button(key="sb_add").click().run()
    second = shot_ids(studio_of, board_id)[1]
    at.text_area(key=f"sb_prompt_{second}").input("the kite lands").run()
    at.selectbox(key=f"sb_cont_{second}").set_value("last_frame").run()
    at.button(key="sb_launch").click().run()
    no_exception(at)
    assert len(studio_of().store) == 1
    assert studio_of().tracker.run_until_idle(timeout=90)
    at.run()
    take = studio_of().store.all()[0].id
    (large,) = [link for link in at.get("page_link") if link.proto.label == "Take 1 in the player"]
    assert large.proto.query_string == f"takes={take}", "the shot's take opens in the review player"
    at.segmented_control(key=f"sb_pick_{first}_1").set_value(take).run()  # the pick launches the chained shot
    assert studio_of().tracker.run_until_idle(timeout=90)
    at.run()
    chained = next(j.id for j in studio_of().store.all() if j.id != take)
    at.segmented_control(key=f"sb_pick_{second}_1").set_value(chained).run()
    no_exception(at)
    cut = next(c.value for c in at.caption if c.value.startswith("Cut Shot 1"))
    assert "(chained;" in cut and "ΔE" in cut

    at.button(key="sb_assemble").click().run()
    no_exception(at)
    assert len(at.get("video")) == 3  # two takes and the assembly
    assert any("packets were copied" in c.value for c in at.caption)
    otio_button = next(b for b in at.get("download_button") if b.label == "Timeline (.otio)")
    timeline = otio.adapters.read_from_string(downloads.of(otio_button).decode(), "otio_json")
    assert [c.name for c in timeline.find_clips()] == ["Shot 1", "Shot 2"]


def test_a_board_over_budget_shows_its_cost_and_cannot_launch(open_page, studio_of, over_budget) -> None:
    at = new_board(open_page, "Dear")
    board_id = at.selectbox(key="sb_board").value
    first = shot_ids(studio_of, board_id)[0]
    at.text_area(key=f"sb_prompt_{first}").input("the kite lifts off").run()
    at.button(key="sb_add").click().run()
    second = shot_ids(studio_of, board_id)[1]
    at.text_area(key=f"sb_prompt_{second}").input("the kite lands").run()
    at.segmented_control(key=f"sb_seconds_{second}").set_value(8).run()
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Whole board"] == "$24.00"  # (4 s + 8 s) × 2 takes × $1 a second
    assert any("budget" in e.value for e in at.error)
    assert at.button(key="sb_launch").disabled
    assert len(studio_of().store) == 0


def test_words_people_wrote_are_shown_as_text(open_page, studio_of) -> None:
    at = new_board(open_page, "[Board](https://evil.example)")
    board_id = at.selectbox(key="sb_board").value
    first = shot_ids(studio_of, board_id)[0]
    at.text_input(key=f"sb_name_{first}").input("![x](https://evil.example/p.png)").run()
    at.text_area(key=f"sb_prompt_{first}").input("a kite [here](https://evil.example)").run()
    at.button(key="sb_add").click().run()
    no_exception(at)
    shown = [c.value for c in at.caption] + [i.value for i in at.info]
    assert any(plain("a kite [here](https://evil.example)") in text for text in shown), shown
    assert any(f"Cut {plain('![x](https://evil.example/p.png)')} → Shot 2" in text for text in shown), shown
    assert not any("](https://evil" in text for text in shown)
