"""Through LiteLLM's real proxy, a create whose answer is lost ends in "needs a look", not queued forever.

The engine behind the proxy makes the job and drops the answer; LiteLLM passes the failure on, and
refuses `GET /videos` (400), so the job cannot be found by listing. Before, it stayed "queued 0%"
for ever. The proxy runs from `.venv-litellm` (scripts/ensure-litellm, which scripts/test calls).
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
from dailies.engine import EngineConfig, Faults, serve_engine
from dailies.engine.server import free_port
from dailies.jobs import JobRequest, JobStatus
from dailies.studio import Studio
from dailies.tracker import PollPolicy

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / ".venv-litellm" / "bin" / "litellm"
MASTER_KEY = "sk-dailies-gateway-test-lost-create-0123"


@pytest.fixture
def losing_gateway(tmp_path: Path) -> Iterator[tuple[str, object]]:
    """LiteLLM's proxy on loopback in front of an engine that loses every create's answer."""
    if not PROXY.exists():
        pytest.skip("LiteLLM's proxy is not installed: scripts/test installs it (scripts/ensure-litellm)")
    faults = Faults(rate_lost_create=1.0)
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, faults=faults)) as engine:
        config = tmp_path / "config.yaml"
        config.write_text(
            "model_list:\n"
            "  - model_name: sora-2\n"
            "    litellm_params:\n"
            "      model: openai/sora-2\n"
            f"      api_base: {engine.base_url}\n"
            "      api_key: sk-engine-unused\n"
            "router_settings:\n"
            "  num_retries: 0\n"  # by default its router re-sends a create whose answer was lost: 3 videos
            "general_settings:\n"
            f"  master_key: {MASTER_KEY}\n",
            encoding="utf-8",
        )
        port = free_port()
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "NO_PROXY": "*"}
        log = (tmp_path / "proxy.log").open("wb")
        proc = subprocess.Popen(
            [str(PROXY), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            def proxy_answers() -> bool:
                assert proc.poll() is None, (tmp_path / "proxy.log").read_text(errors="replace")[-3000:]
                try:
                    return httpx.get(f"{base}/health/liveliness", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_until(proxy_answers, 150, "LiteLLM's proxy to start", interval=0.25)
            yield f"{base}/v1", engine
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


@pytest.mark.slow
def test_a_lost_create_through_litellm_needs_a_look_within_the_deadline(losing_gateway, isolated_home) -> None:
    gateway, engine = losing_gateway
    SettingsFile(isolated_home / "settings.json").save(Settings(active_provider="remote"))
    studio = Studio(Environment(home=isolated_home, base_url=gateway, api_key=MASTER_KEY, provider="remote"))
    studio.tracker.policy = PollPolicy(first=0.2, cap=0.5, deadline=60.0)
    job = studio.submit(JobRequest(prompt="a red kite over a beach", model="sora-2", size="1280x720", seconds=4))
    assert job.remote_id is None and job.error.code == "unconfirmed", "kept, not deleted: the engine made it"
    assert len(engine.engine.book.listed()) == 1

    assert studio.tracker.run_until_idle(timeout=90), "it left the queue within its deadline"
    looked = studio.store.require(job.id)
    assert looked.status is JobStatus.NEEDS_LOOK and "list" in looked.error.message, looked.error
    assert len(engine.engine.book.listed()) == 1, "never sent again"
    studio.close()
