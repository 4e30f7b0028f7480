"""The workbench through LiteLLM's real proxy (1.110.2) in front of the embedded engine, on loopback.

LiteLLM is the one gateway that routes the OpenAI Videos API to other vendors, and it has habits of
its own: it drops a multipart `video[id]`, serves the MP4 for every `variant`, refuses `GET /videos`
(400) and has no `DELETE` route (405), and answers errors FastAPI's way. Every operation it routes
must work; the rest must show as unsupported, once, without loops. The proxy runs from
`.venv-litellm` (scripts/ensure-litellm, which scripts/test calls).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from until import wait_until

from dailies.config import Environment, Settings, SettingsFile
from dailies.engine.server import free_port
from dailies.errors import NotSupported
from dailies.jobs import JobKind, JobRequest, JobStatus
from dailies.media import probe_video, sha256_file, sniff_type
from dailies.studio import Studio

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / ".venv-litellm" / "bin" / "litellm"
MASTER_KEY = "sk-dailies-gateway-test-0123456789abcdef"


@pytest.fixture(scope="module")
def gateway(shared_engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """LiteLLM's proxy on a loopback port, routing `sora-2` to the engine as an `openai/` model."""
    if not PROXY.exists():
        pytest.skip("LiteLLM's proxy is not installed: scripts/test installs it (scripts/ensure-litellm)")
    folder = tmp_path_factory.mktemp("litellm")
    config = folder / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: sora-2\n"
        "    litellm_params:\n"
        "      model: openai/sora-2\n"
        f"      api_base: {shared_engine.base_url}\n"
        "      api_key: sk-engine-unused\n"
        "general_settings:\n"
        f"  master_key: {MASTER_KEY}\n",
        encoding="utf-8",
    )
    port = free_port()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "NO_PROXY": "*"}
    log = (folder / "proxy.log").open("wb")
    proc = subprocess.Popen(
        [str(PROXY), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        def proxy_answers() -> bool:
            assert proc.poll() is None, (folder / "proxy.log").read_text(errors="replace")[-3000:]
            try:
                return httpx.get(f"{base}/health/liveliness", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(proxy_answers, 150, "LiteLLM's proxy to start", interval=0.25)
        yield f"{base}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def studio(gateway: str, isolated_home: Path) -> Iterator[Studio]:
    SettingsFile(isolated_home / "settings.json").save(Settings(active_provider="remote"))
    shared = Studio(Environment(home=isolated_home, base_url=gateway, api_key=MASTER_KEY, provider="remote"))
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
