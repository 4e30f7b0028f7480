"""Which takes Compare plays, against a real TinyDB file: the `?takes=` list, a lineage's takes, what cannot play."""

from __future__ import annotations

from pathlib import Path

import pytest

from dailies.jobs import FileRecord, Job, JobStatus
from dailies.review.compare import MAX_TAKES, latest_family, lineage_takes, parse_takes, resolve, shown_id, takes_param
from dailies.store import JobStore


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(tmp_path / "jobs.json")


def add(store: JobStore, job_id: str, *, video: bool = True, source: str | None = None, at: float = 0) -> Job:
    files = {"video": FileRecord(f"{job_id}/video.mp4", 1, "00")} if video else {}
    job = Job(id=job_id, provider="engine", model="m", prompt=job_id, source_job_id=source, files=files,
              status=JobStatus.COMPLETED if video else JobStatus.IN_PROGRESS, created_at=1000 + at)
    store.insert(job)
    return job


def test_the_address_names_takes_in_order_each_once() -> None:
    assert parse_takes("a, b,,a ,c") == ["a", "b", "c"]
    assert parse_takes(None) == [] and parse_takes("") == []
    assert parse_takes(["a,b", "c"]) == ["a", "b", "c"]
    assert takes_param(["a", "b", "a", "c", "d", "e"]) == "a,b,c,d"


def test_what_cannot_play_is_sorted_out_with_its_reason(store: JobStore) -> None:
    for n in range(6):
        add(store, f"job_{n}", at=n)
    add(store, "job_running", video=False)
    found = resolve(store, ["job_gone", "job_0", "job_running", "job_1", "job_2", "job_3", "job_4"])
    assert [j.id for j in found.playable] == ["job_0", "job_1", "job_2", "job_3"]
    assert [j.id for j in found.not_ready] == ["job_running"]
    assert found.unknown == ["job_gone"] and found.dropped == ["job_4"]


def test_a_lineage_plays_whole_up_to_four_with_the_job_itself_among_them(store: JobStore) -> None:
    add(store, "job_src")
    for n in range(5):
        add(store, f"job_ext{n}", source="job_src", at=n + 1)
    add(store, "job_ext_running", video=False, source="job_src", at=9)
    assert lineage_takes(store, "job_ext1") == ["job_src", "job_ext0", "job_ext1", "job_ext2"]
    taken = lineage_takes(store, "job_ext4")
    assert len(taken) == MAX_TAKES and taken[-1] == "job_ext4" and taken[0] == "job_src"
    assert latest_family(store) == ["job_src", "job_ext0", "job_ext1", "job_ext4"]


def test_an_id_from_an_address_is_repeated_only_when_it_is_one() -> None:
    assert shown_id("job_01a2_x.y-z") == "job_01a2_x.y-z"
    for crafted in ("**bold**", "[x](javascript:alert(1))", "<b>x</b>", "../../etc/passwd", "a b"):
        assert shown_id(crafted) == "(not a job id)"
