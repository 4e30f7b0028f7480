"""Starting and stopping the app as the README does (`scripts/start`), for the browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from dailies.engine.server import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


class RunningApp:
    def __init__(self, url: str, home: Path, log: Path, pid: int | None = None) -> None:
        self.url, self.home, self.log, self.pid = url, home, log, pid


def answering(process: subprocess.Popen, url: str, log: Path) -> None:
    """Wait until the app's health check answers; an app that exits or stays silent 120 s fails with its log."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)  # polling interval of a deadline loop, not synchronisation
    process.kill()
    raise RuntimeError(f"the app did not answer in 120 s:\n{log.read_text()[-3000:]}")


def start_app(home: Path, log: Path, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DAILIES_"))}
    env.update({"DAILIES_HOME": str(home), **(extra_env or {})})
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "start"), "--server.headless", "true", "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    answering(process, url, log)
    return process, url


def wait_for_run(page) -> None:
    """Wait until the page's script run has finished (Streamlit marks its root `notRunning`)."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=30_000)


def stop_app(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


STREAMLIT = Path(sys.executable).with_name("streamlit")
"""Started directly, not through `scripts/start`, so that a test never reinstalls the shared venv."""


def start_streamlit(home: Path, log: Path, *args: str, env: dict[str, str] | None = None, port: int | None = None,
                    host: str = "127.0.0.1") -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on `port` (a free one if none), waited for until its health check answers;
    its URL names `host`."""
    port = port or free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DAILIES_"))}
    clean.update({"DAILIES_HOME": str(home), "PYTHONPATH": str(ROOT), **(env or {})})
    process = subprocess.Popen(
        [str(STREAMLIT), "run", "app.py", "--server.headless", "true", "--server.port", str(port), *args],
        cwd=ROOT, env=clean, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://{host}:{port}"
    answering(process, url, log)
    return process, url


@contextmanager
def app_on_the_lan(folder: Path, access_token: str, name: str = "dailies.lan") -> Iterator[str]:
    """The app bound to every interface with an access token, teammates reaching it as `name` (named in
    `DAILIES_ALLOWED_HOSTS`); its loopback URL."""
    process, url = start_streamlit(folder / "data", folder / "app.log", "--server.address", "0.0.0.0",
                                   env={"DAILIES_ACCESS_TOKEN": access_token, "DAILIES_ALLOWED_HOSTS": name})
    try:
        yield url
    finally:
        stop_app(process)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])
