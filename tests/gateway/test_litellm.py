"""The workbench through LiteLLM's real proxy (1.110.2) in front of the embedded engine, on loopback.

LiteLLM is the one gateway that routes the OpenAI Videos API to other vendors, and it has habits of
its own: it drops a multipart `video[id]`, serves the MP4 for every `variant`, refuses `GET /videos`
(400) and has no `DELETE` route (405), and answers errors FastAPI's way. Every operation it routes
must work; the rest must show as unsupported, once, without loops. The proxy runs from
`.venv-litellm` (scripts/ensure-litellm, which scripts/test calls).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dailies.errors import NotSupported
from dailies.jobs import JobKind, JobRequest, JobStatus
from dailies.media import probe_video, sha256_file, sniff_type
from dailies.studio import Studio
from tests.gateway.litellm_proxy import litellm_proxy, studio_through

MASTER_KEY = "sk-dailies-gateway-test-0123456789abcdef"


@pytest.fixture(scope="module")
def gateway(shared_engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """LiteLLM's proxy on a loopback port, routing `sora-2` to the engine as an `openai/` model."""
    with litellm_proxy(tmp_path_factory.mktemp("litellm"), shared_engine.base_url, MASTER_KEY) as url:
        yield url


@pytest.fixture
def studio(gateway: str, isolated_home: Path) -> Iterator[Studio]:
    shared = studio_through(gateway, isolated_home, MASTER_KEY)
    yield shared
    shared.close()


def finished(studio: Studio, job_id: str) -> None:
    assert studio.tracker.run_until_idle(timeout=120)
    job = studio.store.require(job_id)
    assert job.status is JobStatus.COMPLETED, (job.status, job.error)


@pytest.mark.slow
def test_every_operation_litellm_routes_works_and_the_rest_show_as_unsupported(studio: Studio) -> None:
    provider = studio.provider("remote")
    assert studio.capabilities("remote").models == ("sora-2",)

    take = studio.submit(JobRequest(prompt="a red kite over a beach, pan right", model="sora-2",
                                    size="1280x720", seconds=4))
    finished(studio, take.id)
    job = studio.store.require(take.id)
    video = studio.media.resolve(job.files["video"].path)
    assert probe_video(video).width == 1280
    # LiteLLM answered the thumbnail and spritesheet with the MP4 again: neither was kept as an image;
    # the thumbnail was made here from the video, so the take still has one.
    thumbnail = studio.media.resolve(job.files["thumbnail"].path)
    assert sniff_type(thumbnail) == "image/webp" and thumbnail.suffix == ".webp"
    assert sha256_file(thumbnail) == job.files["thumbnail"].sha256
    assert "spritesheet" not in job.files
    assert not any(p.suffix == ".mp4" and p != video for p in video.parent.iterdir())

    for kind, prompt in ((JobKind.REMIX, "the same kite at night"), (JobKind.EXTEND, "the kite flies on"),
                         (JobKind.EDIT, "black and white")):
        made = studio.submit(studio.request_from(take.id, kind, prompt, seconds=4 if kind is JobKind.EXTEND else None))
        finished(studio, made.id)
        assert studio.store.require(made.id).model == "sora-2"
    extension = next(j for j in studio.store.all() if j.kind is JobKind.EXTEND)
    assert probe_video(studio.media.resolve(extension.files["video"].path)).duration == pytest.approx(8, abs=0.2)

    # No list and no delete: learned from the server's answer, said plainly, and not asked again.
    with pytest.raises(NotSupported, match="does not offer a list of its videos"):
        list(provider.list_videos())
    requests_before = studio.tracker.stats.requests
    studio.delete(take.id)
    caps = studio.capabilities("remote")
    assert (caps.list_videos, caps.delete) == (False, False)
    assert "405" in caps.unsupported["delete"] and "Method Not Allowed" in caps.unsupported["delete"]
    assert studio.store.get(take.id) is None, "deleted here although the gateway cannot delete there"
    with pytest.raises(NotSupported):
        provider.delete(extension.remote_id or "")
    assert studio.tracker.stats.requests == requests_before


@pytest.mark.slow
def test_a_gateway_error_reads_as_one_sentence(studio: Studio) -> None:
    from dailies.errors import APIError

    with pytest.raises(APIError) as caught:
        studio.provider("remote").client.create(prompt="a kite", model="no-such-model", seconds=4)
    said = str(caught.value)
    assert said.startswith("400 · ") and "400 · 400" not in said
