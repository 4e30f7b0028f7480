"""The library in a real browser: a prompt, a style and an asset of two images saved on the Library page, then
used on Generate, Variants, Batch and Storyboard, each launched take carrying the prompt with the style and the
asset's image as its reference (the engine takes one opening frame); and "Run again with changes" from a finished
take opened in History, which fills Generate with the take's exact parameters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from running_app import choose, running, start_streamlit, wait_for_run

from dailies.__main__ import running_engine_url
from dailies.config import Environment
from dailies.jobs import Job, JobRequest
from dailies.library import Library, with_asset
from dailies.store import JobStore
from dailies.studio import Studio
from tests.until import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROMPT = "A red kite over a beach"
STYLE = "35mm film grain, warm grade"
STYLED = f"{PROMPT}, {STYLE}"


@pytest.fixture(scope="module")
def library_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with running(tmp_path_factory.mktemp("library-home"), start_streamlit) as app:
        yield app.url, app.home


def widget(page: Page, key: str):
    return page.locator(f".st-key-{key}")


def choose_in(page: Page, key: str, option: str) -> None:
    """Choose the option, by its exact name, in the select box with this key."""
    choose(page, widget(page, key).get_by_role("combobox"), option, exact=True)


def open_expander(page: Page, label: str, key: str) -> None:
    """Open an expander until the widget with this key inside it shows: a run that redraws the page as the click
    lands (the deleted shot's, on a loaded machine) draws the expander anew, closed."""
    for _ in range(3):
        wait_for_run(page)
        if widget(page, key).is_visible():  # a second click would close it
            return
        page.get_by_text(label).click()
        try:
            expect(widget(page, key)).to_be_visible(timeout=10_000)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{label!r} never opened")


def save_item(page: Page, kind: str, name: str, text: str | None = None, images: list[Path] | None = None) -> None:
    widget(page, f"lib_new_{kind}_name").locator("input").fill(name)
    if text is not None:
        widget(page, f"lib_new_{kind}_text").locator("textarea").fill(text)
    if images:
        widget(page, f"lib_new_{kind}_files").locator("input[type='file']").set_input_files([str(i) for i in images])
        for image in images:
            expect(widget(page, f"lib_new_{kind}_files")).to_contain_text(image.name)
    page.get_by_role("button", name=f"Save {kind}").click()
    wait_for_run(page)


def new_takes(store: JobStore, known: set[str], count: int, what: str) -> list[Job]:
    """The `count` takes launched since `known`, once they are in the store (the app writes them)."""
    def fresh() -> list[Job]:
        store.refresh()
        return [job for job in store.all() if job.id not in known]

    wait_until(lambda: len(fresh()) == count, 30, what)
    taken = fresh()
    known.update(job.id for job in taken)
    return taken


def test_saved_items_are_used_on_generate_variants_batch_and_storyboard(library_app, page: Page, screenshots,
                                                                      tmp_path: Path) -> None:
    url, home = library_app
    images = [tmp_path / "beach-front.png", tmp_path / "beach-side.png"]
    for image, colour in zip(images, [(200, 120, 40), (40, 120, 200)], strict=True):
        Image.new("RGB", (72, 128), colour).save(image)

    page.goto(f"{url}/library")
    expect(page.get_by_role("heading", name="Library", level=1)).to_be_visible()
    save_item(page, "prompt", "Kite", PROMPT)
    save_item(page, "prompt", "See [here](https://evil.example) :material/home:", "![x](https://evil.example/p.png)")
    main = page.locator("[data-testid='stMain']")
    expect(main.get_by_text("See [here](https", exact=False).first).to_be_visible()
    assert main.locator("a[href*='evil.example'], img[src*='evil.example']").count() == 0, "a name is text"
    page.get_by_role("tab", name="Styles").click()
    save_item(page, "style", "Warm film", STYLE)
    page.get_by_role("tab", name="Assets").click()
    save_item(page, "asset", "Beach", images=images)
    expect(widget(page, "lib_tab").locator("img")).to_have_count(2)  # the asset's thumbnails
    page.screenshot(path=str(screenshots / "library-page.png"))
    library = Library(JobStore(home / "jobs.json", follow=False), home)
    (asset,) = library.items("asset")
    assert len(asset.images) == 2
    store = JobStore(home / "jobs.json")
    known: set[str] = set()

    def carries_the_library(job: Job, prompt: str) -> None:
        assert job.prompt == prompt, job.prompt
        assert job.params["reference_path"] == asset.images[0], "the asset's first image is the opening frame"
        assert (job.params["library_asset_id"], job.params["library_asset_name"]) == (asset.id, "Beach")

    page.goto(url)  # Generate
    expect(page.get_by_role("heading", name="Generate", level=1)).to_be_visible()
    choose_in(page, "gen_lib_prompt", "Kite")
    choose_in(page, "gen_lib_style", "Warm film")
    expect(widget(page, "prompt").locator("textarea")).to_have_value(STYLED)
    choose_in(page, "gen_lib_asset", "Beach")
    expect(widget(page, "library_gen_asset_images").locator("img")).to_have_count(2)
    expect(page.get_by_text("is sent its first image as the opening frame (1 more would go to a model that takes "
                            "subject references).", exact=False)).to_be_visible()
    page.get_by_role("button", name="Generate", exact=True).click()
    wait_for_run(page)
    (job,) = new_takes(store, known, 1, "Generate's take in the store")
    carries_the_library(job, STYLED)

    page.goto(f"{url}/variants")
    choose_in(page, "v_lib_prompt", "Kite")
    choose_in(page, "v_lib_style", "Warm film")
    expect(widget(page, "v_base").locator("textarea")).to_have_value(STYLED)
    choose_in(page, "v_lib_asset", "Beach")
    page.get_by_role("button", name="Launch 4 takes").click()
    grid = new_takes(store, known, 4, "the grid's takes in the store")
    for job in grid:
        carries_the_library(job, job.prompt)
        assert job.prompt.startswith(f"{STYLED}, "), "the base prompt with its style, then the axes' values"

    page.goto(f"{url}/batch")
    rows = tmp_path / "rows.csv"
    rows.write_text("prompt,seconds\nA kite on a string,4\n")
    widget(page, "batch_file").locator("input[type='file']").set_input_files(str(rows))
    wait_for_run(page)
    choose_in(page, "batch_lib_style", "Warm film")
    choose_in(page, "batch_lib_asset", "Beach")
    page.get_by_role("button", name="Launch 1 take").click()
    (job,) = new_takes(store, known, 1, "the batch's take in the store")
    carries_the_library(job, f"A kite on a string, {STYLE}")

    page.goto(f"{url}/storyboard")
    page.get_by_role("button", name="New board").click()
    page.get_by_label("Title").fill("Kite board")
    page.get_by_label("Takes per shot").fill("1")
    page.get_by_role("button", name="Create").click()
    wait_for_run(page)
    page.keyboard.press("Escape")
    page.locator("[class*='st-key-sb_del_'] button").first.click()  # the new board's empty first shot
    expect(page.locator("[class*='st-key-sb_shot_']")).to_have_count(0)
    open_expander(page, "Add a shot from the library", "sb_lib_prompt")
    choose_in(page, "sb_lib_prompt", "Kite")
    choose_in(page, "sb_lib_style", "Warm film")
    choose_in(page, "sb_lib_asset", "Beach")
    page.get_by_role("button", name="Add this shot").click()
    wait_for_run(page)
    expect(page.locator("[class*='st-key-sb_prompt_'] textarea")).to_have_value(STYLED)
    expect(page.locator("[class*='st-key-sb_shot_asset_']")).to_contain_text("Reference asset Beach")
    page.screenshot(path=str(screenshots / "library-storyboard.png"))
    page.get_by_role("button", name="Launch 1 shot").click()
    (job,) = new_takes(store, known, 1, "the shot's take in the store")
    carries_the_library(job, STYLED)
    store.close()


def test_run_again_with_changes_from_a_finished_take_in_history(library_app, page: Page, screenshots,
                                                                 tmp_path: Path) -> None:
    """A take with a seed, an asset's image as its reference, and a model, size and length Generate's form would
    not choose by itself: made beside the app (a second process on its data folder, as the CLI does)."""
    url, home = library_app
    image = tmp_path / "pier.png"
    Image.new("RGB", (72, 128), (10, 90, 200)).save(image)
    engine_url, engine_key = running_engine_url(home / "engine")
    beside = Studio(Environment(home=home), engine_base_url=engine_url, engine_api_key=engine_key)
    try:
        asset = Library(beside.store, beside.home).add_asset("Pier", [("pier.png", image.read_bytes())])
        request = JobRequest(prompt="A pier at dusk", model="sora-2-pro", size="1280x720", seconds=8, seed=4242)
        first = beside.submit(with_asset(request, asset, beside.capabilities()))
        assert beside.tracker.run_until_idle(timeout=120)
    finally:
        beside.close()
    assert (first.params["reference_path"], first.params["library_asset_name"]) == (asset.images[0], "Pier")

    page.goto(f"{url}/history")
    grid = page.locator("[data-testid='stDataFrame']").first
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 28)  # the newest row's marker (History's rows are 56 px)
    card = page.locator(f"[class*='st-key-card_h_{first.id}']")
    expect(card).to_contain_text("A pier at dusk")
    card.get_by_role("button", name="Run again with changes").click()

    expect(page.get_by_role("heading", name="Generate", level=1)).to_be_visible()
    wait_for_run(page)
    expect(widget(page, "prompt").locator("textarea")).to_have_value("A pier at dusk")
    expect(widget(page, "model").get_by_role("combobox")).to_have_value("sora-2-pro (local preview renderer)")
    expect(widget(page, "size").get_by_role("radio", name="1280x720")).to_have_attribute("aria-checked", "true")
    expect(widget(page, "seconds").get_by_role("radio", name="8")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_text(f"Run again from {first.id}: provider engine, seed 4242, opening frame "
                            f"{Path(asset.images[0]).name} (the library asset Pier)")).to_be_visible()
    page.screenshot(path=str(screenshots / "library-run-again.png"))

    widget(page, "prompt").locator("textarea").fill("A pier at dawn")  # the change
    page.get_by_role("button", name="Generate", exact=True).click()
    store = JobStore(home / "jobs.json")
    try:
        def again() -> Job | None:
            store.refresh()
            return next((job for job in store.all() if job.prompt == "A pier at dawn"), None)

        made = wait_until(again, 30, "the new take in the store")
        assert (made.model, made.size, made.seconds, made.provider) == (
            first.model, first.size, first.seconds, first.provider)
        assert made.params == first.params, "the same seed, reference and asset"
    finally:
        store.close()
