"""Issue 25, part 2, in the browser: what only a browser shows (clipping, what stays in reach)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

CLIPPED = """e => {
    // Cut off: its text overflows it, or an ancestor that hides overflow ends before it does.
    if ([e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1)) return true;
    const right = e.getBoundingClientRect().right;
    for (let a = e.parentElement; a; a = a.parentElement) {
        const style = getComputedStyle(a);
        if (style.overflowX !== 'visible' && right > a.getBoundingClientRect().right + 1) return true;
    }
    return false;
}"""

def test_generate_preset_pills_show_every_word_at_1440(app, page: Page, screenshots: Path) -> None:
    page.goto(app.url)
    expect(page.get_by_role("heading", name="Generate", level=1)).to_be_visible()
    expect(page.get_by_role("radio", name="underwater", exact=True)).to_be_visible()
    page.screenshot(path=str(screenshots / "first-week-generate-pills.png"), full_page=True)
    for word in ("handheld", "underwater", "golden hour", "slow pan left"):
        pill = page.get_by_role("radio", name=word, exact=True)
        text = pill.evaluate("b => b.innerText.trim()")
        assert text == word, f"the pill reads {text!r}"
        assert not pill.evaluate(CLIPPED), f"{word!r} is cut off"
    model = page.get_by_role("combobox", name="Model")
    expect(model).to_have_value("dailies-preview (local preview renderer)")
    assert not model.evaluate(CLIPPED), "the model's name is cut off"
    send = page.get_by_role("button", name="Generate", exact=True).bounding_box()
    assert send is not None and send["y"] + send["height"] <= 1000, "Generate is below the fold at 1440x1000"


def test_a_long_board_keeps_launch_and_assemble_in_reach(app, page: Page, screenshots: Path) -> None:
    from running_app import wait_for_run

    page.goto(f"{app.url}/storyboard")
    wait_for_run(page)
    page.get_by_role("button", name="New board").click()
    page.get_by_role("textbox", name="Title").fill("The kite on the beach")
    page.get_by_role("button", name="Create").click()
    wait_for_run(page)
    add = page.get_by_role("button", name="Add a shot")
    for count in range(2, 8):
        add.click()
        wait_for_run(page)
        expect(page.locator("[class*='st-key-sb_shot_']")).to_have_count(count)
    shots = page.locator(".st-key-sb_shots")
    tall = shots.evaluate("box => [box.scrollHeight, box.clientHeight]")
    assert tall[0] > 2 * tall[1], f"seven shots are taller than their box: {tall}"

    # Working at the last shot: the page scrolled until the box's end is at the window's foot, the box to its end.
    shots.evaluate("box => { box.scrollIntoView({block: 'end'}); box.scrollTop = box.scrollHeight; }")
    expect(page.get_by_role("textbox", name="Shot").last).to_have_value("Shot 7")
    page.screenshot(path=str(screenshots / "first-week-board-bar.png"))
    seen = add.bounding_box()
    assert seen is not None and seen["y"] + seen["height"] <= 1000
    for name in ("Launch", "Assemble"):
        button = page.locator(".st-key-sb_actions").get_by_role("button", name=name)
        box = button.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 1000, f"{name} is out of view: {box}"
        hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.closest('button')?.innerText || ''",
                            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert name in hit, f"{name} is covered by {hit!r}"
