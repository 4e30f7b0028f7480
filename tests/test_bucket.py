"""Outputs in the team's bucket, against a real S3 API on loopback (moto in server mode, started here):
the real engine renders, the real tracker downloads, verifies and uploads; an upload interrupted midway
is retried by the tracker; a bucket that refuses the credentials leaves the job complete locally with a
clear message; the clean-up drops local copies that are safely in the bucket, and the take then plays
from a presigned URL."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.exceptions import EndpointConnectionError
from s3_server import BUCKET, KEY_ID, SECRET, moto_s3, object_bytes, refuse_unknown_keys
from until import wait_until

from dailies.config import BucketSettings, Environment
from dailies.engine import EngineConfig, serve_engine
from dailies.jobs import JobRequest, JobStatus
from dailies.media import sha256_file
from dailies.studio import Studio


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_s3(monkeypatch) as url:
        yield url


@contextlib.contextmanager
def bucket_studio(tmp_path: Path, endpoint: str) -> Iterator[Studio]:
    """The engine on loopback and a studio whose Settings point at the moto bucket, its tracker running."""
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2)) as engine:
        studio = Studio(Environment(home=tmp_path / "home"), engine_base_url=engine.base_url)
        settings = dataclasses.replace(studio.settings, bucket=BucketSettings(
            bucket=BUCKET, endpoint_url=endpoint, prefix="takes/", region="us-east-1"))
        studio.save_settings(settings)
        studio.start()
        try:
            yield studio
        finally:
            studio.close()


def take() -> JobRequest:
    return JobRequest(prompt="a paper boat on a pond", model="dailies-preview", size="720x1280", seconds=4)


def in_bucket(studio: Studio, job_id: str) -> bool:
    job = studio.store.require(job_id)
    return job.status is JobStatus.COMPLETED and bool(job.files) and all(r.in_bucket for r in job.files.values())


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_each_verified_file_goes_up_right_after_its_download(tmp_path: Path, s3: str) -> None:
    with bucket_studio(tmp_path, s3) as studio:
        job = studio.submit(take())
        wait_until(lambda: in_bucket(studio, job.id), 90, "the take to be in the bucket")
        done = studio.store.require(job.id)
        assert set(done.files) >= {"video", "thumbnail"}
        for record in done.files.values():
            assert record.bucket_key == f"takes/{record.path}"
            body = object_bytes(s3, record.bucket_key)
            assert hashlib.sha256(body).hexdigest() == record.sha256, "the object is the verified file"
            assert sha256_file(studio.media.resolve(record.path)) == record.sha256, "the local copy stays"
        assert "bucket_error" not in done.params
        # Saved settings name the bucket and never a credential.
        saved = (studio.home / "settings.json").read_text()
        assert BUCKET in saved and SECRET not in saved and KEY_ID not in saved


def test_a_large_file_goes_up_in_parts_with_its_checksum(tmp_path: Path, s3: str) -> None:
    from boto3.s3.transfer import TransferConfig

    from dailies.bucket import Bucket, BucketError
    from dailies.jobs import FileRecord

    media = tmp_path / "media" / "job_x"
    media.mkdir(parents=True)
    big = media / "video.mp4"
    big.write_bytes(bytes(range(256)) * (12 * 2**20 // 256))  # 12 MiB: two parts of 5 MiB and a third
    record = FileRecord("job_x/video.mp4", big.stat().st_size, sha256_file(big), "video/mp4")
    bucket = Bucket(BucketSettings(bucket=BUCKET, endpoint_url=s3, region="us-east-1"),
                    transfer=TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20))
    parts: list[int] = []
    network = {"down": True}

    def count_and_cut(request: object, **_: object) -> None:
        if network["down"]:  # the connection drops while parts are sent (boto's own retry meets it too)
            raise EndpointConnectionError(endpoint_url=s3)
        parts.append(1)

    bucket.client.meta.events.register("before-send.s3.UploadPart", count_and_cut)
    with pytest.raises(BucketError, match="could not be reached"):
        bucket.upload(big, record)
    assert not bucket.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads"), "the broken upload was aborted"
    assert sha256_file(big) == record.sha256, "the local copy is untouched"
    network["down"] = False
    uploaded = bucket.upload(big, record)
    assert len(parts) == 3, "sent again as a multipart upload of 3 parts"
    assert uploaded.bucket_etag and uploaded.bucket_etag.endswith("-3"), "the ETag of a 3-part object"
    assert bucket.holds(uploaded)
    assert hashlib.sha256(object_bytes(s3, uploaded.bucket_key)).hexdigest() == record.sha256


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_an_interrupted_upload_is_retried_by_the_tracker(tmp_path: Path, s3: str) -> None:
    with bucket_studio(tmp_path, s3) as studio:
        bucket = studio.bucket()
        assert bucket is not None
        network = {"down": True, "cuts": 0}

        def cut(request: object, **_: object) -> None:
            if network["down"]:  # the connection drops as the object is sent (boto's own retry meets it too)
                network["cuts"] += 1
                raise EndpointConnectionError(endpoint_url=s3)

        bucket.client.meta.events.register("before-send.s3.PutObject", cut)
        job = studio.submit(take())
        wait_until(lambda: "bucket_error" in studio.store.require(job.id).params, 90, "the upload to fail once")
        network["down"] = False
        assert network["cuts"] >= 1
        failed = studio.store.require(job.id)
        assert failed.status is JobStatus.COMPLETED, "complete locally although the upload failed"
        assert "could not be reached" in failed.params["bucket_error"]
        video = failed.files["video"]
        assert sha256_file(studio.media.resolve(video.path)) == video.sha256, "the local copy is untouched"
        wait_until(lambda: in_bucket(studio, job.id), 60, "the tracker to retry the upload")
        done = studio.store.require(job.id)
        assert "bucket_error" not in done.params
        assert studio.tracker.stats.upload_errors >= 1 and studio.tracker.stats.uploads >= 1
        assert hashlib.sha256(object_bytes(s3, done.files["video"].bucket_key)).hexdigest() == video.sha256


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_bucket_that_refuses_the_credentials(tmp_path: Path, s3: str) -> None:
    refuse_unknown_keys(s3)
    with bucket_studio(tmp_path, s3) as studio:
        job = studio.submit(take())
        wait_until(lambda: "bucket_error" in studio.store.require(job.id).params, 90, "the bucket to refuse")
        done = studio.store.require(job.id)
        assert done.status is JobStatus.COMPLETED and done.error is None, "the job is complete locally"
        message = done.params["bucket_error"]
        assert "refused" in message and "InvalidAccessKeyId" in message and "AWS credentials" in message
        assert SECRET not in message
        assert not any(r.in_bucket for r in done.files.values())
        assert studio.media.verify(done.files["video"]), "the local copy is whole"
        assert studio.tracker.upload_failing(job.id), "another try is scheduled"
        bucket = studio.bucket()
        assert bucket is not None
        with pytest.raises(Exception, match="AWS credentials"):
            bucket.test_connection()


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_clean_up_then_play_from_a_presigned_url(tmp_path: Path, s3: str) -> None:
    from dailies.bucket import needs_upload

    with bucket_studio(tmp_path, s3) as studio:
        job = studio.submit(take())
        wait_until(lambda: in_bucket(studio, job.id), 90, "the take to be in the bucket")
        local = studio.store.require(job.id)
        assert studio.admin.drop_bucketed_copies() == 1
        after = studio.store.require(job.id)
        video = after.files["video"]
        assert not studio.media.present(video), "the local copy is gone"
        assert video.in_bucket and not needs_upload(after, studio.media)
        assert studio.tracker.resume() == 0, "not sent back to download: it plays from the bucket"
        bucket = studio.bucket()
        assert bucket is not None
        url = bucket.presigned_url(video)
        assert url and "X-Amz-Signature" in url and SECRET not in url
        answer = httpx.get(url)
        assert answer.status_code == 200
        assert hashlib.sha256(answer.content).hexdigest() == local.files["video"].sha256


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_clean_up_keeps_a_copy_whose_object_is_gone(tmp_path: Path, s3: str) -> None:
    with bucket_studio(tmp_path, s3) as studio:
        job = studio.submit(take())
        wait_until(lambda: in_bucket(studio, job.id), 90, "the take to be in the bucket")
        done = studio.store.require(job.id)
        boto3.client("s3", endpoint_url=s3, region_name="us-east-1").delete_object(
            Bucket=BUCKET, Key=done.files["video"].bucket_key)
        assert studio.admin.drop_bucketed_copies() == 0
        assert studio.media.verify(done.files["video"])


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_age_clean_up_keeps_what_the_bucket_holds_playable(tmp_path: Path, s3: str) -> None:
    with bucket_studio(tmp_path, s3) as studio:
        job = studio.submit(take())
        wait_until(lambda: in_bucket(studio, job.id), 90, "the take to be in the bucket")
        done = studio.store.require(job.id)
        assert studio.takes.clean_up(0) == 1
        after = studio.store.require(job.id)
        assert not studio.media.present(done.files["video"]), "the local copy is gone"
        assert after.files == done.files, "the bucket's keys and ETags are kept, so the take still plays"
        bucket = studio.bucket()
        assert bucket is not None
        answer = httpx.get(bucket.presigned_url(after.files["video"]))
        assert hashlib.sha256(answer.content).hexdigest() == done.files["video"].sha256
        assert studio.takes.clean_up(0) == 0, "nothing local is left to remove"


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_an_assembled_board_goes_to_the_bucket_too(tmp_path: Path, s3: str) -> None:
    from dailies.storyboard import Storyboards, Style

    with bucket_studio(tmp_path, s3) as studio:
        boards = Storyboards(studio)
        board = boards.create("To the bucket", Style(subject="a red kite"), takes_per_shot=1)
        board = boards.add_shot(boards.add_shot(board.id, "one").id, "two")
        board = boards.launch(board.id)
        takes = [shot.takes[0] for shot in board.shots]
        wait_until(lambda: all(in_bucket(studio, t) for t in takes), 90, "the shots' takes")
        for shot in boards.get(board.id).shots:
            board = boards.pick(board.id, shot.id, shot.takes[0])
        assembly = boards.assembly(boards.assemble(board.id))
        assert assembly is not None
        wait_until(lambda: in_bucket(studio, assembly.id), 30, "the assembly to be in the bucket")
        video = studio.store.require(assembly.id).files["video"]
        assert hashlib.sha256(object_bytes(s3, video.bucket_key)).hexdigest() == video.sha256
