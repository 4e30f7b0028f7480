"""The library on the pages: items made on the Library page, picked on Generate, a take run again with changes."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import httpx
import pytest
from page_helpers import no_exception
from PIL import Image

from dailies.jobs import JobRequest
from dailies.library import Library


def png_bytes(colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (72, 128), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def remote_count(engine) -> int:
    return len(httpx.get(f"{engine.base_url}/videos", params={"limit": 100}).json()["data"])


def test_the_library_page_makes_renames_tags_and_deletes_items(open_page, studio_of) -> None:
    at = no_exception(open_page("library.py"))
    at.text_input(key="lib_new_style_name").input("Warm film")
    at.text_input(key="lib_new_style_tags").input("look, client-a")
    at.text_area(key="lib_new_style_text").input("35mm film grain, warm grade")
    next(b for b in at.button if b.label == "Save style").click().run()
    no_exception(at)
    (style,) = Library(studio_of().store, studio_of().home).items("style")
    assert (style.name, style.tags, style.text) == ("Warm film", ("look", "client-a"), "35mm film grain, warm grade")
    at.text_input(key="lib_new_prompt_name").input("")
    at.text_area(key="lib_new_prompt_text").input("A kite")
    next(b for b in at.button if b.label == "Save prompt").click().run()
    assert any("Give the prompt a name" in e.value for e in at.error), "a nameless prompt is refused, saying why"

    at.text_input(key=f"lib_name_{style.id}").input("Warm 35mm")
    at.text_input(key=f"lib_tags_{style.id}").input("look")
    next(b for b in at.button if b.label == "Save changes").click().run()
    kept = Library(studio_of().store, studio_of().home).require("style", style.id)
    assert (kept.name, kept.tags) == ("Warm 35mm", ("look",))
    at.button(key=f"lib_delete_{style.id}").click().run()
    assert Library(studio_of().store, studio_of().home).items("style") == []


def test_generate_sends_the_picked_prompt_with_its_style_and_the_asset_as_reference(open_page, studio_of) -> None:
    library = Library(studio_of().store, studio_of().home)
    prompt = library.add_prompt("Kite", "A red kite over a beach")
    style = library.add_style("Grain", "35mm film grain")
    asset = library.add_asset("Beach", [("beach.png", png_bytes())])
    at = open_page("generate.py")
    at.selectbox(key="gen_lib_prompt").set_value(prompt.id).run()
    at.selectbox(key="gen_lib_style").set_value(style.id).run()
    assert at.text_area(key="prompt").value == "A red kite over a beach, 35mm film grain"
    at.selectbox(key="gen_lib_asset").set_value(asset.id).run()
    at.button(key="send").click().run()
    no_exception(at)
    (job,) = studio_of().store.all()
    assert job.prompt == "A red kite over a beach, 35mm film grain"
    assert job.params["reference_path"] == asset.images[0]


def test_a_model_that_takes_no_reference_refuses_an_asset_before_anything_is_sent(
        open_page, studio_of, engine, monkeypatch) -> None:
    from dailies.providers.openai_compat import OpenAICompatibleProvider

    real = OpenAICompatibleProvider.capabilities
    # No provider we have today offers a text-only model: the engine's sora-2 is made one here.
    monkeypatch.setattr(OpenAICompatibleProvider, "capabilities", lambda self: dataclasses.replace(
        real(self), image_models=tuple(m for m in real(self).models if m != "sora-2")))
    asset = Library(studio_of().store, studio_of().home).add_asset("Beach", [("beach.png", png_bytes())])
    at = open_page("generate.py")
    at.text_area(key="prompt").input("A red kite over a beach").run()
    at.selectbox(key="gen_lib_asset").set_value(asset.id).run()
    at.selectbox(key="model").select("sora-2").run()
    assert [e.value for e in at.main.error] == [
        "sora-2 takes no reference image: choose a model that takes one, or take the reference off."]
    assert at.button(key="send").disabled
    assert len(studio_of().store) == 0 and remote_count(engine) == 0, "nothing sent"
    at.selectbox(key="model").select("sora-2-pro").run()
    assert not at.main.error and not at.button(key="send").disabled


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_run_again_with_changes_loads_the_takes_exact_parameters(open_page, studio_of) -> None:
    shared = studio_of()
    shared.settings.default_seconds = 8  # the form's own choice differs from the take's 4 seconds
    shared.save_settings(shared.settings)
    reference = shared.home / "kite.png"
    reference.write_bytes(png_bytes((10, 90, 200)))
    first = shared.submit(JobRequest(prompt="A kite at dusk", model="dailies-preview-pro", size="1280x720",
                                     seconds=4, seed=4242, reference_path=str(reference)))
    assert shared.tracker.run_until_idle(timeout=60)
    at = open_page("generate.py")
    at.session_state["my_jobs"] = [first.id]
    at.run()
    at.button(key=f"rerun_{first.id}").click().run()
    no_exception(at)
    assert at.text_area(key="prompt").value == "A kite at dusk"
    assert at.selectbox(key="model").value == "dailies-preview-pro"
    assert at.segmented_control(key="size").value == "1280x720"
    assert at.segmented_control(key="seconds").value == 4
    assert any("seed 4242" in c.value and first.provider in c.value for c in at.caption)
    at.text_area(key="prompt").input("A kite at dawn").run()  # the change
    at.button(key="send").click().run()
    no_exception(at)
    (again,) = [job for job in shared.store.all() if job.id != first.id]
    assert (again.prompt, again.model, again.size, again.seconds, again.provider) == (
        "A kite at dawn", "dailies-preview-pro", "1280x720", 4, first.provider)
    assert again.params["seed"] == 4242 and again.params["reference_path"] == str(reference)


def test_a_prompt_written_on_a_page_is_saved_to_the_library_from_there(open_page, studio_of) -> None:
    at = open_page("variants.py")
    at.text_area(key="v_base").input("A paper boat on a pond").run()
    at.text_input(key="v_lib_save_name").input("Boat")
    at.text_input(key="v_lib_save_tags").input("pond, kids")
    at.button(key="v_lib_save").click().run()
    no_exception(at)
    (kept,) = Library(studio_of().store, studio_of().home).items("prompt")
    assert (kept.name, kept.tags, kept.text) == ("Boat", ("pond", "kids"), "A paper boat on a pond")
    assert at.selectbox(key="v_lib_prompt").options == ["Boat · pond, kids"], "offered at once"
    assert [t.value for t in at.toast] == ["Saved to the library: Boat"]
    at.text_input(key="v_lib_save_name").input("")
    at.button(key="v_lib_save").click().run()
    assert any("Give the prompt a name" in e.value for e in at.error)


def subject_references(monkeypatch, most: int = 2) -> None:
    """The engine's provider declaring that sora-2-pro takes `most` subject references (as Veo 3.1 does): no
    adapter sends them to the engine's /v1/videos, so this is the studio's and the page's part, in process."""
    from dailies.providers.openai_compat import OpenAICompatibleProvider

    real = OpenAICompatibleProvider.capabilities
    monkeypatch.setattr(OpenAICompatibleProvider, "capabilities", lambda self: dataclasses.replace(
        real(self), reference_images_by_model={"sora-2-pro": most}))


def three_images(studio_of):
    return Library(studio_of().store, studio_of().home).add_asset(
        "Mara", [("front.png", png_bytes()), ("side.png", png_bytes((1, 2, 3))), ("back.png", png_bytes((9, 9, 9)))])


def test_generate_sends_an_asset_as_subject_references_where_the_model_takes_them(
        open_page, studio_of, monkeypatch) -> None:
    subject_references(monkeypatch)
    asset = three_images(studio_of)
    at = open_page("generate.py")
    at.text_area(key="prompt").input("Mara walks on the pier").run()
    at.selectbox(key="gen_lib_asset").set_value(asset.id).run()
    at.selectbox(key="model").select("sora-2").run()
    assert "sora-2 is sent its first image as the opening frame (2 more would go to a model that takes subject " \
           "references)." in [c.value for c in at.caption]
    at.selectbox(key="model").select("sora-2-pro").run()
    assert "sora-2-pro is sent 2 of its 3 images as subject references." in [c.value for c in at.caption]
    at.button(key="send").click().run()
    no_exception(at)
    (job,) = studio_of().store.all()
    assert job.params["reference_images"] == list(asset.images[:2]) and "reference_path" not in job.params
    assert (job.params["library_asset_id"], job.params["library_asset_name"]) == (asset.id, "Mara")
    assert job.params["reference_image_names"] == ["1-front.png", "2-side.png"]


def test_variants_and_batch_send_the_picked_asset_with_every_take(open_page, studio_of) -> None:
    asset = Library(studio_of().store, studio_of().home).add_asset("Beach", [("beach.png", png_bytes())])
    at = open_page("variants.py")
    at.text_area(key="v_base").input("A paper boat").run()
    at.selectbox(key="v_lib_asset").set_value(asset.id).run()
    assert any(c.value.endswith("is sent its first image as the opening frame.") for c in at.caption)
    at.button(key="v_launch").click().run()
    no_exception(at)
    grid = studio_of().store.all()
    assert len(grid) == 4 and {(j.params["reference_path"], j.params["library_asset_name"]) for j in grid} == {
        (asset.images[0], "Beach")}

    at = open_page("batch.py")
    at.get("file_uploader")[0].upload("rows.csv", b"prompt\nA kite\nA tram\n", "text/csv").run()
    at.selectbox(key="batch_lib_asset").set_value(asset.id).run()
    assert list(at.dataframe[0].value["sent with"]) == [f"opening frame {Path(asset.images[0]).name} (the library "
                                                         "asset Beach)"] * 2
    at.button(key="batch_launch").click().run()
    no_exception(at)
    batch = [j for j in studio_of().store.all() if j.prompt in ("A kite", "A tram")]
    assert len(batch) == 2 and {j.params["reference_path"] for j in batch} == {asset.images[0]}


def test_a_batch_row_whose_model_cannot_take_the_asset_is_refused_saying_why(open_page, studio_of, monkeypatch) -> None:
    from dailies.providers.openai_compat import OpenAICompatibleProvider

    real = OpenAICompatibleProvider.capabilities
    monkeypatch.setattr(OpenAICompatibleProvider, "capabilities", lambda self: dataclasses.replace(
        real(self), image_models=tuple(m for m in real(self).models if m != "sora-2")))
    asset = Library(studio_of().store, studio_of().home).add_asset("Beach", [("beach.png", png_bytes())])
    at = open_page("batch.py")
    at.get("file_uploader")[0].upload("rows.csv", b"prompt,model\nA kite,sora-2\nA tram,sora-2-pro\n",
                                      "text/csv").run()
    at.selectbox(key="batch_lib_asset").set_value(asset.id).run()
    reasons = dict(zip(at.dataframe[0].value["line"], at.dataframe[0].value["refused because"], strict=True))
    assert reasons == {2: "sora-2 takes no reference image: choose a model that takes one, or take the reference off.",
                       3: ""}
    at.button(key="batch_launch").click().run()
    assert [j.prompt for j in studio_of().store.all()] == ["A tram"], "the refused row is not sent"


def test_a_storyboard_shot_from_the_library_carries_its_asset_to_the_boards_model(
        open_page, studio_of, monkeypatch) -> None:
    from dailies.storyboard import Storyboards

    subject_references(monkeypatch)
    library = Library(studio_of().store, studio_of().home)
    prompt = library.add_prompt("Pier", "Mara walks on the pier")
    asset = three_images(studio_of)
    boards = Storyboards(studio_of())
    board = boards.create("Pier", takes_per_shot=1)
    boards.update(board.id, model="sora-2-pro")
    at = open_page("storyboard.py")
    at.selectbox(key="sb_lib_prompt").set_value(prompt.id).run()
    at.selectbox(key="sb_lib_asset").set_value(asset.id).run()
    at.button(key="sb_add_library").click().run()
    no_exception(at)
    (shot,) = boards.get(board.id).shots
    assert shot.asset == {"id": asset.id, "name": "Mara", "images": list(asset.images)}
    assert any(c.value == "Reference asset Mara: sora-2-pro is sent 2 of its 3 images as subject references."
               for c in at.caption)
    at.button(key="sb_launch").click().run()
    no_exception(at)
    (job,) = studio_of().store.all()
    assert job.prompt == "Mara walks on the pier"
    assert (job.params["reference_images"], job.params["library_asset_name"]) == (list(asset.images[:2]), "Mara")
