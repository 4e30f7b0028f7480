"""The app as started by `streamlit run app.py`: its mounted engine and media route refuse foreign pages and
hosts, beyond loopback nothing is served without the access token, and people's text never becomes a link.

A real server process (the worktree's code, the shared venv), reached over loopback with httpx and Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect
from running_app import sign_in_with_the_token, start_streamlit, stop_app

from dailies.jobs import Job, JobError, JobStatus
from dailies.store import JobStore
from tests.until import wait_until


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("boundary")
    seed_markdown_job(home / "data")
    process, url = start_streamlit(home / "data", home / "app.log")
    try:
        yield url
    finally:
        stop_app(process)


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


ACCESS = "team-access-token-for-the-test"
EXPOSED_LOG: list = []


@pytest.fixture(scope="module")
def exposed_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app bound to every interface (beyond loopback), with an access token configured."""
    home = tmp_path_factory.mktemp("exposed")
    process, url = start_streamlit(home / "data", home / "app.log", "--server.address", "0.0.0.0",
                                   env={"DAILIES_ACCESS_TOKEN": ACCESS})
    EXPOSED_LOG.append(home / "app.log")
    try:
        yield url
    finally:
        stop_app(process)


def test_beyond_loopback_the_start_says_so(exposed_url: str) -> None:
    said = "bound to 0.0.0.0 (beyond loopback): sign-in with DAILIES_ACCESS_TOKEN is required"
    wait_until(lambda: said in EXPOSED_LOG[-1].read_text(), 30, "the start's warning in the log")
    log = EXPOSED_LOG[-1].read_text()
    assert ACCESS not in log


def test_beyond_loopback_no_file_is_served_without_the_access_token(exposed_url: str) -> None:
    media = f"{exposed_url}/app/static/takes/video_x/video.mp4"
    assert httpx.get(media).status_code == 401
    wrong = httpx.post(f"{exposed_url}/access", data={"token": "guess"}, follow_redirects=False)
    assert wrong.status_code == 401 and "dailies_access" not in wrong.cookies
    signed = httpx.post(f"{exposed_url}/access", data={"token": ACCESS}, follow_redirects=False)
    assert signed.status_code == 303
    cookie = signed.cookies["dailies_access"]
    assert ACCESS not in cookie, "the cookie holds a digest, never the token"
    # Signed in, the media route looks for the file (404: there is none) instead of refusing.
    assert httpx.get(media, cookies={"dailies_access": cookie}).status_code == 404


LINK = "[click me](http://evil.example/phish)"
IMAGE = "![pixel](http://evil.example/pixel.png)"


def seed_markdown_job(home) -> None:
    """A take in a grid whose axis label, prompt, notes and provider error are markdown (a real TinyDB file)."""
    store = JobStore(home / "jobs.json")
    store.insert(Job(id="video_md", provider="engine", model="dailies-preview", prompt=f"a boat {IMAGE} {LINK}",
                     size="720x1280", seconds=4, status=JobStatus.FAILED, group_id="grid_md",
                     axes={LINK: IMAGE}, notes=LINK, error=JobError(f"The provider said: {IMAGE} {LINK}", "bad")))
    store.close()


def test_markdown_written_by_people_or_providers_makes_no_link_or_image(app_url: str, page) -> None:
    page.goto(f"{app_url}/variants?group=grid_md&blind=0")
    take = page.locator(".st-key-take_video_md")
    take.get_by_text("The provider said:", exact=False).wait_for()
    # Shown as written; an invisible word joiner after "http:" keeps the URL from becoming a link.
    take.get_by_text(f"{LINK}: {IMAGE}".replace("://", ":\u2060//"), exact=False).wait_for()
    take.get_by_text(f"a boat {IMAGE} {LINK}".replace("://", ":\u2060//"), exact=False).wait_for()
    expect(take.get_by_placeholder("Notes")).to_have_value(LINK)
    main = page.locator("[data-testid='stMain']")
    assert main.locator("a[href*='evil.example']").count() == 0
    assert main.locator("img[src*='evil.example']").count() == 0


def test_beyond_loopback_a_page_shows_only_the_sign_in_until_the_token_is_entered(exposed_url: str, page) -> None:
    sign_in_with_the_token(page, exposed_url, ACCESS)
    assert page.get_by_text("sign in with the team's access token").count() == 0
