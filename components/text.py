"""Text that people or providers wrote, made safe for Streamlit's markdown elements.

Prompts, axis labels, notes, tags and provider error messages are data, not markup: a prompt holding
`![x](https://evil.example/pixel)` must not load an image, nor `[here](https://…)` make a link. Where a
page shows such text in an element that renders markdown (captions, alerts, labels, `help=`), it goes
through `plain()` first; elements that show text as text (`st.text`, `st.code`, input values) need nothing.
"""

from __future__ import annotations

import re

# Backslash-escaping these turns off links and images ([…](…), ![…](…), <…>), emphasis, code, headings,
# tables, strikethrough, $math$, Streamlit's :color[…] and :icon: directives, and GFM's bare-URL and e-mail
# autolinks (http\://…, user\@host); "www." and a leading list marker are broken up separately. Other
# punctuation, and a colon before a space ("lighting: dusk"), is left alone so that messages read as
# written. Newlines become spaces: one line of text.
_MARKUP = re.compile(r"([\\`*_\[\]<>#|~$!@]|:(?=\S))")
_WWW = re.compile(r"(?i)\b(www)\.")
_LIST_MARKER = re.compile(r"^([-+=]|\d+(?=[.)]))")


def plain(text: object) -> str:
    """`text` as literal characters in any markdown-rendering Streamlit element."""
    flat = _MARKUP.sub(r"\\\1", " ".join(str(text).split()))
    return _LIST_MARKER.sub(lambda m: m[0] + "\\" if m[0][0].isdigit() else "\\" + m[0], _WWW.sub(r"\1\\.", flat))
