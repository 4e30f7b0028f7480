"""The app as started by `streamlit run app.py`: its mounted engine and media route refuse foreign pages and hosts.

A real server process (the worktree's code, the shared venv), reached over loopback with httpx.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dailies.engine.server import free_port

ROOT = Path(__file__).resolve().parents[1]
STREAMLIT = Path(sys.executable).with_name("streamlit")


def start_streamlit(home: Path, log: Path, *args: str, env: dict[str, str] | None = None
                    ) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free port, waited for until its health check answers."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DAILIES_"))}
    clean.update({"DAILIES_HOME": str(home), "PYTHONPATH": str(ROOT), **(env or {})})
    process = subprocess.Popen(
        [str(STREAMLIT), "run", "app.py", "--server.headless", "true", "--server.port", str(port), *args],
        cwd=ROOT, env=clean, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)  # polling interval of a deadline loop, not synchronisation
    process.kill()
    raise RuntimeError(f"the app did not answer in 120 s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("boundary")
    process, url = start_streamlit(home / "data", home / "app.log")
    try:
        yield url
    finally:
        stop(process)


def test_a_cross_origin_form_post_to_the_mounted_engine_is_refused(app_url: str) -> None:
    form = {"prompt": "started by evil.example", "model": "sora-2", "seconds": "4"}
    answer = httpx.post(f"{app_url}/engine/v1/videos", data=form, headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "cross_origin"
    # The same form without an Origin (not what a browser sends, but possible for a local program): no token.
    answer = httpx.post(f"{app_url}/engine/v1/videos", data=form)
    assert answer.status_code == 401
    assert httpx.get(f"{app_url}/engine/v1/videos").status_code == 401, "nobody without the token reads prompts"


def test_a_foreign_host_is_refused_by_the_engine_and_the_media_route(app_url: str) -> None:
    rebound = {"Host": "evil.example"}
    engine = httpx.get(f"{app_url}/engine/v1/videos", headers=rebound)
    assert engine.status_code == 421
    assert engine.json()["error"]["code"] == "wrong_host"
    media = httpx.get(f"{app_url}/app/static/takes/video_x/video.mp4", headers=rebound)
    assert media.status_code == 421
    # Loopback names are this machine: the media route answers (404, no such take), not refused.
    assert httpx.get(f"{app_url}/app/static/takes/video_x/video.mp4",
                     headers={"Host": "localhost"}).status_code == 404
