"""What only the PostgreSQL store has: its schema's migrations, the database's own failures, the URL's secret,
LISTEN/NOTIFY across processes, and the selection by `DAILIES_DATABASE_URL` (the behaviours it shares with
the journal are in test_store_conformance.py)."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pg_server import PgServer
from store_backends import Backend
from until import wait_until

from dailies.config import Environment
from dailies.engine import server as engine_server
from dailies.jobs import Job, JobStatus, new_job_id
from dailies.store import (
    ReadOnlyStoreError,
    Store,
    StoreOpenError,
    StoreUnavailableError,
    open_configured_store,
    open_store,
    pg_schema,
)
from dailies.store.postgres import PostgresStore
from dailies.store.postgres_db import redacted

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pw"


def make_job(prompt: str = "a red fox in snow", **kwargs) -> Job:
    return Job(id=new_job_id(), provider="engine", model="sora-2", prompt=prompt, size="720x1280", seconds=4, **kwargs)


@pytest.fixture
def opened() -> Iterator[list[PostgresStore]]:
    """Stores a test opened, closed after it."""
    stores: list[PostgresStore] = []
    yield stores
    for store in stores:
        store.close()


def pg(stores: list[PostgresStore], url: str, **options) -> PostgresStore:
    store = PostgresStore(url, **options)
    stores.append(store)
    return store


# -- the schema ------------------------------------------------------------------------------------------


def tables_of(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_an_empty_database_is_migrated_to_the_newest_schema_at_open(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    expected = {"dailies_schema", "dailies_jobs", "dailies_records", "dailies_leases", "dailies_changes"}
    assert expected <= tables_of(pg_url)
    with psycopg.connect(pg_url) as conn:
        assert [r[0] for r in conn.execute("SELECT version FROM dailies_schema ORDER BY version")] == \
            list(range(1, pg_schema.SCHEMA_VERSION + 1))
    store.close()
    PostgresStore(pg_url).close()  # opening again applies nothing and fails nothing
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM dailies_schema").fetchone()[0] == pg_schema.SCHEMA_VERSION


@pytest.mark.parametrize("earlier", range(1, pg_schema.SCHEMA_VERSION))
def test_a_database_of_each_earlier_schema_is_migrated_keeping_its_records(pg_url: str, earlier: int) -> None:
    job = make_job("made before the upgrade", group_id="grp_1")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        pg_schema.migrate(conn, to=earlier)
        assert pg_schema.schema_version(conn) == earlier
        conn.execute("INSERT INTO dailies_jobs (id, doc, status, created_at) VALUES (%s, %s, '', 0)",
                     (job.id, json.dumps(job.to_dict())))
        conn.execute("INSERT INTO dailies_records (tbl, key, doc) VALUES ('boards', 'b1', '{\"title\": \"x\"}')")
    store = PostgresStore(pg_url)
    assert store.require(job.id) == job and store.table("boards").get("b1") == {"title": "x"}
    assert store.group("grp_1") == [job]
    store.update(job.id, rating=5)
    store.close()
    with psycopg.connect(pg_url) as conn:
        assert pg_schema.schema_version(conn) == pg_schema.SCHEMA_VERSION
        assert conn.execute("SELECT status, group_id FROM dailies_jobs").fetchone() == ("queued", "grp_1")


def test_a_database_of_a_newer_schema_opens_read_only(pg_url: str, opened: list[PostgresStore]) -> None:
    pg(opened, pg_url).insert(make_job("kept as it is"))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO dailies_schema (version) VALUES (%s)", (pg_schema.SCHEMA_VERSION + 1,))
    store = pg(opened, pg_url)
    assert store.read_only and "newer Dailies" in store.warnings[0]
    assert [j.prompt for j in store.all()] == ["kept as it is"], "it is read"
    with pytest.raises(ReadOnlyStoreError):
        store.insert(make_job("never written"))
    assert len(pg(opened, pg_url)) == 1


def test_the_status_column_follows_the_record(pg_url: str) -> None:
    """The columns the database queries by are kept from the record itself (a trigger), never out of step."""
    store = PostgresStore(pg_url)
    job = store.insert(make_job(group_id="grp_x"))
    store.update(job.id, status=JobStatus.IN_PROGRESS)
    store.close()
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM dailies_jobs WHERE status = 'in_progress' AND group_id = 'grp_x'"
                            ).fetchone()[0] == 1


def test_text_is_kept_exactly_and_a_nul_as_the_replacement_character(pg_url: str, opened: list[PostgresStore]) -> None:
    """PostgreSQL's text cannot hold U+0000: a NUL pasted into a prompt is kept as U+FFFD rather than the take
    being refused by the database; every other character, and a backslash before "u0000", is kept as written."""
    store = pg(opened, pg_url)
    job = store.insert(make_job("a\x00b \u2028 é 🎬 <b> \\u0000 \\\x00", notes="line\nbreak\ttab"))
    again = pg(opened, pg_url).require(job.id)
    assert again.prompt == "a\ufffdb \u2028 é 🎬 <b> \\u0000 \\\ufffd" and again.notes == "line\nbreak\ttab"


# -- the URL and its password ----------------------------------------------------------------------------


def test_a_urls_password_is_never_shown() -> None:
    assert redacted("postgresql://ana:hunter2@db.example:5432/dailies") == "postgresql://ana:***@db.example:5432/dailies"
    assert redacted("postgresql://db.example/dailies") == "postgresql://db.example/dailies"
    env = Environment.load({"DAILIES_HOME": "/tmp/x", "DAILIES_DATABASE_URL": "postgresql://a:hunter2@h/d"})
    assert "hunter2" not in repr(env)


def test_an_unreachable_database_is_a_clear_error_without_the_password(caplog: pytest.LogCaptureFixture,
                                                                        opened: list[PostgresStore]) -> None:
    port = engine_server.free_port()  # nothing listens there
    url = f"postgresql://ana:{PASSWORD}@127.0.0.1:{port}/dailies"
    with pytest.raises(StoreOpenError) as raised:
        PostgresStore(url)
    said = str(raised.value)
    assert f"postgresql://ana:***@127.0.0.1:{port}/dailies" in said and "could not be opened" in said
    assert "DAILIES_DATABASE_URL" in said and PASSWORD not in said
    caplog.set_level(logging.DEBUG)
    store = pg(opened, url, background=True)
    assert store.wait_ready(30)
    with pytest.raises(StoreOpenError):
        store.all()
    assert PASSWORD not in caplog.text


def test_a_url_that_is_not_postgresql_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(StoreOpenError, match="must be a postgresql:// URL"):
        open_store(tmp_path, "mysql://a:b@h/d")


def test_the_environment_chooses_the_store(pg_url: str, tmp_path: Path) -> None:
    journal = open_configured_store(Environment.load({"DAILIES_HOME": str(tmp_path)}))
    database = open_configured_store(Environment.load({"DAILIES_HOME": str(tmp_path), "DAILIES_DATABASE_URL": pg_url}))
    try:
        assert type(journal).__name__ == "JobStore" and isinstance(database, PostgresStore)
        assert isinstance(journal, Store) and isinstance(database, Store), "both implement the one interface"
    finally:
        journal.close()
        database.close()


# -- across processes ------------------------------------------------------------------------------------


def test_another_process_is_told_of_a_write_not_polling(pg_url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """With the safety poll an hour apart, only NOTIFY can bring another process's write within seconds."""
    import dailies.store.postgres_changes

    monkeypatch.setattr(dailies.store.postgres_changes, "POLL_S", 3600.0)
    reader = PostgresStore(pg_url)
    backend = Backend("postgresql", tmp_path, pg_url)
    (tmp_path / "go").touch()
    shared = reader.insert(make_job("shared"))
    writer = subprocess.run([sys.executable, str(ROOT / "tests" / "store_worker.py"), "writer", str(tmp_path), "ana",
                             "3", shared.id, "rating"], cwd=ROOT, env=backend.env(), text=True, capture_output=True,
                            timeout=60)
    assert writer.returncode == 0, writer.stderr
    acked = [line.split()[1] for line in writer.stdout.splitlines() if line.startswith("ack ")]
    wait_until(lambda: all(reader.get(job_id) for job_id in acked) and reader.require(shared.id).rating == 5, 5,
               "the other process's jobs and rating in this store, told by NOTIFY")
    reader.close()


def test_the_cli_counts_the_databases_jobs_and_never_prints_the_password(pg_url: str, tmp_path: Path,
                                                                          opened: list[PostgresStore]) -> None:
    pg(opened, pg_url).insert_many([make_job(f"take {i}") for i in range(3)])
    backend = Backend("postgresql", tmp_path / "elsewhere", pg_url)
    done = subprocess.run([sys.executable, "-m", "dailies", "status"], cwd=ROOT, env=backend.env(), text=True,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert said["jobs"] == 3 and said["store"] == redacted(pg_url)
    assert PASSWORD not in done.stdout + done.stderr


def test_the_cli_says_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    url = f"postgresql://ana:{PASSWORD}@127.0.0.1:{engine_server.free_port()}/dailies"
    done = subprocess.run([sys.executable, "-m", "dailies", "status"], cwd=ROOT,
                          env=Backend("postgresql", tmp_path, url).env(), text=True, capture_output=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("dailies: The job store at postgresql://ana:***@")
    assert "could not be opened" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr and "Traceback" not in done.stderr


# -- the database going away mid-run ---------------------------------------------------------------------


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    """A server of this test's own, to stop and start again."""
    folder = Path(tempfile.mkdtemp(prefix="dailies-pg-"))
    server = PgServer(folder, engine_server.free_port()).start()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_nothing_is_sent_that_could_not_be_recorded_and_work_resumes(own_server: PgServer, engine, tmp_path: Path,
                                                                      opened: list[PostgresStore]) -> None:
    """The database stops mid-run: a take asked for then is refused before the provider hears of it; when
    the database is back, the store reconnects and the next take is recorded, sent and followed."""
    from dailies.jobs import JobRequest
    from dailies.studio import Studio
    from dailies.videos_spec import DEFAULT_SECONDS, DEFAULT_SIZE

    url = own_server.new_database()
    env = Environment.load({"DAILIES_HOME": str(tmp_path / "home"), "DAILIES_DATABASE_URL": url})
    studio = Studio(env, engine_base_url=engine.base_url)
    studio.start()
    try:
        model = studio.capabilities().default_model
        first = studio.submit(JobRequest("before the outage", model, DEFAULT_SIZE, DEFAULT_SECONDS))
        wait_until(lambda: studio.store.require(first.id).status is JobStatus.COMPLETED, 60, "the first take")
        own_server.stop("immediate")
        with pytest.raises(StoreUnavailableError, match="cannot be reached"):
            studio.submit(JobRequest("during the outage", model, DEFAULT_SIZE, DEFAULT_SECONDS))
        assert [j.prompt for j in studio.store.all()] == ["before the outage"]
        assert [job.prompt for job in engine.engine.book.listed()] == ["before the outage"], \
            "the provider was sent nothing that could not be recorded"
        own_server.restart()
        after = wait_until(lambda: _submit_or_none(studio, JobRequest("after the outage", model, DEFAULT_SIZE,
                                                                      DEFAULT_SECONDS)), 30, "the database back")
        wait_until(lambda: studio.store.require(after.id).status is JobStatus.COMPLETED, 60, "the take after")
        assert sorted(j.prompt for j in pg(opened, url).all()) == ["after the outage", "before the outage"]
        assert sorted(job.prompt for job in engine.engine.book.listed()) == ["after the outage", "before the outage"]
    finally:
        studio.close()


@pytest.mark.slow
def test_a_store_that_could_not_open_opens_once_the_database_is_back(own_server: PgServer,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     opened: list[PostgresStore]) -> None:
    """The app started while the database was down: its pages say so, and carry on once it is up, no restart."""
    import dailies.store.postgres

    monkeypatch.setattr(dailies.store.postgres, "REOPEN_AFTER_S", 0.2)
    url = own_server.new_database()
    pg(opened, url).insert(make_job("made before"))
    own_server.stop("fast")  # (the tests' server does not wait for the disk: an immediate stop may lose it)
    store = pg(opened, url, background=True)
    assert store.wait_ready(30)
    with pytest.raises(StoreOpenError, match="could not be opened"):
        store.all()
    with pytest.raises(StoreOpenError):
        store.table("boards").all()
    own_server.restart()
    wait_until(lambda: _all_or_none(store) is not None, 30, "the store to open once the database is back")
    assert [j.prompt for j in store.all()] == ["made before"]
    store.insert(make_job("made after"))
    assert len(pg(opened, url)) == 2


def _all_or_none(store: PostgresStore) -> list[Job] | None:
    try:
        return store.all()
    except StoreOpenError:
        return None


def _submit_or_none(studio, request) -> Job | None:
    try:
        return studio.submit(request)
    except StoreUnavailableError:
        return None
