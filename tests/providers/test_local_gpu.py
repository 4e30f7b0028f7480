"""docs/local-gpu.md's recipe, run against the embedded engine standing in for vLLM-Omni serving Wan 2.2.

The commands are read from the page itself (the `vllm serve` line for the model and port, the stand-in's
`python -m dailies.engine` line, the `add-provider` and `submit` lines), so the page cannot drift from what
is tested. The stand-in is a real engine process serving only that model and answering remix, extensions,
edits and characters as a server without those routes; the provider is added and the take made by real
`python -m dailies` processes, as the page says.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from shell_free import shell_free
from until import wait_until

from dailies.config import Environment
from dailies.engine.server import free_port
from dailies.errors import NotSupported
from dailies.jobs import JobKind, JobStatus
from dailies.media import probe_video
from dailies.studio import Studio

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "local-gpu.md"


def doc_commands(prefix: str) -> list[list[str]]:
    """Each command line of the page that starts with `prefix`, split as a shell would."""
    return [shlex.split(line.strip()) for line in DOC.read_text().splitlines() if line.strip().startswith(prefix)]


def only(found: list[list[str]], what: str) -> list[str]:
    assert len(found) == 1, f"docs/local-gpu.md should show one {what} line, found {len(found)}"
    return found[0]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def clean_env(home: Path) -> dict[str, str]:
    env = shell_free()
    env.update({"DAILIES_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    return env


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dailies", *args], cwd=ROOT, env=clean_env(home), text=True,
                          capture_output=True, timeout=240)


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(the served model, the page's port, the stand-in's base URL): the page's engine line, run on a free port."""
    serve = only(doc_commands("vllm serve "), "vllm serve")
    model, doc_port = serve[2], option(serve, "--port")
    engine = only(doc_commands("python -m dailies.engine"), "stand-in engine")
    assert option(engine, "--served-model-name") == model and option(engine, "--port") == doc_port
    port = str(free_port())
    argv = [port if arg == doc_port else arg for arg in engine[1:]]
    process = subprocess.Popen([sys.executable, *argv, "--data-dir", str(tmp_path / "gpu-box")], cwd=ROOT,
                               env=clean_env(tmp_path / "gpu-home"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    base_url = f"http://127.0.0.1:{port}/v1"

    def answers() -> bool:
        try:
            return httpx.get(f"{base_url}/models", timeout=2).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None

    try:
        wait_until(answers, 60, "the stand-in's first answer")
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield model, doc_port, base_url
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_recipe_adds_the_gpu_server_makes_a_take_and_offers_no_remix(
    stand_in: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, doc_port, base_url = stand_in
    listed = httpx.get(f"{base_url}/models", timeout=5).json()["data"]
    assert [m["id"] for m in listed] == [model], "a one-model server lists only its model"

    home = tmp_path / "home"
    add = only(doc_commands("python -m dailies add-provider"), "add-provider")
    assert option(add, "--base-url") == f"http://127.0.0.1:{doc_port}/v1", "the page's URL is the tunnel's end"
    port = base_url.rsplit(":", 1)[1].removesuffix("/v1")
    added = cli(home, *[arg.replace(f":{doc_port}/", f":{port}/") for arg in add[3:]])
    assert added.returncode == 0, added.stderr
    name = add[4]
    saved = json.loads((home / "settings.json").read_text())["extra_providers"]
    assert [(p["name"], p["kind"], p["base_url"], p["key_from"]) for p in saved] == [(name, "openai_compat", base_url,
                                                                                        "")]

    submit = only(doc_commands("python -m dailies submit"), "submit")
    assert option(submit, "--provider") == name and option(submit, "--model") == model
    made = cli(home, *submit[3:], "--timeout", "180")
    assert made.returncode == 0, made.stderr
    final = [json.loads(line) for line in made.stdout.splitlines() if line.startswith("{")][-1]
    assert final["status"] == "completed" and "video" in final["files"], final

    monkeypatch.setenv("DAILIES_HOME", str(home))
    for variable in [v for v in os.environ if v.startswith(("OPENAI_", "DAILIES_")) and v != "DAILIES_HOME"]:
        monkeypatch.delenv(variable)
    studio = Studio(Environment.load(), engine_base_url=base_url)
    try:
        job = studio.store.get(final["job"])
        assert job is not None and job.status is JobStatus.COMPLETED and job.model == model
        assert probe_video(studio.media.resolve(job.files["video"].path)).codec == "h264", "a real MP4"
        assert studio.capabilities(name).supports(JobKind.REMIX), "not known before the server says so"
        for kind, word in ((JobKind.REMIX, "remixes"), (JobKind.EXTEND, "extensions")):
            with pytest.raises(NotSupported, match=f"does not offer {word}"):
                studio.submit(studio.request_from(job.id, kind, "the same boat at night", 4), name)
            caps = studio.capabilities(name)
            assert not caps.supports(kind) and f"does not offer {word}" in caps.unsupported[str(kind)]
        made_there = httpx.get(f"{base_url}/videos", timeout=5).json()["data"]
        assert len(made_there) == 1, "a refused remix or extension made nothing at the server"
    finally:
        studio.close()


def test_the_open_weights_model_names_the_page_shows_are_offered_as_video_models() -> None:
    """The page says a served name with `wan` or `ltx` in it is offered (vLLM-Omni lists the Hugging Face id)."""
    from dailies.providers.openai_compat import looks_like_video_model

    serve = only(doc_commands("vllm serve "), "vllm serve")
    for model in (serve[2], "Wan-AI/Wan2.2-TI2V-5B-Diffusers", "Lightricks/LTX-2"):
        assert looks_like_video_model(model), model
    assert not looks_like_video_model("Qwen/Qwen2.5-Omni-7B")
