"""The tracker's schedule without a server hint: the time left estimated from the job's progress."""

from __future__ import annotations

import pytest

from dailies.tracker import PollPolicy, Schedule


def readings(points: list[tuple[float, int]]) -> list[float | None]:
    sched = Schedule()
    return [sched.eta(at, progress) for at, progress in points]


def test_the_time_left_is_measured_from_the_first_sighting_of_progress() -> None:
    # 1 % a second from 10 % at t=0: at 20 % (t=10) about 80 s are left (half a percent of rounding off).
    assert readings([(0, 10), (10, 20)]) == [None, pytest.approx(79.5)]


def test_progress_that_holds_near_the_end_keeps_the_next_poll_close() -> None:
    """A provider that sits at 95 % for a poll still has the job's overall rate: the next poll stays a
    few seconds off, instead of falling back to a backoff that would land long after the job is done."""
    policy = PollPolicy()
    *_, eta = readings([(0, 10), (80, 90), (85, 95), (86, 95)])
    assert eta == pytest.approx((100 - 95 - 0.5) / (85 / 86))
    assert policy.next_delay(6, eta=eta) < policy.next_delay(6)


def test_progress_that_goes_back_starts_the_estimate_again() -> None:
    assert readings([(0, 40), (10, 50), (20, 5), (30, 5), (40, 15)]) == [
        None,
        pytest.approx(49.5),
        None,
        None,
        pytest.approx(84.5 / 0.5),
    ]


def test_no_estimate_without_progress() -> None:
    assert readings([(0, 0), (10, 0), (20, 0)]) == [None, None, None]
