"""The CLI next to a running app, on one data folder: it uses the app's engine (one engine per folder),
though that engine answers only whoever holds the token made at the app's start."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import httpx
from running_app import ROOT, start_streamlit, stop_app
from shell_free import shell_free
from until import wait_until

from dailies.engine.folder import running_engine
from dailies.store import JobStore


def test_the_cli_beside_the_app_uses_the_apps_engine_and_its_jobs_show_in_the_app(tmp_path: Path) -> None:
    home = tmp_path / "home"
    process, url = start_streamlit(home, tmp_path / "app.log")
    try:
        folder = home / "engine"
        record = wait_until(lambda: running_engine(folder).url and running_engine(folder), 60,
                            "the app's engine to say where it answers")
        assert record.url == f"{url}/engine/v1"
        assert httpx.get(f"{record.url}/models", timeout=10).status_code == 401, "no token, no engine"
        assert stat.S_IMODE((folder / "engine.url").stat().st_mode) == 0o600, "only this user reads the token"

        env = shell_free()
        env.update({"DAILIES_HOME": str(home), "PYTHONPATH": str(ROOT)})
        cli = subprocess.run(
            [sys.executable, "-m", "dailies", "submit", "a paper boat on a pond", "--wait", "--timeout", "120"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
        )
        assert cli.returncode == 0, cli.stderr
        assert f"using the engine already running on this data folder at {record.url}" in cli.stderr
        finished = json.loads(cli.stdout.splitlines()[-1])
        assert finished["status"] == "completed" and "video" in finished["files"]
        assert record.key and record.key not in cli.stdout + cli.stderr, "the token is never printed"

        store = JobStore(home / "jobs.json")
        try:
            assert [job.id for job in store.all()] == [finished["job"]], "one store: the app's data folder"
        finally:
            store.close()
        journal = (home / "jobs.journal").read_text()
        assert record.key not in journal, "the token is never stored with the jobs"
    finally:
        stop_app(process)
