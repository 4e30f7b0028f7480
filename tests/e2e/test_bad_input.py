"""Bad input against the app as it runs: nothing escapes the data folder, HTML stays text, a corrupt
store does not stop the app, and a key never reaches the data folder, the logs or a page."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect
from running_app import start_app, stop_app, wait_for_run

from dailies.engine import EngineConfig, serve_engine
from dailies.store import JobStore

pytestmark = pytest.mark.e2e

KEY = "sk-test-SENTINEL-e2e-5d1f0b7a93"


@pytest.mark.parametrize("path", [
    "/app/static/takes/..%2F..%2Fsettings.json/video.mp4",
    "/app/static/takes/..%2Fjobs.json/video.mp4",
    "/app/static/takes/job_0001/..%2F..%2Fjobs.json",
    "/app/static/takes/job_0001/video.mp4%00.json",
    "/app/static/takes/job_0001/settings.json",
    "/app/static/takes/%2E%2E/jobs.json",
])
def test_file_urls_never_leave_the_media_folder(app, path: str) -> None:
    (app.home / "settings.json").write_text("{}")
    response = httpx.get(app.url + path)
    assert response.status_code in (400, 404), (path, response.status_code, response.text[:200])
    assert response.text != "{}"


def test_a_prompt_with_html_shows_as_text(app, page: Page, screenshots) -> None:
    prompt = 'A <b>bold</b> kite <img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
    page.goto(app.url)
    box = page.get_by_role("textbox", name="Prompt", exact=True)
    box.fill(prompt)
    box.press("Control+Enter")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("A <b>bold</b> kite", exact=False).last).to_be_visible()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stVideo]')].some(v => v.duration > 0)",
                           timeout=90_000)
    page.screenshot(path=str(screenshots / "bad-input-html-prompt.png"))
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("b", has_text="bold").count() == 0


def test_a_corrupt_store_is_kept_aside_and_the_app_still_starts(tmp_path, browser, screenshots) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "jobs.json").write_text('{"jobs": {"1": {"id": "job_01", "prom')
    process, url = start_app(home, tmp_path / "app.log")
    try:
        page = browser.new_page()
        page.goto(url)
        expect(page.get_by_role("heading", name="Generate", level=1)).to_be_visible(timeout=30_000)
        warning = page.locator("[data-testid='stSidebar'] [data-testid='stAlert']", has_text="corrupt")
        expect(warning).to_be_visible()
        page.screenshot(path=str(screenshots / "bad-input-corrupt-store.png"))
        backups = list(home.glob("jobs.json.corrupt-*"))
        assert len(backups) == 1 and backups[0].read_text().startswith('{"jobs": {"1"')
        page.close()
    finally:
        stop_app(process)


def test_a_key_appears_nowhere_in_data_logs_or_pages(tmp_path, browser, screenshots) -> None:
    """The app is pointed at a server that needs a key (an engine with auth), and used."""
    home, log = tmp_path / "home", tmp_path / "app.log"
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", api_key=KEY)) as secured:
        process, url = start_app(home, log, {"OPENAI_BASE_URL": secured.base_url, "OPENAI_API_KEY": KEY,
                                             "DAILIES_PROVIDER": "remote"})
        try:
            page = browser.new_page()
            page.goto(url)
            box = page.get_by_role("textbox", name="Prompt", exact=True)
            box.fill("a kite over a beach, static")
            box.press("Control+Enter")
            page.get_by_role("button", name="Generate").click()
            page.wait_for_function(
                "() => [...document.querySelectorAll('[data-testid=stVideo]')].some(v => v.duration > 0)",
                timeout=90_000)
            seen = [page.content()]
            for title in ("Variants", "History", "Compare", "Settings"):
                page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()
                expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
                wait_for_run(page)
                seen.append(page.content())
            expect(page.get_by_text(f"Key: …{KEY[-4:]}", exact=False)).to_be_visible()
            page.screenshot(path=str(screenshots / "bad-input-key-settings.png"))
            page.close()
        finally:
            stop_app(process)
    assert all(KEY not in html for html in seen), "the key is shown on a page"
    assert KEY not in log.read_text(errors="replace"), "the key is in the app's log"
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "jobs.journal" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), f"the key was written to {path}"
    store = JobStore(home / "jobs.json", follow=False)
    try:
        assert [str(job.status) for job in store.all()] == ["completed"], "the take was made and kept"
    finally:
        store.close()
