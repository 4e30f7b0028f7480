"""The team's bucket in the browser: takes uploaded by the tracker to a real S3 API on loopback (moto in
server mode), Settings → Bucket tests the connection and drops the local copies, and Compare then plays
both takes from presigned URLs in Chromium."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from playwright.sync_api import Page, expect
from running_app import start_app, stop_app

from dailies.config import BucketSettings, Environment
from dailies.engine import EngineConfig, serve_engine
from dailies.engine.server import free_port
from dailies.jobs import JobRequest
from dailies.studio import Studio

pytestmark = pytest.mark.e2e
BUCKET = "team-takes"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "browser-key-id", "AWS_SECRET_ACCESS_KEY": "browser-secret",
               "AWS_DEFAULT_REGION": "us-east-1"}
PLAYERS = "[data-testid='synced-video']"
TOKEN = "bucket-api-token-0123456789"


@dataclass
class BucketApp:
    url: str
    s3: str
    home: Path
    takes: list[str]


@pytest.fixture(scope="module")
def bucket_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BucketApp]:
    home = tmp_path_factory.mktemp("bucket-home")
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    s3 = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as env:
        for name, value in CREDENTIALS.items():
            env.setenv(name, value)
        env.delenv("AWS_PROFILE", raising=False)
        boto3.client("s3", endpoint_url=s3).create_bucket(Bucket=BUCKET)
        with serve_engine(EngineConfig(data_dir=home.parent / f"{home.name}-engine", workers=2)) as engine:
            studio = Studio(Environment(home=home), engine_base_url=engine.base_url)
            try:
                studio.save_settings(dataclasses.replace(studio.settings, bucket=BucketSettings(
                    bucket=BUCKET, endpoint_url=s3, region="us-east-1")))
                jobs = [studio.submit(JobRequest(prompt=f"take {n}: a lighthouse at dusk", model="dailies-preview",
                                                 size="1280x720", seconds=4)) for n in range(2)]
                assert studio.tracker.run_until_idle(timeout=120)
                assert all(rec.in_bucket for job in jobs for rec in studio.store.require(job.id).files.values())
            finally:
                studio.close()
    process, url = start_app(home, home.parent / f"{home.name}.log", {**CREDENTIALS, "DAILIES_API_TOKEN": TOKEN})
    try:
        yield BucketApp(url, s3, home, [job.id for job in jobs])
    finally:
        stop_app(process)
        moto.stop()


def test_drop_local_copies_then_compare_plays_from_the_bucket(bucket_app: BucketApp, page: Page) -> None:
    videos = [bucket_app.home / "media" / take / "video.mp4" for take in bucket_app.takes]
    assert all(v.is_file() for v in videos)
    local = [v.read_bytes() for v in videos]
    page.goto(f"{bucket_app.url}/settings")
    expect(page.get_by_role("heading", name="Bucket")).to_be_visible()
    expect(page.get_by_role("textbox", name="Bucket (empty: none)")).to_have_value(BUCKET)
    page.get_by_role("button", name="Test connection").last.click()
    expect(page.get_by_text(f"Bucket {BUCKET} answers and accepts these credentials.")).to_be_visible()
    page.get_by_role("button", name="Drop local copies that are in the bucket").click()
    expect(page.get_by_text("Dropped the local copies of 2 take(s).")).to_be_visible()
    assert not any(v.exists() for v in videos), "the local copies are gone"
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in page.content()

    page.goto(f"{bucket_app.url}/compare?takes={','.join(bucket_app.takes)}")
    page.wait_for_function(
        """([sel, n]) => { const v = [...document.querySelectorAll(sel)];
                          return v.length === n && v.every(x => x.readyState >= 1 && x.duration > 0); }""",
        arg=[PLAYERS, 2], timeout=90_000,
    )
    sources = page.eval_on_selector_all(PLAYERS, "vs => vs.map(v => v.currentSrc)")
    assert all(src.startswith(f"{bucket_app.s3}/{BUCKET}/") and "X-Amz-Signature" in src for src in sources)

    # The pipeline API's file URL sends a script to the same object (after checking its token).
    auth = {"Authorization": f"Bearer {TOKEN}"}
    file_url = f"{bucket_app.url}/api/v1/takes/{bucket_app.takes[0]}/files/video"
    assert httpx.get(file_url).status_code == 401, "no token, no redirect"
    answer = httpx.get(file_url, headers=auth, follow_redirects=True)
    assert answer.status_code == 200 and str(answer.url).startswith(bucket_app.s3)
    assert answer.content == local[0]
