"""The app as the README starts it (`scripts/start`), on the embedded engine, and a headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from running_app import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, RunningApp, start_app, stop_app

# `expect` waits as long as every other step of a page (`set_default_timeout` below), not Playwright's 5 s: in a
# parallel run, apps and Chromiums on other workers share the 2 cores, and a page's first render can take longer.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    home = tmp_path_factory.mktemp("app-home")
    log = home.parent / f"{home.name}.log"
    process, url = start_app(home, log)
    try:
        yield RunningApp(url, home, log, process.pid)
    finally:
        stop_app(process)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
