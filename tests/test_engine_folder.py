"""One engine per engine folder: a second one is refused, and the CLI uses the one already running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from shell_free import shell_free
from until import wait_until

from dailies.client import VideosClient
from dailies.engine import EngineConfig, EngineFolderBusy, serve_engine
from dailies.engine.folder import running_engine
from dailies.engine.server import free_port

ROOT = Path(__file__).resolve().parents[1]


def process_env(home: Path) -> dict[str, str]:
    env = shell_free()
    env.update({"DAILIES_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    return env


def test_a_second_engine_on_one_folder_is_refused_and_named(tmp_path: Path) -> None:
    folder = tmp_path / "engine"
    with serve_engine(EngineConfig(data_dir=folder)) as first:
        assert running_engine(folder)[:2] == (True, first.base_url)
        with pytest.raises(EngineFolderBusy) as refused, serve_engine(EngineConfig(data_dir=folder)):
            pass
        assert first.base_url in str(refused.value) and str(folder) in str(refused.value)
        httpx.get(f"{first.base_url}/models", timeout=5).raise_for_status()  # the first one is unharmed
    assert running_engine(folder)[:2] == (False, None)
    with serve_engine(EngineConfig(data_dir=folder)):  # free again once the first has stopped
        pass


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_cli_uses_the_engine_already_running_on_its_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = home / "engine"
    port = free_port()
    engine = subprocess.Popen(
        [sys.executable, "-m", "dailies.engine", "--port", str(port), "--data-dir", str(folder)],
        cwd=ROOT, env=process_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1"

        def engine_recorded() -> bool:
            assert engine.poll() is None, engine.stderr.read()
            return running_engine(folder)[:2] == (True, url)

        wait_until(engine_recorded, 60, "the engine to record itself in its folder")
        cli = subprocess.run(
            [sys.executable, "-m", "dailies", "submit", "a paper boat on a pond", "--wait", "--timeout", "120"],
            cwd=ROOT, env=process_env(home), capture_output=True, text=True, timeout=180,
        )
        assert cli.returncode == 0, cli.stderr
        assert f"using the engine already running on this data folder at {url}" in cli.stderr
        submitted = json.loads(cli.stdout.splitlines()[0])
        finished = json.loads(cli.stdout.splitlines()[-1])
        assert finished["status"] == "completed" and "video" in finished["files"]
        assert [v["id"] for v in VideosClient(url).list_all()] == [submitted["remote_id"]], "made by that engine"
    finally:
        os.killpg(engine.pid, signal.SIGKILL)
        engine.wait(10)
    assert running_engine(folder)[:2] == (False, None), "a killed engine leaves its folder free"
