"""The app's job store opens in the background: its first page is drawn while 100,000 jobs load, and
nothing ever reads a half-loaded store (a read waits, and asks the store to open now)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_core_integration import make_studio, req
from until import wait_until

from dailies.config import Environment, Settings, SettingsFile
from dailies.errors import BudgetExceeded
from dailies.jobs import JobStatus
from dailies.store import JobStore, StoreOpenError, open_store
from dailies.studio import Studio

ROOT = Path(__file__).resolve().parents[1]


def written_store(home: Path, engine_url: str) -> list[str]:
    """Three finished takes in the store of `home`, made through the engine; their ids."""
    studio = make_studio(home, engine_url)
    try:
        jobs = [studio.submit(req(f"a kite over a beach, take {n}")) for n in range(3)]
        assert studio.tracker.run_until_idle(timeout=60)
    finally:
        studio.close()
    return [job.id for job in jobs]


@pytest.mark.slow
def test_a_read_waits_for_the_store_to_open_and_sees_every_job(engine, isolated_home: Path,
                                                               slow_opening: threading.Event) -> None:
    ids = written_store(isolated_home, engine.base_url)
    store = JobStore(isolated_home / "jobs.json", background=True)
    try:
        assert not store.ready
        got: list[list[str]] = []
        reader = threading.Thread(target=lambda: got.append([job.id for job in store.all()]))
        reader.start()
        reader.join(0.3)
        assert reader.is_alive() and not got, "a read does not answer from a store that has not loaded"
        slow_opening.set()
        reader.join(30)
        assert sorted(got[0]) == sorted(ids), "the read waited, then saw every job"
        assert store.ready and store.version > 0, "a page that read the version before knows everything changed"
        assert all(store.require(i).status is JobStatus.COMPLETED for i in ids)
    finally:
        store.close()


@pytest.mark.slow
def test_a_store_told_to_wait_opens_when_asked_or_when_its_jobs_are_needed(engine, isolated_home: Path) -> None:
    (first, *_) = written_store(isolated_home, engine.base_url)
    waiting = JobStore(isolated_home / "jobs.json", background=True, deferred=True)
    needed = JobStore(isolated_home / "jobs.json", background=True, deferred=True)
    try:
        assert not waiting.wait_ready(0.3), "it waits to be asked (the app asks once its first page is drawn)"
        waiting.open_now()
        assert waiting.wait_ready(30) and waiting.get(first) is not None
        assert needed.get(first) is not None, "a read does not wait a minute: it opens the store now"
    finally:
        waiting.close()
        needed.close()


def test_a_store_opened_within_a_while_opens_by_then_unasked(tmp_path: Path) -> None:
    """The app's store opens once its first page is drawn, or at the latest `open_within` seconds after the start
    (a server nobody has opened yet still resumes its jobs)."""
    store = open_store(tmp_path, open_within=2)
    try:
        assert not store.ready, "it waits to be asked"
        assert store.wait_ready(30), "and opens by itself once the time is up"
    finally:
        store.close()


def test_a_store_that_cannot_open_says_so_to_whoever_reads_it(tmp_path: Path) -> None:
    (tmp_path / "jobs.journal").mkdir()  # not a file: the journal cannot be read
    store = JobStore(tmp_path / "jobs.json", background=True)
    assert store.wait_ready(30)
    with pytest.raises(StoreOpenError, match=r"jobs\.journal could not be opened"):
        store.all()
    with pytest.raises(StoreOpenError):
        store.update("job_x", notes="a write fails the same way, before anything is written")


def test_the_tracker_resumes_once_a_store_opening_in_the_background_has_opened(
        engine, isolated_home: Path, slow_opening: threading.Event) -> None:
    studio = make_studio(isolated_home, engine.base_url)
    job = studio.submit(req())
    studio.tracker.stop()  # the app stops with the take still rendering
    studio.close()

    env = Environment(home=isolated_home)
    again = Studio(env, engine_base_url=engine.base_url, store=JobStore(isolated_home / "jobs.json", background=True))
    try:
        again.start()  # returns at once: nothing waits for the store but the tracker's own start
        assert not again.tracker.running
        slow_opening.set()
        wait_until(lambda: again.store.require(job.id).status is JobStatus.COMPLETED, 90,
                   "the take resumed after the restart to finish")
    finally:
        again.close()


def test_a_preview_does_not_wait_for_the_store_but_a_send_checks_the_budget(
        engine, isolated_home: Path, slow_opening: threading.Event) -> None:
    """A priced provider (the engine behind a `remote` URL at $0.10 a second) and a $1 budget, $0.80 spent."""
    env = Environment(home=isolated_home, base_url=engine.base_url, api_key=None, provider="remote")
    SettingsFile(isolated_home / "settings.json").save(Settings(daily_budget_usd=1.0, rates={"dailies-preview": 0.1}))
    studio = Studio(env, engine_base_url=engine.base_url)
    studio.submit(req(seconds=8))
    studio.close()

    again = Studio(env, engine_base_url=engine.base_url, store=JobStore(isolated_home / "jobs.json", background=True))
    try:
        quick = again.preflight(req(seconds=4), quick=True)
        assert quick.spent_today is None and quick.cost == pytest.approx(0.4), "priced, the spend not counted yet"
        assert not quick.over_budget and not quick.problems
        slow_opening.set()
        with pytest.raises(BudgetExceeded):
            again.submit(req(seconds=4))  # the send waits for the store, and the budget holds
        assert len(again.store) == 1, "nothing was sent"
        counted = again.preflight(req(seconds=4), quick=True)
        assert counted.spent_today == pytest.approx(0.8) and counted.over_budget
    finally:
        again.close()


def test_streamlits_scan_for_component_packages_is_skipped_and_would_find_none() -> None:
    """`app.py` skips the scan (0.15 s of every start, `components.streamlit_patches`); it may only because nothing
    installed brings a component."""
    from streamlit.components.v2.manifest_scanner import scan_component_manifests

    assert scan_component_manifests() == [], "a package with Streamlit components is installed: remove the skip"
    check = ("import app\n"
             "from streamlit.components.v2.component_manager import BidiComponentManager\n"
             "from components.streamlit_patches import no_component_packages\n"
             "assert BidiComponentManager.discover_and_register_components is no_component_packages\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_api_callbacks_stop_once_when_the_store_cannot_open(tmp_path: Path, caplog) -> None:
    """An unreadable store is said once by the callback thread, not four times a second."""
    from dailies.pipeline import Pipeline

    (tmp_path / "jobs.journal").mkdir()
    studio = Studio(Environment(home=tmp_path), store=JobStore(tmp_path / "jobs.json", background=True))
    pipeline = Pipeline(studio)
    pipeline.start(lambda job, variant: "")
    try:
        wait_until(lambda: not pipeline._thread.is_alive(), 30, "the callback thread to stop")
        assert [r.message for r in caplog.records].count("callbacks stop: the job store could not be opened") == 1
    finally:
        pipeline.close()
