"""How long to wait before trying again: the one backoff formula every retry in Dailies uses.

A wait starts at `first` and grows by `factor` with each try, up to `cap`; a part of it can be drawn
at random (`jitter`) so that many clients refused together do not come back together. A server's own
hint (`Retry-After`, `openai-poll-after-ms`) wins over the formula, kept within [`floor`, `cap`].

The policies that say when each kind of thing is tried again ask a `Backoff` for the number. `RetryPolicy`
(HTTP calls), `RetrySchedule` (the retry queue's: bucket uploads, API callbacks, and `DeliveryPolicy`, the
engine's webhooks) and `GuessPolicy` (the access lock-out) hold one, their `waits`; `PollPolicy` (polls and
downloads) and `SendPolicy` keep `first` and `cap` as fields of their own, because callers tune them one at a
time (a fast first poll, keeping the growth and floor) and the tracker reads them alone (the first poll; the
wait after an unexpected error).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True)
class Backoff:
    """`first * factor ** attempt`, capped at `cap`, less up to `jitter` of it at random."""

    first: float
    cap: float
    factor: float = 2.0
    jitter: float = 0.0
    """Fraction of the wait drawn at random: the wait lies in [(1 - jitter) * w, w]."""
    floor: float = 0.0
    """The shortest wait a server's hint can ask for."""

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before try `attempt + 1` (`attempt` counts from 0: the first retry waits `first`)."""
        if retry_after is not None:
            return min(max(retry_after, self.floor), self.cap)
        wait = min(self.first * self.factor**attempt, self.cap)
        if not self.jitter:
            return wait
        spread = wait * self.jitter
        return wait - spread + (rng or random).random() * spread
