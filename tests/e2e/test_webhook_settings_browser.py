"""Settings → Webhooks in the browser, on the app's own mounted engine: Register sends the engine's test
event through the app's receiver, and a take ordered afterwards is announced there by `video.completed`."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect
from running_app import start_streamlit, stop_app
from until import wait_until

pytestmark = pytest.mark.e2e
TOKEN = "webhook-settings-token-0123456789"


@pytest.fixture(scope="module")
def hooked_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("hooks-home")
    process, url = start_streamlit(home, home.parent / f"{home.name}.log", env={"DAILIES_API_TOKEN": TOKEN})
    try:
        yield url
    finally:
        stop_app(process)


def test_register_at_the_mounted_engine_and_see_its_deliveries(hooked_app: str, page: Page) -> None:
    page.goto(f"{hooked_app}/settings")
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    reached = page.get_by_role("textbox", name="Reached at")
    expect(reached).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+$"))
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text(re.compile(r"Last delivery \d+ s ago: video\.completed for a video not followed"))
           ).to_be_visible(timeout=30_000)
    expect(page.get_by_text("polling slowed to the safety net", exact=False)).to_be_visible()
    expect(page.get_by_text(re.compile(r"/hooks/engine$"))).to_be_visible()

    auth = {"Authorization": f"Bearer {TOKEN}"}
    made = httpx.post(f"{hooked_app}/api/v1/takes", headers=auth, timeout=30,
                      json={"prompt": "a paper boat on a pond", "seconds": 4}).json()
    wait_until(lambda: httpx.get(f"{hooked_app}/api/v1/takes/{made['id']}", headers=auth).json()["status"]
               == "completed", 90, "the take to complete")
    page.reload()
    expect(page.get_by_text(f"video.completed for {made['id']}", exact=False)).to_be_visible()

    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("button", name="Register")).to_be_visible()
    expect(page.get_by_text(re.compile(r"/hooks/engine$"))).to_have_count(0)
