"""The pre-flight prompt check: local rules first, on this machine, before anything is sent.

The local rules are a list of terms (matched as whole words, any case) and regular expressions the
team edits in Settings. When the provider offers a moderation endpoint, its verdict is asked too,
after the local rules pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dailies.providers.base import ModerationVerdict

DEFAULT_TERMS: tuple[str, ...] = (
    "gore",
    "beheading",
    "child abuse",
    "sexual violence",
    "nude minor",
    "terrorist attack",
    "self-harm",
)


@dataclass(frozen=True)
class LocalRules:
    terms: tuple[str, ...] = DEFAULT_TERMS
    patterns: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, terms: Iterable[str], patterns: Iterable[str] = ()) -> LocalRules:
        return cls(
            tuple(t.strip() for t in terms if t and t.strip()),
            tuple(p.strip() for p in patterns if p and p.strip()),
        )

    def invalid_patterns(self) -> list[str]:
        """Patterns that are not valid regular expressions, with why; Settings refuses to save them."""
        problems = []
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{pattern!r}: {exc}")
        return problems

    def check(self, text: str) -> ModerationVerdict:
        reasons: list[str] = []
        lowered = text.lower()
        for term in self.terms:
            if re.search(rf"(?<!\w){re.escape(term.lower())}(?!\w)", lowered):
                reasons.append(f"contains the blocked term “{term}”")
        for pattern in self.patterns:
            try:
                if re.search(pattern, text, re.IGNORECASE):
                    reasons.append(f"matches the blocked pattern /{pattern}/")
            except re.error:
                continue
        return ModerationVerdict(not reasons, tuple(reasons), "local rules")
