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
