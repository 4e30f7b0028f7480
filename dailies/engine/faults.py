"""Faults on purpose: the misbehaviour a real provider shows, at rates a test or a chaos run chooses.

Every decision comes from one seeded generator, so a run with the same seed and the same order of
requests fails the same way. Rate limits and server errors are answered before anything is created,
as real providers do, so that a client may retry a refused create without making two jobs.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
    rate_429: float = 0.0
    """Fraction of API requests answered 429 with Retry-After."""
    retry_after_s: float = 1.0
    rate_429_create: float = 0.0
    """Fraction of creates (generate, remix, extend, edit) answered 429 with Retry-After, before anything is
    made: a provider's rate limit on creates (Replicate, fal) or on concurrent tasks (Runway)."""
    rate_5xx: float = 0.0
    """Fraction of API requests answered 500/502/503."""
    rate_failed_jobs: float = 0.0
    """Fraction of jobs that end `failed` midway through rendering."""
    latency_ms: int = 0
    """Added to every API request."""
    rate_stall_download: float = 0.0
    """Fraction of content downloads that pause midway for `stall_s`, then finish."""
    stall_s: float = 5.0
    rate_drop_download: float = 0.0
    """Fraction of content downloads that drop the connection midway."""
    rate_lost_create: float = 0.0
    """Fraction of creates (generate, remix, extend, edit) that make the job, then drop the connection
    before the answer arrives: the client cannot know whether it was made."""
    refuse_list: bool = False
    """Answer `GET /videos` with 400, as LiteLLM's proxy does: a job whose create answer was lost
    cannot be found by listing."""
    refuse_delete: bool = False
    """Answer `DELETE /videos/{id}` with 405, as LiteLLM's proxy (which has no such route) does."""
    refuse_operations: tuple[str, ...] = ()
    """Operations (`remix`, `extend`, `edit`, `characters`) answered as by a server without their routes,
    as FastAPI answers them: `remix` and `characters` 404 `{"detail": "Not Found"}`; `extend` and `edit`
    (`POST /videos/extensions|edits`, a path its `GET /videos/{id}` matches) 405. vLLM-Omni's Videos API
    has only create, retrieve, list, content and delete (docs.vllm.ai .../serving/videos_api/): the engine
    standing in for it refuses the rest this way (docs/local-gpu.md)."""
    blocked_terms: tuple[str, ...] = ()
    """A prompt mentioning one of these fails with code `moderation_blocked`."""
    omit_poll_hint: bool = False
    """Send no `openai-poll-after-ms` header, as a provider that gives no hint (the polling benchmark)."""
    hide_progress: bool = False
    """Report progress 0 until a job is done, as a provider that reports none (the polling benchmark)."""
    seed: int | None = None

    @property
    def any(self) -> bool:
        return self != Faults(seed=self.seed)


class FaultPlan:
    """Draws the faults for each request and job. Thread-safe."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._blocked = [
            (term, re.compile(rf"(?<!\w){re.escape(term.lower())}(?!\w)")) for term in faults.blocked_terms if term
        ]

    def _draw(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def request_fault(self, *, create: bool = False) -> int | None:
        """A status to answer instead of serving this request (429, 500, 502, 503), or None."""
        if create and self._draw(self.faults.rate_429_create):
            return 429
        if self._draw(self.faults.rate_429):
            return 429
        if self._draw(self.faults.rate_5xx):
            with self._lock:
                return self._rng.choice((500, 502, 503))
        return None

    def fail_job(self) -> bool:
        return self._draw(self.faults.rate_failed_jobs)

    def download_fault(self) -> str | None:
        if self._draw(self.faults.rate_drop_download):
            return "drop"
        if self._draw(self.faults.rate_stall_download):
            return "stall"
        return None

    def lose_create_answer(self) -> bool:
        return self._draw(self.faults.rate_lost_create)

    def blocked_term(self, prompt: str) -> str | None:
        lowered = prompt.lower()
        for term, pattern in self._blocked:
            if pattern.search(lowered):
                return term
        return None
