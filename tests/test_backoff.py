"""`Backoff`, the one formula behind every retry's wait, and the policies that ask it."""

from __future__ import annotations

import random

import pytest

from dailies.access.lockout import GuessPolicy
from dailies.backoff import Backoff
from dailies.client import RetryPolicy
from dailies.engine.webhooks import DeliveryPolicy
from dailies.send_queue import SendPolicy
from dailies.tracker import PollPolicy


def test_a_wait_grows_by_its_factor_to_its_cap() -> None:
    backoff = Backoff(first=1.0, cap=15.0, factor=1.6)
    assert [backoff.delay(n) for n in range(8)] == pytest.approx([1.0, 1.6, 2.56, 4.096, 6.5536, 10.48576, 15.0, 15.0])


def test_a_server_hint_wins_within_floor_and_cap() -> None:
    backoff = Backoff(first=1.0, cap=15.0, floor=0.2)
    assert [backoff.delay(9, retry_after=hint) for hint in (0.0, 3.0, 600.0)] == [0.2, 3.0, 15.0]


def test_jitter_draws_the_wait_from_its_lower_part() -> None:
    backoff = Backoff(first=0.5, cap=4.0, jitter=0.5)
    waits = {backoff.delay(3, rng=random.Random(seed)) for seed in range(50)}
    assert all(2.0 <= wait <= 4.0 for wait in waits) and len(waits) > 1


def test_every_policy_keeps_its_own_schedule() -> None:
    """Each policy's fields mean what they meant before it asked `Backoff`: the closed forms, attempt by attempt."""
    poll, send, delivery, guesses = PollPolicy(), SendPolicy(), DeliveryPolicy(), GuessPolicy()
    retry = RetryPolicy(waits=Backoff(0.5, 20.0))  # without its jitter
    for n in range(11):
        assert poll.next_delay(n) == min(poll.first * poll.growth**n, poll.cap)
        assert poll.next_delay(n, eta=3.0) == min(max(3.0 * 1.05 + 0.05, poll.floor), poll.cap)
        assert retry.delay(n) == min(retry.waits.cap, retry.waits.first * 2**n)
        assert send.delay(n, None) == min(send.cap, send.first * 2 ** max(0, n - 1))
        assert send.delay(n, 1e5) == 1e5, "a provider's Retry-After is kept however long"
        assert delivery.backoff(n + 1) == min(delivery.waits.first * delivery.waits.factor**n, delivery.waits.cap)
        past = n + 1 - guesses.free_failures
        assert guesses.wait_after(n + 1) == (0.0 if past < 1 else min(guesses.waits.cap, 2.0 ** (past - 1)))
