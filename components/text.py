"""Text that people or providers wrote, made safe for Streamlit's markdown elements.

Prompts, axis labels, notes, tags, names and provider error messages are data, not markup: a prompt
holding `![x](https://evil.example/pixel)` must not load an image, nor `[here](https://…)`,
`https://evil.example`, `www.evil.example` or `someone@evil.example` make a link, nor `:material/home:`
draw an icon. Where a page shows such text in an element that renders markdown (markdown, captions,
alerts, toasts, labels, `help=`, expander and tab titles, badges), it goes through `plain()` first;
elements that show text as text (`st.text`, `st.code`, input values, dataframe cells) need nothing.
"""

from __future__ import annotations

import re

import pandas as pd

WORD_JOINER = "\u2060"
"""An invisible character that joins what is around it (no space, no line break)."""

# Backslash-escaping these turns off links and images ([…](…), ![…](…), <…>), emphasis, code, headings,
# tables, strikethrough, $math$ and Streamlit's :color[…] directives. Escapes are not enough for what
# Streamlit finds in the text after parsing (seen in Chromium, Streamlit 1.67): remark-gfm's bare-URL and
# e-mail autolinks (`https://…`, `www.…`, `a@b.c`, `mailto:…`) and the `:material/…:` and `:emoji:`
# shortcodes. A word joiner after each such colon and "@", and inside "www.", breaks those patterns and
# shows nothing. Other punctuation, and a colon before a space ("lighting: dusk"), is left alone so that
# messages read as written. Newlines become spaces: one line of text.
_MARKUP = re.compile(r"([\\`*_\[\]<>#|~$!@]|:(?=\S))")
_WWW = re.compile(r"(?i)\b(www)\.")
_LIST_MARKER = re.compile(r"^([-+=]|\d+(?=[.)]))")


def _escape(match: re.Match[str]) -> str:
    return "\\" + match[1] + (WORD_JOINER if match[1] in ":@" else "")


def plain(text: object) -> str:
    """`text` as literal characters in any markdown-rendering Streamlit element: no link, image, autolink,
    icon or formatting (it reads the same; invisible word joiners break autolinks and shortcodes)."""
    flat = _MARKUP.sub(_escape, " ".join(str(text).split()))
    flat = _WWW.sub(lambda m: m[1] + WORD_JOINER + "\\.", flat)
    return _LIST_MARKER.sub(lambda m: m[0] + "\\" if m[0][0].isdigit() else "\\" + m[0], flat)


def plain_table(rows: pd.DataFrame | list[dict[str, object]]) -> pd.DataFrame:
    """A table for `st.table` (which renders markdown in its cells and headers) with every text cell and
    column name through `plain()`; numbers and other values are left as they are, for formatting."""
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    frame.columns = [plain(c) if isinstance(c, str) else c for c in frame.columns]
    for column in range(frame.shape[1]):
        series = frame.iloc[:, column]
        if not pd.api.types.is_numeric_dtype(series):
            frame.isetitem(column, series.map(lambda v: plain(v) if isinstance(v, str) else v))
    return frame
