"""Helpers for the native-provider tests: follow a job through the real SDK until it settles."""

from __future__ import annotations

from pathlib import Path

import until
from google.oauth2.credentials import Credentials
from PIL import Image

from dailies.jobs import FileRecord, JobRequest, JobStatus
from dailies.media import probe_video, sha256_file
from dailies.providers.base import RemoteVideo, VideoProvider
from dailies.providers.google import GoogleVeoProvider
from tests.fakes.google import LOCATION, PROJECT, TOKEN, FakeVertexVeo


def follow(provider: VideoProvider, remote_id: str, *, max_polls: int = 20) -> list[RemoteVideo]:
    """Refresh until the job is final; each poll advances the fake one step, so no waiting is needed."""
    seen = [provider.refresh(remote_id)]
    while seen[-1].status.is_active and len(seen) < max_polls:
        seen.append(provider.refresh(remote_id))
    assert not seen[-1].status.is_active, f"still {seen[-1].status} after {max_polls} polls"
    return seen


def wait_until(condition, what: str, deadline_s: float = 60.0, every_s: float = 0.05):
    """`until.wait_until` with this folder's argument order (what first, then the deadline)."""
    return until.wait_until(condition, deadline_s, what, interval=every_s)


def assert_real_mp4(path: Path, sha256: str) -> None:
    """The file is a playable video and its recorded digest is the file's."""
    assert path.is_file() and path.stat().st_size > 1000
    assert sha256_file(path) == sha256
    info = probe_video(path)
    assert info.frames >= 1 and info.codec == "h264"


def follow_to_video(provider: VideoProvider, remote_id: str, path: Path) -> tuple[list[RemoteVideo], FileRecord]:
    """Follow the take until it settles, then download its video to `path`: a real MP4 with its digest recorded."""
    seen = follow(provider, remote_id)
    record = provider.download(remote_id, "video", path)
    assert_real_mp4(path, record.sha256)
    return seen, record


def small_png(path: Path, colour: tuple[int, int, int] = (40, 40, 200)) -> Path:
    """A 32x18 PNG: a reference image under every vendor's inline cap."""
    Image.new("RGB", (32, 18), colour).save(path)
    return path


def request(model: str, size: str, seconds: int, prompt: str = "a lighthouse at dusk, waves", **kw) -> JobRequest:
    return JobRequest(prompt=prompt, model=model, size=size, seconds=seconds, **kw)


def veo(fake: FakeVertexVeo, **kw: object) -> GoogleVeoProvider:
    """A provider in the fake's project with an access token the fake knows (no token exchange)."""
    return GoogleVeoProvider(project=PROJECT, location=LOCATION, credentials=Credentials(token=TOKEN),
                             base_url=fake.base_url, **kw)  # type: ignore[arg-type]


__all__ = ["JobStatus", "assert_real_mp4", "follow", "follow_to_video", "request", "small_png", "veo", "wait_until"]
