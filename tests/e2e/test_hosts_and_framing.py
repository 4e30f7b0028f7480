"""In Chromium, another site gets nothing of the workbench: a name rebound to 127.0.0.1 (DNS rebinding) gets a
421 and no page, a page on another port cannot frame the workbench, and a take in its `<video>` does not load;
a teammate who reaches the app by its configured name (`DAILIES_ALLOWED_HOSTS`) signs in and works.

Chromium resolves `evil.example`, `dailies.lan` and `other.lan` to 127.0.0.1 (`--host-resolver-rules`), as a
rebinding DNS server or the LAN's DNS would; the foreign page is served by a tiny `http.server` on another port.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from running_app import (
    app_on_the_lan,
    port_of,
    running,
    sign_in_with_the_token,
    start_streamlit,
    wait_for_run,
)

from tests.fakes._server import render_mp4

pytestmark = pytest.mark.e2e

TAKE = "video_framing"
ACCESS = "team-access-token-for-the-lan"
RESOLVED_NAMES = ("evil.example", "dailies.lan", "other.lan")


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as configured by default (loopback), holding one take's video."""
    home = tmp_path_factory.mktemp("framing")
    take = home / "data" / "media" / TAKE
    take.mkdir(parents=True)
    (take / "video.mp4").write_bytes(render_mp4("landscape"))
    with running(home / "data", start_streamlit) as app:
        yield app.url


@pytest.fixture(scope="module")
def foreign(app_url: str) -> Iterator[str]:
    """Another application on this machine (another port): a page framing the workbench, one playing its take."""
    pages = {
        "/frame.html": f'<!doctype html><title>foreign</title><iframe id="app" src="{app_url}/history" '
                       'width="800" height="600"></iframe>',
        "/video.html": f'<!doctype html><title>foreign</title><video id="take" muted preload="auto" '
                       f'src="{app_url}/app/static/takes/{TAKE}/video.mp4"></video>',
    }

    class Foreign(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Foreign)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()



def test_a_rebound_name_gets_no_workbench(app_url: str, page) -> None:
    answer = page.goto(f"http://evil.example:{port_of(app_url)}/history")
    assert answer is not None and answer.status == 421
    assert page.locator("[data-testid='stApp']").count() == 0
    assert "Dailies" not in page.title() and "History" not in page.content()


def test_another_page_cannot_frame_the_workbench(app_url: str, foreign: str, page) -> None:
    def framed_document(frame) -> bool:  # the frame's first navigation: to the workbench, or to Chromium's error page
        return frame.parent_frame is not None and frame.url not in ("", "about:blank")

    with page.expect_response(lambda r: r.url.startswith(f"{app_url}/history")) as answered, \
            page.expect_event("framenavigated", predicate=framed_document) as navigated:
        page.goto(f"{foreign}/frame.html")
    headers = answered.value.headers
    assert "frame-ancestors 'self'" in headers.get("content-security-policy", "")
    assert headers.get("x-frame-options") == "SAMEORIGIN"
    frame = navigated.value
    assert not frame.url.startswith(app_url), "the workbench loaded inside another page"
    assert frame.url.startswith("chrome-error://"), "Chromium blocked the frame"
    assert frame.locator("[data-testid='stApp']").count() == 0


VIDEO_STATE = """() => new Promise(done => {
  const video = document.getElementById("take");
  if (video.readyState >= 1) return done("loaded");
  if (video.error) return done("error");
  video.addEventListener("loadedmetadata", () => done("loaded"));
  video.addEventListener("error", () => done("error"));
  setTimeout(() => done("undecided"), 20000);
})"""


def test_a_take_does_not_load_in_another_pages_video(app_url: str, foreign: str, page) -> None:
    take = f"{app_url}/app/static/takes/{TAKE}/video.mp4"
    with page.expect_response(lambda r: r.url.startswith(take)) as fetched:
        page.goto(f"{foreign}/video.html")
    assert fetched.value.status == 403
    assert page.evaluate(VIDEO_STATE) == "error"
    # The same element on the workbench's own page loads it: the refusal is about who asks, not the file.
    page.goto(f"{app_url}/_stcore/health")
    page.evaluate(f"""() => {{ const v = document.createElement("video"); v.id = "take"; v.muted = true;
                      v.preload = "auto"; v.src = "{take}"; document.body.append(v); }}""")
    assert page.evaluate(VIDEO_STATE) == "loaded"


@pytest.fixture(scope="module")
def lan_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app bound to every interface with an access token; teammates reach it as `dailies.lan`."""
    with app_on_the_lan(tmp_path_factory.mktemp("lan"), ACCESS) as url:
        yield url


def test_a_teammate_signs_in_by_the_configured_name(lan_url: str, page, screenshots: Path) -> None:
    lan = f"http://dailies.lan:{port_of(lan_url)}"
    answer = page.goto(f"http://other.lan:{port_of(lan_url)}/access")
    assert answer is not None and answer.status == 421, "a name nobody configured"
    sign_in_with_the_token(page, lan, ACCESS)
    wait_for_run(page)
    page.goto(f"{lan}/history")
    wait_for_run(page)
    assert page.locator("[data-testid='stApp']").count() == 1
    page.screenshot(path=screenshots / "hosts-lan-signed-in.png")
