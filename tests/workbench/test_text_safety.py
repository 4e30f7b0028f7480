"""Text people or providers wrote (prompts, axis labels, notes, error messages) is shown as text, not markdown."""

from __future__ import annotations

from page_helpers import no_exception

from components.text import plain
from dailies.jobs import JobRequest

LINK = "[click me](http://evil.example/phish)"
IMAGE = "![pixel](http://evil.example/pixel.png)"


def rendered_markdown(at) -> list[str]:
    """The markdown source of every element that renders markdown (markdown, caption, alerts)."""
    return [e.value for e in (*at.markdown, *at.caption, *at.error, *at.warning, *at.info, *at.success)]


def test_markdown_in_an_axis_label_and_a_prompt_shows_as_text(open_page, studio_of) -> None:
    shared = studio_of()
    request = JobRequest(prompt=f"a boat {IMAGE}", model="dailies-preview", size="720x1280", seconds=4,
                         group_id="grid_md", axes={LINK: f"**bold** {IMAGE}"})
    shared.submit(request)
    at = no_exception(open_page("variants.py", {"group": "grid_md", "blind": "0"}))
    shown = rendered_markdown(at)
    label = f"{LINK}: **bold** {IMAGE}"
    assert f"**{plain(label)}**" in shown, "the axis label is there, escaped"
    assert plain(f"a boat {IMAGE}") in shown, "the prompt is there, escaped"
    assert not [s for s in shown if "](http" in s.replace("\\](", "")], "no markdown link or image survives"


def test_markdown_in_a_moderation_refusal_shows_as_text(open_page, studio_of) -> None:
    shared = studio_of()
    settings = shared.settings
    settings.moderation_patterns = ["boat|[x](http://evil.example)"]  # a valid regex that reads as a link
    shared.save_settings(settings)
    at = open_page("generate.py")
    at.text_area(key="prompt").input("a paper boat").run()
    no_exception(at)
    errors = [e.value for e in at.error]
    assert any(plain("/boat|[x](http://evil.example)/") in e for e in errors), errors
    assert not [e for e in errors if "](http" in e.replace("\\](", "")]


def test_autolinks_and_shortcodes_are_broken_by_an_invisible_joiner_and_read_as_written() -> None:
    from components.text import WORD_JOINER, plain_table

    for text in ("https://evil.example/x", "HTTP://evil.example", "www.evil.example", "WWW.evil.example",
                 "someone@evil.example", "mailto:a@evil.example", ":material/home:", ":smile:"):
        shown = plain(text)
        assert WORD_JOINER in shown, text
        assert shown.replace(WORD_JOINER, "").replace("\\", "") == text, "reads as written"
    assert plain("lighting: dusk") == "lighting: dusk", "a colon before a space is left alone"
    table = plain_table([{"take": "www.evil.example", "mean": 4.5}])
    assert table.loc[0, "take"] == plain("www.evil.example") and table.loc[0, "mean"] == 4.5
