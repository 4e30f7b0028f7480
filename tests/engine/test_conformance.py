"""The engine as the official `openai` package (3.51.0) sees it: every operation and its error classes."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import openai
import pytest
from PIL import Image
from until import wait_until

from dailies.engine import EngineConfig, Faults, serve_engine


def sdk(base_url: str, key: str = "unused", **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, **kwargs)


def png_bytes(colour=(200, 40, 40), size=(720, 1280)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with serve_engine(EngineConfig(data_dir=tmp_path_factory.mktemp("conformance"), workers=2)) as engine:
        yield engine


@pytest.fixture(scope="module")
def client(running) -> openai.OpenAI:
    return sdk(running.base_url)


@pytest.fixture(scope="module")
def finished(client: openai.OpenAI):
    """One completed video the other tests build on."""
    video = client.videos.create(prompt="a paper kite over a beach, pan right", model="sora-2", seconds="4")
    return client.videos.poll(video.id, poll_interval_ms=100)


def test_models_say_they_are_previews_and_list_soras_names(client: openai.OpenAI) -> None:
    """The Sora quick-start greps the model list for `sora`: the engine lists Sora's names as its previews."""
    models = list(client.models.list())
    assert [m.id for m in models] == ["dailies-preview", "dailies-preview-pro", "sora-2", "sora-2-pro"]
    assert all(m.owned_by == "dailies-local-preview" for m in models)


def test_the_sora_quick_start_runs_and_its_six_seconds_get_a_clear_400(running) -> None:
    import httpx

    listed = httpx.get(f"{running.base_url}/models").text
    assert "sora-2" in listed
    answer = httpx.post(f"{running.base_url}/videos", files={"model": (None, "sora-2"), "prompt": (None, "a kite"),
                                                             "seconds": (None, "6"), "size": (None, "1280x720")})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Invalid seconds '6'. Supported values: 4, 8, 12."


def test_create_and_poll_with_sora_names(client: openai.OpenAI, finished) -> None:
    assert finished.status == "completed" and finished.progress == 100
    assert finished.model == "sora-2" and finished.size == "720x1280" and finished.seconds == "4"
    assert finished.expires_at and finished.completed_at >= finished.created_at
    pro = client.videos.create(prompt="wide desert, static", model="sora-2-pro", size="1792x1024")
    assert pro.model == "sora-2-pro" and pro.status in ("queued", "in_progress")


@pytest.mark.slow
def test_create_with_an_uploaded_reference_and_a_data_url(client: openai.OpenAI, running) -> None:
    import httpx

    uploaded = client.videos.create(prompt="red door, zoom in", input_reference=("door.png", png_bytes(), "image/png"))
    # The SDK only uploads files here; other clients send the reference object, as JSON or as
    # bracketed form fields. The engine reads both.
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes((20, 200, 90))).decode()
    as_json = httpx.post(
        f"{running.base_url}/videos", json={"prompt": "green door", "input_reference": {"image_url": data_url}}
    ).json()
    as_form = httpx.post(
        f"{running.base_url}/videos",
        files={"prompt": (None, "blue door"), "input_reference[image_url]": (None, data_url)},
    ).json()
    fetched = httpx.post(
        f"{running.base_url}/videos",
        json={"prompt": "x", "input_reference": {"image_url": "https://example.com/a.png"}},
    )
    assert fetched.status_code == 400 and "network" in fetched.json()["error"]["message"]
    for video_id in (uploaded.id, as_json["id"], as_form["id"]):
        assert client.videos.poll(video_id, poll_interval_ms=100).status == "completed"


def test_every_content_variant_downloads(client: openai.OpenAI, finished, tmp_path: Path) -> None:
    for variant, magic in (("video", b"ftyp"), ("thumbnail", b"WEBP"), ("spritesheet", b"\xff\xd8\xff")):
        content = client.videos.download_content(finished.id, variant=variant).content
        assert magic in content[:12], variant


def test_list_paginates_with_after_limit_and_order(client: openai.OpenAI) -> None:
    made = [client.videos.create(prompt=f"list page {i}", seconds="4").id for i in range(3)]
    newest_first = [v.id for v in client.videos.list(limit=2, order="desc")]  # auto-paginates
    assert newest_first.index(made[2]) < newest_first.index(made[1]) < newest_first.index(made[0])
    page = client.videos.list(limit=1, order="asc")
    assert len(page.data) == 1 and page.has_more
    after = client.videos.list(limit=2, order="asc", after=page.data[0].id)
    assert after.data[0].id != page.data[0].id
    oldest_first = [v.id for v in client.videos.list(order="asc")]
    assert oldest_first == sorted(oldest_first, key=newest_first.index, reverse=True)


@pytest.mark.slow
def test_remix_extend_edit(client: openai.OpenAI, running, finished) -> None:
    from dailies.client import VideosClient

    remix = client.videos.remix(finished.id, prompt="the same kite at night, neon")
    assert remix.remixed_from_video_id == finished.id
    clip = client.videos.download_content(finished.id).content
    uploaded = client.videos.extend(prompt="and on", seconds="4", video=("clip.mp4", clip, "video/mp4"))
    edit_upload = client.videos.edit(prompt="reverse it", video=("clip.mp4", clip, "video/mp4"))
    # SDK 3.51.0 refuses `video={"id": ...}` before sending (its file extraction wants a file), so
    # the by-id form goes as the bracketed field `video[id]` that the API defines, from our client.
    ours = VideosClient(running.base_url)
    extension = ours.extend(prompt="the kite keeps flying", seconds=4, video=finished.id)
    edit = ours.edit(prompt="black and white, mirror", video=finished.id)
    for video_id in (remix.id, uploaded.id, edit_upload.id, extension["id"], edit["id"]):
        done = client.videos.poll(video_id, poll_interval_ms=100)
        assert done.status == "completed", done.error
    assert client.videos.retrieve(extension["id"]).seconds == "8", "an extension reports the stitched total"


def test_characters(client: openai.OpenAI, finished) -> None:
    clip = client.videos.download_content(finished.id).content
    character = client.videos.create_character(name="Kite", video=("kite.mp4", clip, "video/mp4"))
    assert character.id and character.name == "Kite"
    assert client.videos.get_character(character.id).name == "Kite"


@pytest.mark.slow
def test_delete(client: openai.OpenAI) -> None:
    video = client.videos.poll(client.videos.create(prompt="to be deleted").id, poll_interval_ms=100)
    deleted = client.videos.delete(video.id)
    assert deleted.deleted and deleted.object == "video.deleted"
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"prompt": "x", "size": "640x480"}, "size"),
        ({"prompt": "x", "seconds": "5"}, "seconds"),
        ({"prompt": "x", "model": "sora-2", "size": "1792x1024"}, "size"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x", "model": "gpt-4o"}, "model"),
    ],
)
def test_bad_requests_are_400s_that_name_the_param(client: openai.OpenAI, kwargs: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(**kwargs)
    assert caught.value.body["param"] == param
    assert caught.value.body["type"] == "invalid_request_error"


def test_pro_sizes_message_names_the_allowed_values(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="720x1280, 1280x720"):
        client.videos.create(prompt="x", model="sora-2", size="1024x1792")


def test_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="No video found with id 'video_nope'"):
        client.videos.retrieve("video_nope")


def test_a_wrong_key_is_a_401(tmp_path: Path) -> None:
    with serve_engine(EngineConfig(data_dir=tmp_path, api_key="sk-right-key-000")) as engine:
        with pytest.raises(openai.AuthenticationError) as caught:
            sdk(engine.base_url, "sk-wrong-key-111").videos.list()
        assert caught.value.body["code"] == "invalid_api_key"
        assert "sk-right" not in str(caught.value.body)
        assert sdk(engine.base_url, "sk-right-key-000").videos.list().data == []


def test_rate_limits_are_429s_with_retry_after_and_create_nothing(tmp_path: Path) -> None:
    with serve_engine(EngineConfig(data_dir=tmp_path, faults=Faults(rate_429=1.0, retry_after_s=2))) as engine:
        with pytest.raises(openai.RateLimitError) as caught:
            sdk(engine.base_url).videos.create(prompt="busy")
        assert caught.value.response.headers["retry-after"] == "2"
        assert engine.engine.book.listed() == []


@pytest.mark.slow
def test_expired_content_is_a_clear_404(tmp_path: Path) -> None:
    with serve_engine(EngineConfig(data_dir=tmp_path, lifetime_s=0)) as engine:
        client = sdk(engine.base_url)
        video = client.videos.poll(client.videos.create(prompt="short lived").id, poll_interval_ms=100)
        with pytest.raises(openai.NotFoundError, match="expired"):
            client.videos.download_content(video.id)


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_poll_hint_is_sent_while_running(tmp_path: Path) -> None:
    """A job that takes at least 3 s is still running when asked about at once, and every answer about
    a running job says when to ask again; a finished job's answer does not."""
    import httpx

    with serve_engine(EngineConfig(data_dir=tmp_path, min_job_s=3.0)) as engine:
        created = httpx.post(f"{engine.base_url}/videos", files={"prompt": (None, "hint me")}).json()
        response = httpx.get(f"{engine.base_url}/videos/{created['id']}")
        assert response.json()["status"] in ("queued", "in_progress")
        assert 250 <= int(response.headers["openai-poll-after-ms"]) <= 5000
        done = sdk(engine.base_url).videos.poll(created["id"], poll_interval_ms=100)
        assert done.status == "completed"
        assert "openai-poll-after-ms" not in httpx.get(f"{engine.base_url}/videos/{created['id']}").headers


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_server_without_hint_or_progress_can_be_played(tmp_path: Path) -> None:
    """The polling benchmark's servers: opt-in faults drop the poll hint and hold progress at 0 until done."""
    import httpx

    faults = Faults(omit_poll_hint=True, hide_progress=True)
    with serve_engine(EngineConfig(data_dir=tmp_path, min_job_s=3.0, faults=faults)) as engine:
        created = httpx.post(f"{engine.base_url}/videos", files={"prompt": (None, "no hint")}).json()
        running_job = engine.engine.book.get(created["id"])
        wait_until(lambda: running_job.progress > 1, 30, "the engine to render part of the job")
        response = httpx.get(f"{engine.base_url}/videos/{created['id']}")
        assert response.json()["status"] == "in_progress"
        assert response.json()["progress"] == 0
        assert "openai-poll-after-ms" not in response.headers
        done = sdk(engine.base_url).videos.poll(created["id"], poll_interval_ms=100)
        assert (done.status, done.progress) == ("completed", 100)


@pytest.mark.slow
def test_job_times_drawn_from_a_range_follow_the_seed(tmp_path: Path) -> None:
    """The same seed gives the same job time, inside the range (so two clients can be raced fairly)."""
    import httpx

    config = EngineConfig(data_dir=tmp_path, job_s_range=(20.0, 90.0), workers=1)
    with serve_engine(config) as engine:
        ids = [
            httpx.post(f"{engine.base_url}/videos", files={"prompt": (None, f"take {n}"), "seed": (None, seed)}).json()[
                "id"
            ]
            for n, seed in enumerate(("7", "7", "8"))
        ]
        times = [engine.engine.book.job_seconds(engine.engine.book.get(video_id)) for video_id in ids]
    assert times[0] == times[1] != times[2]
    assert all(20.0 <= t <= 90.0 for t in times)
