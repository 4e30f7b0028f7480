"""Bounded choices: the newest few, what a search finds, and the current choice always among them."""

from dailies.choices import bounded_choices, hidden_count


def labels(count: int) -> dict[str, str]:
    return {f"grp_{n}": f"{'neon alley' if n % 10 == 0 else 'paper boat'} · 4 takes · grp_{n}" for n in range(count)}


def test_the_newest_are_offered_up_to_the_limit() -> None:
    assert bounded_choices(labels(500), limit=50) == [f"grp_{n}" for n in range(50)]


def test_a_search_reaches_old_ones_by_every_word_in_any_case() -> None:
    found = bounded_choices(labels(500), "NEON alley", limit=50)
    assert found == [f"grp_{n}" for n in range(0, 500, 10)]
    assert bounded_choices(labels(500), "grp_437") == ["grp_437"]
    assert bounded_choices(labels(500), "neon boat") == []


def test_the_current_choice_stays_offered_whatever_the_search() -> None:
    found = bounded_choices(labels(500), "neon", keep=["grp_433", None, "gone"], limit=3)
    assert found == ["grp_433", "grp_0", "grp_10", "grp_20"]


def test_the_caption_says_what_is_left_out() -> None:
    assert hidden_count(12_500, 50) == "Showing 50 of 12,500: search to find the others."
    assert hidden_count(3, 3) == ""
