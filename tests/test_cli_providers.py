"""The command line reaches native providers as the app does: defined where keys live (or added by kind on
their own API), keyed from the environment, chosen with --provider; each run is a real `python -m dailies`
process against a local vendor fake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from shell_free import shell_free

from tests.fakes.runway import KEY as RUNWAY_KEY
from tests.fakes.runway import FakeRunway
from tests.server_side import variables

ROOT = Path(__file__).resolve().parents[1]


def cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = shell_free("RUNWAYML_")
    clean.update({"DAILIES_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(ROOT), clean.get("PYTHONPATH", "")]),
                  **env})
    return subprocess.run([sys.executable, "-m", "dailies", *args], cwd=ROOT, env=clean, text=True,
                          capture_output=True, timeout=180)


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_runway_provider_defined_where_keys_live_makes_a_take_from_the_cli_with_its_own_key(tmp_path: Path) -> None:
    with FakeRunway() as fake:
        defined = variables("rw", "runway", fake.base_url)
        keyless = cli(tmp_path, "providers", "--test", **defined)
        (rw,) = [line for line in lines(keyless.stdout) if line["provider"] == "rw"]
        assert keyless.returncode == 1 and "set RUNWAYML_API_SECRET" in rw["problem"] and not rw["ok"]
        assert rw["defined"] == "server" and rw["key_from"] == ["RUNWAYML_API_SECRET"]
        assert fake.requests == [], "without its key nothing is sent"

        made = cli(tmp_path, "submit", "a red kite", "--provider", "rw", "--model", "gen4.5", "--size", "1280x720",
                   "--seconds", "5", "--wait", "--timeout", "120", RUNWAYML_API_SECRET=RUNWAY_KEY, **defined)
        assert made.returncode == 0, made.stderr
        final = lines(made.stdout)[-1]
        assert final["status"] == "completed" and final["files"] == ["thumbnail", "video"]
        assert {r.headers.get("Authorization") for r in fake.requests} - {None} == {f"Bearer {RUNWAY_KEY}"}
    assert not (tmp_path / "settings.json").exists()


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_vendor_added_from_the_cli_is_on_its_own_api(tmp_path: Path) -> None:
    added = cli(tmp_path, "add-provider", "kling", "--kind", "fal", FAL_KEY="")
    assert added.returncode == 0, added.stderr
    listed = cli(tmp_path, "providers", FAL_KEY="")
    (kling,) = [line for line in lines(listed.stdout) if line["provider"] == "kling"]
    assert kling["defined"] == "settings" and kling["key_from"] == ["FAL_KEY"] and "set FAL_KEY" in kling["problem"]
    saved = json.loads((tmp_path / "settings.json").read_text())["extra_providers"]
    assert [(p["name"], p["kind"], p["base_url"], p["key_from"]) for p in saved] == [("kling", "fal", "", "")]


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_veo_provider_is_listed_with_its_project_and_an_api_key_alone_says_what_to_define(tmp_path: Path) -> None:
    from tests.fakes.google import LOCATION, PROJECT, FakeVertexVeo, service_account_file

    with FakeVertexVeo() as fake:
        key_file = service_account_file(fake, tmp_path)
        defined = {**variables("veo", "google", fake.base_url), "DAILIES_PROVIDER_VEO_PROJECT": PROJECT,
                   "DAILIES_PROVIDER_VEO_LOCATION": LOCATION, "DAILIES_PROVIDER_VEO_CREDENTIALS_FILE": str(key_file),
                   **variables("keyonly", "google", fake.base_url), "GOOGLE_API_KEY": "AIza-team-key-0001"}
        listed = cli(tmp_path, "providers", "--test", **defined)
        found = {line["provider"]: line for line in lines(listed.stdout)}
        veo, keyonly = found["veo"], found["keyonly"]
        assert (veo["project"], veo["location"], veo["credentials_file"]) == (PROJECT, LOCATION, str(key_file))
        assert veo["ok"] and veo["defined"] == "server" and "problem" not in veo
        assert not keyonly["ok"] and "DAILIES_PROVIDER_KEYONLY_PROJECT" in keyonly["problem"]
        assert "GOOGLE_API_KEY is not used" in keyonly["problem"]
        assert "PRIVATE KEY" not in listed.stdout and "AIza-team-key-0001" not in listed.stdout
        assert len(fake.exchanges) == 1 and fake.creates(":predictLongRunning") == []

        # Sound off from the CLI: sent as chosen, and the cost is the silent one.
        made = cli(tmp_path, "submit", "a tram at night", "--provider", "veo", "--model", "veo-3.1-generate-001",
                   "--size", "1280x720", "--seconds", "4", "--no-sound", **defined)
        assert made.returncode == 0, made.stderr
        assert fake.creates(":predictLongRunning")[0].body["parameters"]["generateAudio"] is False
        from dailies.store import JobStore

        (job,) = JobStore(tmp_path / "jobs.json").all()
        assert job.params["audio"] is False and job.cost_estimate == 4 * 0.20
