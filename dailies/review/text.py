"""People's text as the review keeps it: plain, bounded, without control characters.

A note is shown as text wherever it goes (pages, the API, an EDL line, a PNG), never as markdown or HTML;
this only makes sure what is kept is printable: control characters (other than line breaks and tabs in
a note) are removed, line ends become `\\n`, and the length is bounded so one paste cannot fill the store.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from dailies.errors import ValidationError

__all__ = ["MAX_NAME", "MAX_NOTE", "one_line", "plain_text"]

MAX_NOTE = 4000
"""Characters in a note or reply."""
MAX_NAME = 120
"""Characters in an author's name."""


def plain_text(value: Any, limit: int, *, what: str = "text", lines: bool = True) -> str:
    """`value` stripped of control characters (keeping line breaks and tabs when `lines`) and surrounding
    space; ValidationError when it is not a string or is longer than `limit` characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text.", field=what)
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(ch for ch in value if (lines and ch in "\n\t") or _printable(ch))
    kept = kept.strip()
    if len(kept) > limit:
        raise ValidationError(f"{what} is {len(kept)} characters; the limit is {limit}.", field=what)
    return kept


_JOINERS = {"\u200c", "\u200d"}
"""Format characters that are part of how text is written (emoji sequences, Persian), kept; the other format
characters (bidirectional overrides that make text read other than it is stored, zero-width spaces) go."""


def _printable(ch: str) -> bool:
    return unicodedata.category(ch)[0] != "C" or ch in _JOINERS


def one_line(value: str) -> str:
    """`value` on one line (for a marker name or an EDL comment, where a line break ends the field)."""
    return " ".join(value.split())
