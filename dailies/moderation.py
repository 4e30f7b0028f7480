"""The pre-flight prompt check: local rules first, on this machine, before anything is sent.

The local rules are a list of terms (matched as whole words, any case) and regular expressions the
team edits in Settings. Patterns run on the `regex` engine with a time bound: a pattern such as
`(a+)+$` would otherwise take hours on some prompts and hang the page that checks them.
When the provider offers a moderation endpoint, its verdict is asked too,
after the local rules pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import regex

from dailies.providers.base import ModerationVerdict

PATTERN_TIMEOUT_S = 0.25
"""The longest one blocked pattern may take on one prompt; past it the prompt is held back, and says why."""
_PROBES = ("a" * 3000 + "!", "1" * 3000 + "x", " " * 3000 + "x", "ab" * 1500 + "!")
"""Inputs a backtracking pattern is slow on; Settings refuses patterns that exceed the bound on them."""


def _compile(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)

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
                compiled = _compile(pattern)
            except regex.error as exc:
                problems.append(f"{pattern!r}: {exc}")
                continue
            try:
                for probe in _PROBES:
                    compiled.search(probe, timeout=PATTERN_TIMEOUT_S)
            except TimeoutError:
                problems.append(f"{pattern!r} takes more than {PATTERN_TIMEOUT_S:g} s on some text "
                                "(nested repetition such as (a+)+); simplify it")
        return problems

    def check(self, text: str) -> ModerationVerdict:
        reasons: list[str] = []
        lowered = text.lower()
        for term in self.terms:
            if re.search(rf"(?<!\w){re.escape(term.lower())}(?!\w)", lowered):
                reasons.append(f"contains the blocked term “{term}”")
        for pattern in self.patterns:
            try:
                if _compile(pattern).search(text, timeout=PATTERN_TIMEOUT_S):
                    reasons.append(f"matches the blocked pattern /{pattern}/")
            except regex.error:
                continue
            except TimeoutError:
                # Held back rather than let through: the rule could not say whether the prompt matches.
                reasons.append(f"could not be checked against /{pattern}/ in time (the bound is "
                               f"{PATTERN_TIMEOUT_S:g} s of matching; simplify the pattern in Settings)")
        return ModerationVerdict(not reasons, tuple(reasons), "local rules")
