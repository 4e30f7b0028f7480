"""The tracker's lease policy: its rules as plain data, and the store keeping a lease it renews early unwritten."""

from __future__ import annotations

from pathlib import Path

from dailies.jobs import Job, new_job_id
from dailies.store import JobStore
from dailies.tracker.leases import LeasePolicy


def test_the_rules_follow_from_the_lease_length() -> None:
    policy = LeasePolicy(ttl_s=30.0)
    assert (policy.keep_above_s, policy.adopt_every_s) == (15.0, 7.5)
    assert policy.ask_again_in(until=100.0, now=90.0) == 10.0, "when the other's lease may have lapsed"
    assert policy.ask_again_in(until=100.0, now=100.0) == 0.5, "not at once: its holder renews it meanwhile"
    assert policy.ask_again_in(until=1000.0, now=0.0) == 30.0, "a lease from now at the latest"


def test_a_lease_renewed_in_its_first_half_is_kept_without_a_write(tmp_path: Path) -> None:
    """A tracker claims before every step; only a lease past half its life is written again."""
    store = JobStore(tmp_path / "jobs.json", follow=False)
    job = store.insert(Job(id=new_job_id(), provider="engine", model="sora-2", prompt="a take"))
    policy = LeasePolicy(ttl_s=30.0)
    assert policy.claim(store, job.id, "tracker-a")
    writes = store.file_writes
    for _ in range(5):
        assert policy.claim(store, job.id, "tracker-a")
    assert store.file_writes == writes, "renewed early: kept as it was"
    assert not policy.claim(store, job.id, "tracker-b"), "another tracker waits for the lease to lapse"
    assert store.claim(job.id, "tracker-a", 30.0), "the store's own claim always writes"
    assert store.file_writes == writes + 1
