"""Starting and stopping the app as the README does (`scripts/start`), for the browser tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from shell_free import shell_free

from bench.process import stop as stop_app
from bench.process import wait_answering
from dailies.engine.server import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

    from dailies.studio import Studio

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@dataclass
class ApiApp:
    """An app process reached through its pipeline API (`/api/v1`) with a bearer token."""

    url: str
    token: str
    timeout: float

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        """A request to the API with the token; `headers` are added to it."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=self.timeout, **kwargs)


class RunningApp:
    def __init__(self, url: str, home: Path, log: Path, pid: int | None = None) -> None:
        self.url, self.home, self.log, self.pid = url, home, log, pid


def answering(process: subprocess.Popen, url: str, log: Path) -> None:
    """Wait until the app's health check answers; an app that exits or stays silent 120 s fails with its log."""
    wait_answering(process, f"{url}/_stcore/health", log, "the app", timeout_s=120, interval_s=0.3)


def start_app(home: Path, log: Path, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = shell_free()
    env.update({"DAILIES_HOME": str(home), **(extra_env or {})})
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "start"), "--server.headless", "true", "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    answering(process, url, log)
    return process, url


@contextmanager
def running(home: Path, start: Callable[[Path, Path], tuple[subprocess.Popen, str]] = start_app
            ) -> Iterator[RunningApp]:
    """The app `start(home, log)` starts on the data folder `home` (its log beside it, `<home>.log`), until the
    block ends."""
    log = home.parent / f"{home.name}.log"
    process, url = start(home, log)
    try:
        yield RunningApp(url, home, log, process.pid)
    finally:
        stop_app(process)


@contextmanager
def headless_chromium(*names: str) -> Iterator[Browser]:
    """Debian's headless Chromium (through Playwright), resolving each of `names` to this machine."""
    from playwright.sync_api import sync_playwright

    rules = [f"--host-resolver-rules={', '.join(f'MAP {name} 127.0.0.1' for name in names)}"] if names else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *rules], headless=True)
        try:
            yield browser
        finally:
            browser.close()


def sign_in_with_the_token(page: Page, base: str, token: str) -> None:
    """At `base`, a page shows only the sign-in, no page content, until the team's access token is entered at
    `/access`; then the page's content is there."""
    page.goto(base)
    page.get_by_text("sign in with the team's access token").wait_for()
    assert page.locator(".st-key-prompt").count() == 0, "no page content before sign-in"
    page.goto(f"{base}/access")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.locator(".st-key-prompt").wait_for()


@contextmanager
def studio_beside(home: Path) -> Iterator[Studio]:
    """A studio in `home` on an engine of its own (its folder beside `home`), to make takes before the app starts
    on `home`; the studio and the engine are closed after the block."""
    from dailies.config import Environment
    from dailies.engine import EngineConfig, serve_engine
    from dailies.studio import Studio

    with serve_engine(EngineConfig(data_dir=home.parent / f"{home.name}-engine", workers=2)) as engine:
        studio = Studio(Environment(home=home), engine_base_url=engine.base_url)
        try:
            yield studio
        finally:
            studio.close()


def new_context(browser: Browser) -> BrowserContext:
    """A browser context of its own (cookies, storage), 1440x1000, each step waited for up to 30 s: on a loaded
    machine a page's first render can take longer than Playwright's default."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(30_000)
    return context


def new_tab(browser: Browser) -> tuple[BrowserContext, Page]:
    """A `new_context` and its first page: one person's browser."""
    context = new_context(browser)
    return context, context.new_page()


def choose(page: Page, select: Locator, option: str, *, exact: bool = False) -> None:
    """Open a select box and click one of its options, then wait for the run it starts. A rerun that lands as the
    list opens (the sidebar's once-a-minute look, on a slow machine) closes it again: then it is opened once more."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for _ in range(3):
        wait_for_run(page)
        select.click()
        try:
            page.get_by_role("option", name=option, exact=exact).click(timeout=5_000)
            wait_for_run(page)
            return
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    raise AssertionError(f"the option {option!r} never showed in its list")


def check_option(page: Page, option: Locator, what: str) -> None:
    """Click a radio-like option (a pick, a segmented control's choice) until it shows as checked, then wait for
    the run: a click that lands as a run redraws its control is lost with the old control. Never clicked once it
    shows checked (a second click on a pick takes it back)."""
    from playwright.sync_api import expect

    for _ in range(3):
        wait_for_run(page)
        if option.get_attribute("aria-checked") == "true":
            return
        option.click()
        try:
            expect(option).to_have_attribute("aria-checked", "true", timeout=15_000)
            wait_for_run(page)
            return
        except AssertionError:
            continue
    raise AssertionError(f"{what} never showed as checked")


def wait_for_run(page) -> None:
    """Wait until the page's script run has finished (Streamlit marks its root `notRunning`)."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=30_000)


STREAMLIT = Path(sys.executable).with_name("streamlit")
"""Started directly, not through `scripts/start`, so that a test never reinstalls the shared venv."""


def start_streamlit(home: Path, log: Path, *args: str, env: dict[str, str] | None = None, port: int | None = None,
                    host: str = "127.0.0.1") -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on `port` (a free one if none), waited for until its health check answers;
    its URL names `host`."""
    port = port or free_port()
    clean = shell_free()
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
