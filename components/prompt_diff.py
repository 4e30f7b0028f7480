"""Two prompts' difference, word by word, for Compare: what changed between a take and the one beside it.

Kept apart from the player (it was beside the old synced player): prompts are people's text, so every word
is escaped and only the marks (`<del>`, `<ins>`) are markup."""

from __future__ import annotations

import difflib
import html


def prompt_diff_html(before: str, after: str) -> str:
    """Word-level difference of two prompts: removed words struck through, added words marked."""
    a, b = before.split(), after.split()
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            parts.append(f'<del style="color:#d9534f">{html.escape(" ".join(a[i1:i2]))}</del>')
        if op in ("insert", "replace"):
            parts.append(f'<ins style="color:#2e8b57">{html.escape(" ".join(b[j1:j2]))}</ins>')
        if op == "equal":
            parts.append(html.escape(" ".join(a[i1:i2])))
    return '<p data-testid="prompt-diff" style="line-height:1.6">' + " ".join(parts) + "</p>"
