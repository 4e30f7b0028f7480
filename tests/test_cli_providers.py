"""The command line reaches native providers as the app does: added by kind, keyed from the environment,
chosen with --provider; each run is a real `python -m dailies` process against a local vendor fake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fakes.runway import KEY as RUNWAY_KEY
from tests.fakes.runway import FakeRunway

ROOT = Path(__file__).resolve().parents[1]


def cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DAILIES_", "RUNWAYML_"))}
    clean.update({"DAILIES_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(ROOT), clean.get("PYTHONPATH", "")]),
                  **env})
    return subprocess.run([sys.executable, "-m", "dailies", *args], cwd=ROOT, env=clean, text=True,
                          capture_output=True, timeout=180)


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_a_runway_provider_added_from_the_cli_makes_a_take_with_its_own_key(tmp_path: Path) -> None:
    with FakeRunway() as fake:
        added = cli(tmp_path, "add-provider", "rw", "--kind", "runway", "--base-url", fake.base_url)
        assert added.returncode == 0, added.stderr

        keyless = cli(tmp_path, "providers", "--test")
        (rw,) = [line for line in lines(keyless.stdout) if line["provider"] == "rw"]
        assert keyless.returncode == 1 and "set RUNWAYML_API_SECRET" in rw["problem"] and not rw["ok"]
        assert fake.requests == [], "without its key nothing is sent"

        made = cli(tmp_path, "submit", "a red kite", "--provider", "rw", "--model", "gen4.5", "--size", "1280x720",
                   "--seconds", "5", "--wait", "--timeout", "120", RUNWAYML_API_SECRET=RUNWAY_KEY)
        assert made.returncode == 0, made.stderr
        final = lines(made.stdout)[-1]
        assert final["status"] == "completed" and final["files"] == ["thumbnail", "video"]
        assert {r.headers.get("Authorization") for r in fake.requests} - {None} == {f"Bearer {RUNWAY_KEY}"}
    assert RUNWAY_KEY not in (tmp_path / "settings.json").read_text()
