"""A real S3 API on loopback for tests: moto in server mode (`ThreadedMotoServer`), with the team's bucket made."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from dailies.engine.server import free_port

BUCKET = "team-takes"
KEY_ID = "testing-key-id"
SECRET = "testing-secret"


@contextlib.contextmanager
def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Start moto on a free loopback port with AWS credentials in the environment; yields its endpoint URL."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    try:
        yield url
    finally:
        httpx.post(f"{url}/moto-api/reset-auth", content=b"inf")  # credentials unchecked again (process-wide)
        httpx.post(f"{url}/moto-api/reset")
        server.stop()


def refuse_unknown_keys(url: str) -> None:
    """From now on moto checks access keys: ours is unknown to it, so every request is refused (403)."""
    httpx.post(f"{url}/moto-api/reset-auth", content=b"0").raise_for_status()


def object_bytes(url: str, key: str) -> bytes:
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
