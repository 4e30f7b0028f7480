"""Two app servers with data folders of their own sharing one PostgreSQL (`DAILIES_DATABASE_URL`), in Chromium:
a take launched on one shows on the other's History; a database that cannot be reached is said on the page,
without the URL's password."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pg_server import pg_server, pg_url  # noqa: F401 (fixtures)
from playwright.sync_api import Page, expect
from running_app import new_context, start_streamlit, stop_app
from s3_server import BUCKET, moto_s3
from shell_free import shell_free
from until import wait_until

from dailies.config import BucketSettings, Environment
from dailies.engine.server import free_port
from dailies.jobs import JobRequest, JobStatus
from dailies.store.postgres import PostgresStore
from dailies.studio import Studio

pytestmark = pytest.mark.slow


def settled(page: Page) -> None:
    expect(page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")).to_have_count(1)


def jobs_metric(page: Page):
    return page.locator("[data-testid='stMetric']", has_text="Jobs").locator("[data-testid='stMetricValue']")


@dataclasses.dataclass
class TwoServers:
    database: str
    history: Page
    """The second server's History, showing no take yet."""
    generate: Page
    """The first server's Generate page."""


@pytest.fixture
def two_servers(request: pytest.FixtureRequest, tmp_path: Path, browser) -> Iterator[TwoServers]:
    """Two app servers, data folders `one` and `two`, on a fresh database of this session's PostgreSQL
    (tests/pg_server.py); in one browser, History open and settled on the second, Generate open on the first."""
    database = request.getfixturevalue("pg_url")
    env = {"DAILIES_DATABASE_URL": database}
    one, one_url = start_streamlit(tmp_path / "one", tmp_path / "one.log", env=env)
    two, two_url = start_streamlit(tmp_path / "two", tmp_path / "two.log", env=env)
    context = new_context(browser)
    try:
        history = context.new_page()
        history.goto(f"{two_url}/history")
        expect(jobs_metric(history)).to_have_text("0")
        settled(history)
        generate = context.new_page()
        generate.goto(one_url)
        yield TwoServers(database, history, generate)
    finally:
        context.close()
        stop_app(one)
        stop_app(two)


def test_a_take_launched_on_one_server_shows_on_the_others_history(two_servers: TwoServers, tmp_path: Path) -> None:
    history, generate = two_servers.history, two_servers.generate
    generate.get_by_role("textbox", name="Prompt", exact=True).fill("A lighthouse seen from the other server")
    generate.get_by_role("button", name="Generate", exact=True).click()

    store = PostgresStore(two_servers.database)
    try:
        wait_until(lambda: len(store) == 1, 60, "the take in the shared database")
        assert store.all()[0].prompt == "A lighthouse seen from the other server"
    finally:
        store.close()
    history.reload()
    expect(jobs_metric(history)).to_have_text("1")
    assert not list((tmp_path / "two").glob("jobs.journal")), "the second server keeps no journal of its own"


def test_an_open_history_on_another_server_shows_a_new_take_without_reload(two_servers: TwoServers) -> None:
    """History open on server B, nothing clicked there: a take launched on server A is pushed to it (A's write,
    B's LISTEN, B's store, B's tab) well before the idle tab's once-a-minute look would have found it."""
    history, generate = two_servers.history, two_servers.generate
    history.wait_for_timeout(1_000)  # the tab's first runs (the sidebar's) are over: it is idle
    generate.get_by_role("textbox", name="Prompt", exact=True).fill("A harbour seen from the other server")
    store = PostgresStore(two_servers.database)
    try:
        generate.get_by_role("button", name="Generate", exact=True).click()
        wait_until(lambda: len(store) == 1, 60, "the take in the shared database")
        written = time.monotonic()
        expect(jobs_metric(history)).to_have_text("1", timeout=10_000)  # no reload, no click
        print(f"\nserver B's open History showed the take {time.monotonic() - written:.2f} s after it was "
              "in the database")
    finally:
        store.close()


def test_a_database_that_cannot_be_reached_is_said_on_the_page(tmp_path: Path, page: Page) -> None:
    password = "not-for-pages"
    url = f"postgresql://ana:{password}@127.0.0.1:{free_port()}/dailies"
    app, app_url = start_streamlit(tmp_path / "home", tmp_path / "app.log", env={"DAILIES_DATABASE_URL": url})
    try:
        page.goto(f"{app_url}/history")
        expect(page.get_by_text("could not be opened", exact=False).first).to_be_visible()
        settled(page)
        text = page.locator("body").inner_text().replace("\u2060", "")  # plain()'s word joiners (no autolinks)
        assert "postgresql://ana:***@127.0.0.1" in text and password not in text
        assert "Traceback" not in text
        assert password not in (tmp_path / "app.log").read_text(), "nor in the server's log"
    finally:
        stop_app(app)


def cli_status(home: Path, url: str) -> dict:
    env = shell_free()
    env.update({"DAILIES_HOME": str(home), "DAILIES_DATABASE_URL": url, "PYTHONPATH": str(ROOT)})
    done = subprocess.run([sys.executable, "-m", "dailies", "status"], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


ROOT = Path(__file__).resolve().parents[2]


def test_a_take_made_on_one_server_plays_from_anothers_media_route_through_the_bucket(
        request: pytest.FixtureRequest, tmp_path: Path, engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Server A makes a take in its own folder; with the team's bucket set (in the shared settings), server B,
    whose folder never had it, serves the same bytes from its media route, fetched from the bucket. Before the
    bucket is set, A and the CLI say that other servers cannot play A's takes."""
    database = request.getfixturevalue("pg_url")
    with moto_s3(monkeypatch) as s3:
        one = Studio(Environment.load({"DAILIES_HOME": str(tmp_path / "one"), "DAILIES_DATABASE_URL": database}),
                     engine_base_url=engine.base_url)
        app = None
        try:
            assert any("other servers sharing the database cannot play" in w for w in one.warnings)
            assert any("cannot play" in w for w in cli_status(tmp_path / "cli", database)["warnings"])
            one.save_settings(dataclasses.replace(one.settings, bucket=BucketSettings(
                bucket=BUCKET, endpoint_url=s3, prefix="takes/", region="us-east-1")))
            assert not any("cannot play" in w for w in one.warnings)
            assert not any("cannot play" in w for w in cli_status(tmp_path / "cli", database)["warnings"])
            one.start()
            job = one.submit(JobRequest(prompt="a ferry crossing at dusk", model="dailies-preview", size="720x1280",
                                        seconds=4))
            wait_until(lambda: (j := one.store.require(job.id)).status is JobStatus.COMPLETED and bool(j.files)
                       and all(r.in_bucket for r in j.files.values()), 90, "the take in the bucket")
            video = one.store.require(job.id).files["video"]
            made = one.media.resolve(video.path).read_bytes()

            app, url = start_streamlit(tmp_path / "two", tmp_path / "two.log", env={"DAILIES_DATABASE_URL": database})
            assert not (tmp_path / "two" / "media" / video.path).exists(), "B's folder is not A's"
            served = httpx.get(f"{url}/app/static/takes/{video.path}", timeout=60)
            assert served.status_code == 200, served.text
            assert hashlib.sha256(served.content).hexdigest() == video.sha256 and served.content == made
            assert (tmp_path / "two" / "media" / video.path).read_bytes() == made, "kept in B's folder as a cache"
            ranged = httpx.get(f"{url}/app/static/takes/{video.path}", headers={"Range": "bytes=0-99"}, timeout=30)
            assert ranged.status_code == 206 and ranged.content == made[:100]
        finally:
            one.close()
            if app is not None:
                stop_app(app)
