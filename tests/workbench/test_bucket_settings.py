"""Settings → Bucket against a real S3 API on loopback (moto): configure it, test the connection, see a
refusal explained, drop the local copy of a take that is safely in the bucket, and play it from a
presigned URL."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from page_helpers import no_exception
from s3_server import BUCKET, KEY_ID, SECRET, moto_s3, refuse_unknown_keys
from until import wait_until

from dailies.jobs import JobRequest, JobStatus


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):
    with moto_s3(monkeypatch) as url:
        yield url


def fill(at, endpoint: str) -> None:
    at.text_input(key="bucket_name").input(BUCKET)
    at.text_input(key="bucket_endpoint").input(endpoint)
    at.text_input(key="bucket_region").input("us-east-1")


@pytest.mark.slow
def test_configure_test_clean_up_and_play_from_the_bucket(open_page, studio_of, s3) -> None:
    from components.runtime import media_url

    at = no_exception(open_page("settings.py"))
    fill(at, s3)
    at.button(key="bucket_test").click().run()
    assert any(f"Bucket {BUCKET} answers" in s.value for s in at.success)
    fill(at, s3)
    at.button(key="bucket_save").click().run()
    no_exception(at)
    saved = json.loads((studio_of().home / "settings.json").read_text())
    assert saved["bucket"]["bucket"] == BUCKET and saved["bucket"]["endpoint_url"] == s3
    assert SECRET not in json.dumps(saved) and KEY_ID not in json.dumps(saved), "credentials are never stored"

    shared = studio_of()
    job = shared.submit(JobRequest(prompt="a lantern on a jetty", model="dailies-preview", size="1280x720", seconds=4))
    wait_until(lambda: shared.store.require(job.id).status is JobStatus.COMPLETED
               and shared.store.require(job.id).files["video"].in_bucket, 90, "the take to reach the bucket")
    local = shared.store.require(job.id)
    assert media_url(local).startswith("/app/static/takes/"), "played from the local copy while it is here"

    at.button(key="bucket_clean_up").click().run()
    no_exception(at)
    assert any("Dropped the local copies of 1 take(s)" in s.value for s in at.success)
    after = shared.store.require(job.id)
    assert not shared.media.present(after.files["video"])
    url = media_url(after)
    assert url is not None and url.startswith(s3) and "X-Amz-Signature" in url
    answer = httpx.get(url)
    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == local.files["video"].sha256

    page = open_page("generate.py")  # the take's card, as the session that made it sees it
    page.session_state["my_jobs"] = [job.id]
    no_exception(page.run())
    (video,) = page.get("video")
    assert video.proto.url.startswith(s3) and "X-Amz-Signature" in video.proto.url, "it plays from the bucket"
    (download,) = [b for b in page.get("link_button") if b.proto.label == "Download"]
    assert httpx.get(download.proto.url).content == answer.content, "Download fetches the same file"


def test_a_refused_connection_test_says_why(open_page, s3) -> None:
    refuse_unknown_keys(s3)
    at = no_exception(open_page("settings.py"))
    fill(at, s3)
    at.button(key="bucket_test").click().run()
    errors = [e.value for e in at.error]
    # A HEAD answer has no body: the status says it (the upload test sees InvalidAccessKeyId by name).
    assert any("refused the connection test: 403" in e and "AWS credentials" in e for e in errors), errors
    assert not any(SECRET in e for e in errors)


@pytest.mark.slow
def test_a_take_the_bucket_refuses_is_complete_here_and_says_so(open_page, studio_of, s3) -> None:
    at = no_exception(open_page("settings.py"))
    fill(at, s3)
    at.button(key="bucket_save").click().run()
    refuse_unknown_keys(s3)
    shared = studio_of()
    job = shared.submit(JobRequest(prompt="a kite over dunes", model="dailies-preview", size="1280x720", seconds=4))
    wait_until(lambda: "bucket_error" in shared.store.require(job.id).params, 90, "the bucket to refuse the take")
    assert shared.store.require(job.id).status is JobStatus.COMPLETED
    page = open_page("generate.py")
    page.session_state["my_jobs"] = [job.id]
    no_exception(page.run())
    (video,) = page.get("video")
    assert video.proto.url.startswith("/app/static/takes/"), "it plays from the local copy"
    warnings = [w.value for w in page.warning]
    assert any("Not in the bucket yet" in w and "InvalidAccessKeyId" in w for w in warnings), warnings
