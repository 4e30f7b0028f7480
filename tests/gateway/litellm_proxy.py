"""LiteLLM's real proxy on a loopback port, routing `sora-2` to an engine as an `openai/` model, for the gateway
tests. It runs from `.venv-litellm` (scripts/ensure-litellm, which scripts/test calls)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.process import stop, wait_answering
from dailies.config import Environment, Settings, SettingsFile
from dailies.engine.server import free_port
from dailies.studio import Studio

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / ".venv-litellm" / "bin" / "litellm"


@contextmanager
def litellm_proxy(folder: Path, engine_url: str, master_key: str, *, router: str = "") -> Iterator[str]:
    """The proxy in `folder` (its config and log) in front of the engine at `engine_url`, reached with
    `master_key`; `router`, YAML lines of `router_settings` if any. Yields its `/v1` URL; skips the test where
    the proxy is not installed."""
    if not PROXY.exists():
        pytest.skip("LiteLLM's proxy is not installed: scripts/test installs it (scripts/ensure-litellm)")
    config = folder / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: sora-2\n"
        "    litellm_params:\n"
        "      model: openai/sora-2\n"
        f"      api_base: {engine_url}\n"
        "      api_key: sk-engine-unused\n"
        + (f"router_settings:\n{router}" if router else "")
        + "general_settings:\n"
        f"  master_key: {master_key}\n",
        encoding="utf-8",
    )
    port = free_port()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "NO_PROXY": "*"}
    with (folder / "proxy.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(PROXY), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_answering(proc, f"{base}/health/liveliness", folder / "proxy.log", "LiteLLM's proxy",
                           timeout_s=150, interval_s=0.25)
            yield f"{base}/v1"
        finally:
            stop(proc)


def studio_through(gateway: str, home: Path, master_key: str) -> Studio:
    """A studio in `home` whose active provider is the gateway at `gateway`, as Settings would save it."""
    SettingsFile(home / "settings.json").save(Settings(active_provider="remote"))
    return Studio(Environment(home=home, base_url=gateway, api_key=master_key, provider="remote"))
