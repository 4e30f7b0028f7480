"""The app as the README starts it (`scripts/start`), on the embedded engine, and a headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from running_app import CHROMIUM, SCREENSHOTS, RunningApp, headless_chromium, new_context, running

# `expect` waits as long as every other step of a page (`new_context`'s default timeout), not Playwright's 5 s: in a
# parallel run, apps and Chromiums on other workers share the 2 cores, and a page's first render can take longer.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    with running(tmp_path_factory.mktemp("app-home")) as started:
        yield started


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest):
    """Debian's headless Chromium, resolving the names a test module lists in `RESOLVED_NAMES` (a LAN name, a
    foreign site) to this machine."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium")
    with headless_chromium(*getattr(request.module, "RESOLVED_NAMES", ())) as launched:
        yield launched


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    context = new_context(browser)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
