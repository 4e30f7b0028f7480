"""What a first week with the new pages turned up (issue 25, part 2), as each page shows it to a person."""

from __future__ import annotations

from page_helpers import no_exception

PREVIEW = "(local preview renderer)"


def test_choosing_an_engine_model_says_it_is_the_local_preview_renderer(open_page, studio_of) -> None:
    at = no_exception(open_page("generate.py"))
    model = at.selectbox(key="model")
    assert any(o.startswith("sora-2") for o in model.options)
    assert all(o.endswith(PREVIEW) for o in model.options), model.options
    assert model.value in ("dailies-preview", "dailies-preview-pro", "sora-2", "sora-2-pro"), \
        "the name sent stays the API's"

    at = no_exception(open_page("variants.py"))
    assert all(o.endswith(PREVIEW) for o in at.selectbox(key="v_model").options)
    at.toggle(key="v_shootout_on").set_value(True).run()
    targets = no_exception(at).multiselect(key="v_targets").options
    assert "engine/sora-2 (local preview renderer)" in targets, targets


def test_a_contact_sheet_ends_a_long_prompt_with_an_ellipsis_within_the_tile() -> None:
    from PIL import Image, ImageDraw

    from dailies.handoff import PROMPT_LINES, _font, prompt_lines

    draw, small = ImageDraw.Draw(Image.new("RGB", (10, 10))), _font(13)
    prompt = " ".join(["a lighthouse keeper climbs the spiral stairs at dusk, lamp in hand"] * 6)
    lines = prompt_lines(prompt, small, 360, draw)
    assert len(lines) == PROMPT_LINES and lines[-1].endswith("…"), lines
    assert all(draw.textlength(line, font=small) <= 360 for line in lines)
    assert prompt_lines("a kite over dunes", small, 360, draw) == ["a kite over dunes"], "a short prompt is whole"
    word = prompt_lines("x" * 400, small, 360, draw)
    assert word[0].endswith("…") and draw.textlength(word[0], font=small) <= 360


BATCH = (b"prompt,seconds,size\n"
         b"a paper boat drifting across a still pond at dawn while ducks watch,4,720x1280\n"
         b"a kite over dunes,five,720x1280\n"
         b"a tram in the rain,4,720x1280\n")


def test_a_batch_grid_is_named_from_its_file_and_prompts_and_a_refusal_reads_in_full(open_page, studio_of) -> None:
    at = no_exception(open_page("batch.py"))
    at.get("file_uploader")[0].upload("spring-shots.csv", BATCH, "text/csv").run()
    preview = no_exception(at).dataframe[0].value.set_index("line")
    assert "None" not in preview["seconds"].astype(str).tolist() and preview.loc[3, "seconds"] == "—"
    reason = preview.loc[3, "refused because"]
    assert any(c.value == f"Line 3 refused: {reason}" for c in at.caption), "the whole reason, not a cut cell"

    at.button(key="batch_launch").click().run()
    jobs = sorted(studio_of().store.all(), key=lambda j: j.prompt)
    labels = [" · ".join(f"{a}: {v}" for a, v in j.axes.items()) for j in jobs]
    assert labels[0].startswith("batch: spring-shots.csv · row: 2 · a paper boat drifting") and \
        labels[0].endswith("…"), labels
    assert labels[1] == "batch: spring-shots.csv · row: 4 · a tram in the rain"

    at = no_exception(open_page("variants.py", {"group": jobs[0].group_id}))
    chooser = at.selectbox(key="v_group")
    title = chooser.options[chooser.index]
    assert title.startswith("spring-shots.csv: a paper boat drifting") and "· 2 takes · grp_" in title, title
