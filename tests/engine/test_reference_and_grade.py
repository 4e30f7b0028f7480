"""The engine honours what a storyboard's continuity relies on, over its HTTP API: a reference image is
the first frame, and a "colour grade:" clause keeps one palette whatever other light words a shot has."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from until import wait_until

from dailies.client import VideosClient
from dailies.engine import EngineConfig, serve_engine
from dailies.media import first_frame
from dailies.storyboard.assemble import mean_delta_e


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with (serve_engine(EngineConfig(data_dir=tmp_path_factory.mktemp("reference"), workers=2)) as engine,
          VideosClient(engine.base_url) as videos):
        yield videos


def render(client: VideosClient, folder: Path, prompt: str, reference: bytes | None = None) -> Path:
    video = client.create(prompt=prompt, model="dailies-preview", size="1280x720", seconds=4,
                          input_reference=("ref.png", reference, "image/png") if reference else None)
    done = wait_until(lambda: (v := client.retrieve(video["id"]))["status"] in ("completed", "failed") and v,
                      60, f"{video['id']} to finish")
    assert done["status"] == "completed", done
    path = folder / f"{video['id']}.mp4"
    client.download(video["id"], "video", path)
    return path


def frame_at(path: Path, seconds: float) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time >= seconds:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError("the clip is shorter than that")


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_first_frame_is_the_reference_image(client: VideosClient, tmp_path: Path) -> None:
    picture = np.zeros((720, 1280, 3), np.uint8)
    picture[:, :640] = (200, 60, 40)  # a red half and a teal half: nothing the engine would paint itself
    picture[:, 640:] = (20, 150, 150)
    data = io.BytesIO()
    Image.fromarray(picture).save(data, format="PNG")
    video = render(client, tmp_path, "a lighthouse at night", data.getvalue())
    assert mean_delta_e(picture, first_frame(video)) < 3  # the watermark and a few motes aside
    assert mean_delta_e(picture, frame_at(video, 2.0)) > 20  # then the shot's own scene


@pytest.mark.slow
def test_a_colour_grade_clause_keeps_the_palette_across_shots(client: VideosClient, tmp_path: Path) -> None:
    sky = (slice(0, 200), slice(None))  # the top of the frame: sky, where the palette shows most

    def sky_of(prompt: str) -> np.ndarray:
        return frame_at(render(client, tmp_path, prompt), 2.0)[sky]

    graded = [sky_of(f"{words}. colour grade: night") for words in ("a street at sunset", "a field at noon")]
    ungraded = [sky_of(words) for words in ("a street at sunset", "a field at noon")]
    assert mean_delta_e(*graded) < mean_delta_e(*ungraded) / 3
