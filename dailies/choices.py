"""Bounded choices: a chooser offers the newest few and whatever a search finds, never everything.

A select box of every grid or every take sends all of them to the browser on every run of the page:
at 100,000 jobs that was 12,500 grids on Variants and seconds per open. People pick from the newest
ones or look an older one up, so that is what a chooser offers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

RECENT = 50
"""How many of the newest a chooser offers before a search."""


def bounded_choices(
    labels: Mapping[str, str], search: str = "", *, keep: Iterable[str | None] = (), limit: int = RECENT
) -> list[str]:
    """Keys of `labels` (newest first) to offer: the ones in `keep` (the current choice, one named in
    the address) first, then the first `limit` whose key or label holds every word of `search`
    (any case), or the first `limit` when there is no search."""
    words = search.lower().split()
    chosen = [key for key in dict.fromkeys(keep) if key is not None and key in labels]
    found: list[str] = []
    for key, label in labels.items():
        if len(found) >= limit:
            break
        text = f"{key} {label}".lower()
        if all(word in text for word in words):
            found.append(key)
    return list(dict.fromkeys([*chosen, *found]))


def hidden_count(total: int, offered: int) -> str:
    """A caption for what a chooser leaves out, or nothing when it offers everything."""
    if offered >= total:
        return ""
    return f"Showing {offered:,} of {total:,}: search to find the others."
