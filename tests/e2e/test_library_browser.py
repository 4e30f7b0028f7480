"""The library in a real browser: a prompt, a style and an asset saved on the Library page, then used on
Generate (the sent take's prompt carries the style, its reference is the asset's image), Variants, Batch and
Storyboard (the picker fills the prompt and the style)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from running_app import start_streamlit, stop_app, wait_for_run

from dailies.library import Library
from dailies.store import JobStore
from tests.until import wait_until

pytestmark = pytest.mark.e2e

PROMPT = "A red kite over a beach"
STYLE = "35mm film grain, warm grade"
STYLED = f"{PROMPT}, {STYLE}"


@pytest.fixture(scope="module")
def library_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("library-home")
    process, url = start_streamlit(home, home.parent / f"{home.name}.log")
    try:
        yield url, home
    finally:
        stop_app(process)


def widget(page: Page, key: str):
    return page.locator(f".st-key-{key}")


def choose(page: Page, key: str, option: str) -> None:
    """Open the select box with this key and click an option; a rerun that closes the list as it opens (the
    sidebar's once-a-minute look) is met by opening it again."""
    for _ in range(3):
        wait_for_run(page)
        widget(page, key).get_by_role("combobox").click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
            wait_for_run(page)
            return
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    raise AssertionError(f"the option {option!r} never showed in its list")


def save_item(page: Page, kind: str, name: str, text: str | None = None, image: Path | None = None) -> None:
    widget(page, f"lib_new_{kind}_name").locator("input").fill(name)
    if text is not None:
        widget(page, f"lib_new_{kind}_text").locator("textarea").fill(text)
    if image is not None:
        widget(page, f"lib_new_{kind}_files").locator("input[type='file']").set_input_files(str(image))
        expect(widget(page, f"lib_new_{kind}_files")).to_contain_text(image.name)
    page.get_by_role("button", name=f"Save {kind}").click()
    wait_for_run(page)


def test_saved_items_are_used_on_generate_variants_batch_and_storyboard(library_app, page: Page, screenshots,
                                                                      tmp_path: Path) -> None:
    url, home = library_app
    image = tmp_path / "beach.png"
    Image.new("RGB", (72, 128), (200, 120, 40)).save(image)

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
    save_item(page, "asset", "Beach", image=image)
    expect(widget(page, "lib_tab").locator("img")).to_have_count(1)  # the asset's thumbnail
    page.screenshot(path=str(screenshots / "library-page.png"))
    library = Library(JobStore(home / "jobs.json", follow=False), home)
    (asset,) = library.items("asset")

    page.goto(url)  # Generate
    expect(page.get_by_role("heading", name="Generate", level=1)).to_be_visible()
    choose(page, "gen_lib_prompt", "Kite")
    choose(page, "gen_lib_style", "Warm film")
    expect(widget(page, "prompt").locator("textarea")).to_have_value(STYLED)
    choose(page, "gen_lib_asset", "Beach")
    page.get_by_role("button", name="Generate", exact=True).click()
    wait_for_run(page)
    store = JobStore(home / "jobs.json")
    wait_until(lambda: (store.refresh(), len(store))[1] == 1, 30, "the take in the store")
    (job,) = store.all()
    assert job.prompt == STYLED
    assert job.params["reference_path"] == asset.images[0], "the asset's image is the take's reference"

    page.goto(f"{url}/variants")
    choose(page, "v_lib_prompt", "Kite")
    choose(page, "v_lib_style", "Warm film")
    expect(widget(page, "v_base").locator("textarea")).to_have_value(STYLED)

    page.goto(f"{url}/batch")
    rows = tmp_path / "rows.csv"
    rows.write_text("prompt,seconds\nA kite on a string,4\n")
    widget(page, "batch_file").locator("input[type='file']").set_input_files(str(rows))
    wait_for_run(page)
    choose(page, "batch_lib_style", "Warm film")
    page.get_by_role("button", name="Launch 1 take").click()
    wait_until(lambda: (store.refresh(), len(store))[1] == 2, 30, "the batch's take in the store")
    assert {j.prompt for j in store.all()} == {STYLED, f"A kite on a string, {STYLE}"}, "the style on every row"

    page.goto(f"{url}/storyboard")
    page.get_by_role("button", name="New board").click()
    page.get_by_label("Title").fill("Kite board")
    page.get_by_role("button", name="Create").click()
    wait_for_run(page)
    page.keyboard.press("Escape")
    page.get_by_text("Add a shot from the library").click()
    choose(page, "sb_lib_prompt", "Kite")
    choose(page, "sb_lib_style", "Warm film")
    page.get_by_role("button", name="Add this shot").click()
    wait_for_run(page)
    expect(page.locator("[class*='st-key-sb_prompt_'] textarea").last).to_have_value(STYLED)
    page.screenshot(path=str(screenshots / "library-storyboard.png"))
