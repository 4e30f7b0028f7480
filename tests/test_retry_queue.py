"""The one durable retry queue alone: over a real journal store's table and over the engine's file table."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dailies.backoff import Backoff
from dailies.file_table import FileTable
from dailies.retry_queue import RetryQueue, RetrySchedule
from dailies.store import JobStore
from dailies.store.api import StoreTable

SCHEDULE = RetrySchedule(attempts=3, waits=Backoff(first=1.0, cap=4.0))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["journal", "file"])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], StoreTable]]:
    """Opens the same table again each call: a journal store's table (a new store each time), or a `FileTable`."""
    stores: list[JobStore] = []

    def open_table() -> StoreTable:
        if request.param == "file":
            return FileTable(tmp_path / "deliveries.json")
        stores.append(JobStore(tmp_path / "jobs.json"))
        return stores[-1].table("sends")

    yield open_table
    for store in stores:
        store.close()


def test_an_entry_and_its_attempts_survive_a_reopen_of_its_table(opened: Callable[[], StoreTable]) -> None:
    clock = Clock()
    queue = RetryQueue(opened(), SCHEDULE, clock=clock)
    queue.put("a", url="https://cms.example/hook")
    assert [key for key, _ in queue.due()] == ["a"]
    queue.failed("a", status=503)

    again = RetryQueue(opened(), SCHEDULE, clock=clock)
    assert again.pending("a") and again.next_due() == clock.now + 1.0
    assert again.due() == [], "it keeps its backoff across the restart"
    clock.now += 1.0
    [(key, record)] = again.due()
    assert key == "a" and record["url"] == "https://cms.example/hook"
    assert (record["state"], record["attempts"], record["last_status"]) == ("retrying", 1, 503)
    again.succeeded("a", last_status=200)
    assert not again.pending("a") and again.next_due() is None
    assert RetryQueue(opened(), SCHEDULE, clock=clock).entry("a") == {
        **record, "state": "sent", "attempts": 2, "last_status": 200}


def test_the_waits_follow_the_schedule_then_it_gives_up(opened: Callable[[], StoreTable]) -> None:
    clock = Clock()
    queue = RetryQueue(opened(), SCHEDULE, clock=clock)
    queue.put("a")
    waits = []
    for _ in range(2):
        assert [key for key, _ in queue.due()] == ["a"]
        sent_at = clock.now
        assert queue.failed("a", error="refused")["state"] == "retrying"
        next_at = queue.next_due()
        assert next_at is not None
        waits.append(next_at - sent_at)
        clock.now = next_at - 0.01
        assert queue.due() == [], "not before its time"
        clock.now = next_at
    assert waits == [1.0, 2.0], "the schedule's backoff: first, then doubled"
    assert [key for key, _ in queue.due()] == ["a"]
    assert queue.failed("a", status=500)["state"] == "gave_up"
    assert not queue.pending("a") and queue.entry("a")["attempts"] == 3  # type: ignore[index]
    clock.now += 3600
    assert queue.due() == [], "given up: never again"


def test_a_servers_retry_after_wins_within_the_cap(tmp_path: Path) -> None:
    clock = Clock()
    queue = RetryQueue(FileTable(tmp_path / "sends.json"), SCHEDULE, clock=clock)
    queue.put("a")
    queue.due()
    queue.failed("a", retry_after=3.0)
    assert queue.next_due() == clock.now + 3.0
    queue.due(clock.now + 3.0)
    queue.failed("a", retry_after=60.0)
    assert queue.next_due() == clock.now + SCHEDULE.waits.cap


def test_an_entry_in_flight_is_not_handed_out_again(opened: Callable[[], StoreTable]) -> None:
    clock = Clock()
    queue = RetryQueue(opened(), RetrySchedule(None, Backoff(1.0, 4.0)), clock=clock)
    queue.put("a")
    queue.put("b", at=clock.now + 10)
    assert [key for key, _ in queue.due()] == ["a"]
    assert queue.due() == [] and queue.pending("a"), "in flight: pending, not due"
    assert queue.waiting_until() == [clock.now + 10], "only what is not in flight"
    queue.release("a")
    assert [key for key, _ in queue.due()] == ["a"], "handed back without an outcome: due again"


def test_a_ready_check_keeps_an_entry_waiting_without_taking_it(opened: Callable[[], StoreTable]) -> None:
    queue = RetryQueue(opened(), SCHEDULE, clock=Clock())
    queue.put("a")
    assert queue.due(ready=lambda key, record: False) == []
    assert queue.pending("a") and queue.entry("a")["attempts"] == 0  # type: ignore[index]
    assert [key for key, _ in queue.due(ready=lambda key, record: True)] == ["a"]


def test_an_unrecorded_entry_writes_nothing_until_a_try_fails(opened: Callable[[], StoreTable]) -> None:
    clock = Clock()
    table = opened()
    queue = RetryQueue(table, RetrySchedule(None, Backoff(1.0, 4.0)), clock=clock)
    queue.put("a", record=False)
    assert queue.pending("a") and len(table) == 0
    assert [key for key, _ in queue.due()] == ["a"]
    queue.failed("a", error="no bucket")
    assert table.get("a") == {"attempts": 1, "last_status": None, "last_error": "no bucket", "state": "retrying",
                              "next_at": clock.now + 1.0}
    assert RetryQueue(opened(), SCHEDULE, clock=clock).pending("a"), "a failed try is kept"
    queue.put("b", record=False)
    queue.forget("b")
    assert not queue.pending("b") and table.get("b") is None


def test_two_processes_sharing_a_store_table_send_an_entry_once(tmp_path: Path) -> None:
    """Two queues over one journal store's table (as two app processes have), with claims: one sends."""
    clock = Clock()
    stores = [JobStore(tmp_path / "jobs.json") for _ in range(2)]
    try:
        first, second = (RetryQueue(s.table("sends"), SCHEDULE, clock=clock, claims=s.claims("sends_claims"),
                                    reread_every=30.0) for s in stores)
        first.put("a", url="https://cms.example/hook")
        stores[1].refresh()
        assert second.pending("a"), "the other process reads it from the table"
        assert [key for key, _ in first.due()] == ["a"]
        assert second.due() == [], "claimed by the first"
        first.failed("a", status=502)
        clock.now += 1.0
        stores[1].refresh()
        assert [key for key, _ in second.due()] == ["a"], "the claim ended with the try: either may send it now"
        assert first.due() == []
        second.succeeded("a", last_status=200)
        clock.now += 60
        stores[0].refresh()
        assert first.due(clock.now) == [] and first.entry("a")["state"] == "sent"  # type: ignore[index]
    finally:
        for store in stores:
            store.close()


def test_the_file_table_is_kept_atomically_and_readable_by_its_user_only(tmp_path: Path) -> None:
    table = FileTable(tmp_path / "engine" / "deliveries.json")
    table.set("a", payload="{}", attempts=0)
    table.set("a", attempts=1)
    assert FileTable(tmp_path / "engine" / "deliveries.json").all() == {"a": {"payload": "{}", "attempts": 1}}
    assert stat.S_IMODE((tmp_path / "engine" / "deliveries.json").stat().st_mode) == 0o600
    table.delete("a")
    assert len(FileTable(tmp_path / "engine" / "deliveries.json")) == 0
    assert [p.name for p in (tmp_path / "engine").iterdir()] == ["deliveries.json"], "no temp file left"
