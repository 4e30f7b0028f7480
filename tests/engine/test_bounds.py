"""What the engine accepts is bounded (clear 400s, nothing kept), and expired assets are deleted."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image
from until import wait_until

from dailies.engine import EngineConfig, serve_engine
from dailies.engine.api import MAX_REFERENCE, MAX_SOURCE_SECONDS, MAX_SOURCE_SIDE


def mp4(width: int, height: int, frames: int, fps: int = 1) -> bytes:
    """A real small H.264 file."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        for n in range(frames):
            frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="rgb24")
            frame.pts = n
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return out.getvalue()


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, "PNG")
    return out.getvalue()


def refused(answer: httpx.Response, code: str) -> str:
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    return error["message"]


def no_files_kept(engine) -> bool:
    return not any(engine.engine.book.uploads_dir.iterdir())


def test_an_over_limit_reference_is_a_clear_400_and_nothing_is_kept(engine) -> None:
    form = {"prompt": "a kite", "model": "sora-2", "size": "720x1280", "seconds": "4"}
    big = b"\x89PNG" + b"\0" * MAX_REFERENCE
    answer = httpx.post(f"{engine.base_url}/videos", data=form, files={"input_reference": ("big.png", big)})
    assert "20 MB" in refused(answer, "file_too_large")
    answer = httpx.post(f"{engine.base_url}/videos", data=form,
                        files={"input_reference": ("huge.png", png(5000, 5000), "image/png")})
    assert "5000x5000" in refused(answer, "image_too_large")
    assert httpx.get(f"{engine.base_url}/videos").json()["data"] == []
    assert no_files_kept(engine)


@pytest.mark.parametrize(("video", "said"), [
    (lambda: mp4(MAX_SOURCE_SIDE + 80, 64, 1), f"up to {MAX_SOURCE_SIDE} pixels"),
    (lambda: mp4(64, 64, int(MAX_SOURCE_SECONDS) + 5), f"up to {MAX_SOURCE_SECONDS:.0f} s"),
])
def test_an_over_limit_source_video_is_a_clear_400_and_nothing_is_kept(engine, video, said: str) -> None:
    answer = httpx.post(f"{engine.base_url}/videos/edits", data={"prompt": "black and white"},
                        files={"video": ("source.mp4", video(), "video/mp4")})
    assert said in refused(answer, "video_too_large")
    assert httpx.get(f"{engine.base_url}/videos").json()["data"] == []
    assert no_files_kept(engine)


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_expired_assets_are_deleted(tmp_path: Path) -> None:
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", lifetime_s=0)) as running:
        created = httpx.post(f"{running.base_url}/videos", json={"prompt": "a kite", "seconds": "4"}).json()
        wait_until(lambda: httpx.get(f"{running.base_url}/videos/{created['id']}").json()["status"] == "completed",
                   120, "the render to finish", interval=0.2)
        folder = running.engine.book.folder(created["id"])
        assert (folder / "video.mp4").exists()
        assert running.engine.book.sweep_expired() == 1
        assert not folder.exists()
        answer = httpx.get(f"{running.base_url}/videos/{created['id']}/content")
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "video_expired"
