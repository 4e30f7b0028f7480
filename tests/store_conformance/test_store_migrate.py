"""`python -m dailies migrate`: a data folder's journal to PostgreSQL and back, as the CLI (a real process) does it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import psycopg
from store_backends import Backend

from dailies.jobs import Job, JobStatus, new_job_id
from dailies.store import JobStore
from dailies.store.postgres import PostgresStore
from dailies.store.postgres_db import redacted

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pw"


def make_job(prompt: str, **kwargs) -> Job:
    return Job(id=new_job_id(), provider="engine", model="sora-2", prompt=prompt, size="720x1280", seconds=4, **kwargs)


def migrate(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = Backend("journal", home).env()  # no DAILIES_DATABASE_URL: the URL is the command's own argument
    return subprocess.run([sys.executable, "-m", "dailies", "migrate", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def team_folder(home: Path) -> JobStore:
    """A data folder with what a team keeps: takes, a board, a review round, an idempotency key, a lease."""
    store = JobStore(home / "jobs.json")
    jobs = store.insert_many([make_job(f"take {i}", group_id="grp_1") for i in range(12)])
    store.update(jobs[0].id, status=JobStatus.COMPLETED, rating=5, notes="the one <b>")
    store.update(jobs[1].id, status=JobStatus.IN_PROGRESS)
    store.claim(jobs[1].id, store.new_owner(), ttl=3600)
    store.table("boards").set("board_1", title="Harbour", shots=[jobs[0].id])
    store.table("reviews").set("rev_1", job=jobs[0].id, score=4)
    store.table("rounds").set("round_1", name="Monday")
    store.claims("idempotency").claim("key-1", {"job": jobs[0].id}, ttl=3600)
    return store


def change_log(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM dailies_changes").fetchone()[0]


def test_a_journal_is_copied_to_postgresql_and_back_counts_verified_and_twice_changes_nothing(
        pg_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = team_folder(home)
    expected = source.dump()
    source.close()
    journal = home / "jobs.journal"
    before = digest(journal)

    first = migrate(home, "--to", pg_url)
    assert first.returncode == 0, first.stderr
    said = json.loads(first.stdout)
    assert said["records"] == {"jobs": 12, "boards": 1, "reviews": 1, "rounds": 1, "idempotency": 1}
    assert said["written"] == said["records"] and said["verified"] is True
    assert said["to"] == redacted(pg_url) and PASSWORD not in first.stdout + first.stderr
    assert digest(journal) == before, "the source is only read"

    database = PostgresStore(pg_url, follow=False)
    try:
        assert database.dump() == expected
        assert database.require(expected["jobs"][next(iter(expected["jobs"]))]["id"]) is not None
        assert not database.claims("idempotency").claim("key-1", {}, ttl=60).claimed, "the key still holds"
        assert [j.prompt for j in database.group("grp_1")] == [f"take {i}" for i in range(12)]
    finally:
        database.close()
    logged = change_log(pg_url)

    again = migrate(home, "--to", pg_url)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["written"] == {name: 0 for name in said["records"]}
    assert change_log(pg_url) == logged and digest(journal) == before, "running it twice changes nothing"

    back_home = tmp_path / "back"
    back = migrate(back_home, "--from", pg_url)
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["written"] == said["records"]
    copied = JobStore(back_home / "jobs.json", follow=False)
    assert copied.dump() == expected and copied.require(next(iter(expected["jobs"]))) is not None
    copied.close()
    size = (back_home / "jobs.journal").stat().st_size
    twice = migrate(back_home, "--from", pg_url)
    assert twice.returncode == 0 and json.loads(twice.stdout)["written"] == {name: 0 for name in said["records"]}
    assert (back_home / "jobs.journal").stat().st_size == size


def test_a_copy_to_a_database_that_cannot_be_reached_says_so_and_changes_nothing(tmp_path: Path) -> None:
    from dailies.engine import server as engine_server

    home = tmp_path / "home"
    team_folder(home).close()
    before = digest(home / "jobs.journal")
    url = f"postgresql://ana:{PASSWORD}@127.0.0.1:{engine_server.free_port()}/dailies"
    done = migrate(home, "--to", url)
    assert done.returncode == 1 and "could not be opened" in done.stderr and "Traceback" not in done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert digest(home / "jobs.journal") == before
    wrong = migrate(home, "--to", "mysql://a:b@h/d")
    assert wrong.returncode == 1 and "must be a postgresql:// URL" in wrong.stderr
