"""Text that people or providers wrote, made safe for Streamlit's markdown elements.

Prompts, axis labels, notes, tags and provider error messages are data, not markup: a prompt holding
`![x](https://evil.example/pixel)` must not load an image, nor `[here](https://…)` make a link. Where a
page shows such text in an element that renders markdown (captions, alerts, labels, `help=`), it goes
through `plain()` first; elements that show text as text (`st.text`, `st.code`, input values) need nothing.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all of them turns off
# links, images, emphasis, code, headings, lists, tables, HTML, Streamlit's :color[…] and :icon: directives
# and $math$. Newlines become spaces: a caption or label is one line.
_MARKUP = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|:~$=\"'&/])")


def plain(text: object) -> str:
    """`text` as literal characters in any markdown-rendering Streamlit element."""
    return _MARKUP.sub(r"\\\1", " ".join(str(text).split()))
