"""No page, file or socket of the server answers a stranger: a rebound host name (421), another page's request
or WebSocket (403), a take fetched by another site, a linked file in a take's folder, Streamlit's metrics beyond
loopback without sign-in, token guessing at speed, an unverified address on the allow-list; and a teammate on
the LAN reaches the app once its name is configured.

The rules on their own (`dailies.access`: `hosts`, `lockout`, `identity`), then a real server process
(`streamlit run app.py`, the worktree's code) attacked with httpx and `websockets` over loopback.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dailies.access.hosts import HostPolicy
from dailies.access.identity import AllowList
from dailies.access.lockout import Guesses, GuessPolicy
from dailies.backoff import Backoff
from tests.e2e.running_app import app_on_the_lan, port_of, running, start_streamlit

ACCESS = "team-access-token-for-the-host-checks"
TAKE = "video_hostcheck"
LINKED = "video_linked"
SECRET = "the contents of a key file outside the media folder"


# The rules on their own.

def test_only_loopback_and_configured_names_are_answered() -> None:
    policy = HostPolicy.parse("127.0.0.1", None, "dailies.lan, 192.168.1.20:8501 [fd00::20]",
                              public_url="https://hooks.example.com")
    for host in ("127.0.0.1:8501", "localhost:8501", "[::1]:8501", "127.0.0.2:8501", "dailies.lan:8501",
                 "DAILIES.LAN.", "192.168.1.20", "[fd00::20]:8501"):
        assert policy.refusal("/history", {"host": host}) is None, host
    for host in ("evil.example:8501", "dailies.lan.evil.example", "192.168.1.21:8501", "", "a b", "x@dailies.lan"):
        assert policy.refusal("/history", {"host": host}).status == 421, host
    assert policy.refusal("/", {}).status == 421, "no Host: not a request any browser sends to a page"
    assert policy.refusal("/_stcore/health", {}) is None, "a Host-less health check"
    assert policy.refusal("/hooks/engine", {"host": "hooks.example.com"}) is None, "the public URL: hooks"
    assert policy.refusal("/api/v1/takes", {"host": "hooks.example.com"}) is None, "and the pipeline API"
    assert policy.refusal("/history", {"host": "hooks.example.com"}).status == 421, "not the pages"
    assert policy.reached_from_other_machines
    assert not HostPolicy.parse("127.0.0.1", "localhost", "").reached_from_other_machines
    assert not HostPolicy.parse("0.0.0.0", None, "").names, "a binding address is not a name"


def test_only_the_apps_own_origin_may_send_requests() -> None:
    policy = HostPolicy.parse("127.0.0.1", None, "dailies.lan")
    own = {"host": "127.0.0.1:8501"}
    assert policy.refusal("/_stcore/stream", {**own, "origin": "http://127.0.0.1:8501"}) is None
    for origin in ("http://localhost:3000", "http://127.0.0.1:3000", "http://localhost:8501", "http://evil.example",
                   "null", "http://127.0.0.1:8501.evil.example", "garbage"):
        assert policy.refusal("/_stcore/stream", {**own, "origin": origin}).status == 403, origin
    assert policy.refusal("/", {"host": "localhost", "origin": "http://localhost"}) is None, "default port"
    proxied = {"host": "127.0.0.1:8501", "origin": "https://dailies.lan"}  # a proxy that rewrites Host
    assert policy.refusal("/_stcore/stream", proxied) is None, "a configured name is the app's own"


def test_another_sites_page_may_link_to_the_workbench_but_not_load_from_it() -> None:
    policy = HostPolicy()
    host = {"host": "127.0.0.1:8501"}
    media = "/app/static/takes/video_a/video.mp4"
    for site in ("same-origin", "none", None):
        fetch = {"sec-fetch-site": site, "sec-fetch-mode": "no-cors", "sec-fetch-dest": "video"} if site else {}
        assert policy.refusal(media, {**host, **fetch}) is None, site
    for site in ("cross-site", "same-site"):
        video = {"sec-fetch-site": site, "sec-fetch-mode": "no-cors", "sec-fetch-dest": "video"}
        assert policy.refusal(media, {**host, **video}).status == 403
        opened = {"sec-fetch-site": site, "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
        assert policy.refusal(media, {**host, **opened}).status == 403, "takes: the app's own pages only"
        assert policy.refusal("/review", {**host, **opened}) is None, "a link to a review round, from chat"
        framed = {"sec-fetch-site": site, "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe"}
        assert policy.refusal("/review", {**host, **framed}).status == 403
        script = {"sec-fetch-site": site, "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"}
        assert policy.refusal("/_stcore/host-config", {**host, **script}).status == 403


def test_wrong_tokens_make_one_address_wait_longer_each_time_and_all_together_slow_down() -> None:
    guesses = Guesses(GuessPolicy(free_failures=3, waits=Backoff(first=1.0, cap=8.0),
                                  shared_failures_per_minute=10))
    now = 100.0
    for _ in range(3):
        assert guesses.wait("10.0.0.1", now) == 0
        guesses.failed("10.0.0.1", now)
    assert guesses.wait("10.0.0.1", now) == 0, "three mistypes are free"
    waits = []
    for _ in range(5):
        guesses.failed("10.0.0.1", now)
        waits.append(guesses.wait("10.0.0.1", now))
        now += waits[-1]
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0], "doubling, up to the longest wait"
    assert guesses.wait("10.0.0.2", now) == 0, "another address is not held up by this one"
    for n in range(10):  # one wrong token each from ten addresses at once
        guesses.failed(f"10.0.1.{n}", now)
    assert guesses.wait("10.0.0.4", now) > 0, "ten wrong tokens a minute from everyone together"
    assert guesses.wait("10.0.0.4", now + 60) == 0
    guesses.succeeded("10.0.0.1")
    assert guesses.wait("10.0.0.1", now + 60) == 0
    ipv6 = Guesses(GuessPolicy(free_failures=1))
    ipv6.failed("2001:db8::1", 0)
    ipv6.failed("2001:db8::2", 0)
    assert ipv6.wait("2001:db8::ffff", 0) > 0, "one IPv6 /64 is one guesser"


def test_the_allow_list_needs_the_provider_to_say_the_address_is_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ID token without `email_verified` (some providers let anyone type any address) is not let in."""
    from streamlit.web.server.server_util import get_cookie_secret
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    import components.identity as identity

    allow = AllowList.parse("example.com")
    assert allow.admits({"email": "ann@example.com", "email_verified": True})
    assert allow.admits({"email": "ann@example.com", "email_verified": "true"})
    for claims in ({"email": "ann@example.com"}, {"email": "ann@example.com", "email_verified": False},
                   {"email": "ann@example.com", "email_verified": "false"},
                   {"email": "ann@example.com", "email_verified": 1}):
        assert not allow.admits(claims), claims
    assert AllowList.parse("").admits({"email": "anyone@anywhere.org"}), "no list: whoever the provider signed in"

    monkeypatch.setattr(identity, "auth_configured", lambda: True)
    monkeypatch.setenv("DAILIES_SIGN_IN_ALLOW", "example.com")

    def cookie(**claims: object) -> dict[str, str]:
        payload = json.dumps({"is_logged_in": True, "origin": "http://localhost:8501", **claims})
        return {identity.USER_COOKIE: create_signed_value(get_cookie_secret(), identity.USER_COOKIE, payload).decode()}

    assert identity.cookie_signed_in(cookie(email="ann@example.com", email_verified=True))
    assert not identity.cookie_signed_in(cookie(email="ann@example.com")), "the media route: no email_verified"


# A real server on loopback.

def seed_takes(media: Path, outside: Path) -> None:
    """A take's file, and a take folder holding links: a file linked to one outside the media folder, and one
    linked to the other take's (a link is refused even when it points inside)."""
    (media / TAKE).mkdir(parents=True)
    (media / TAKE / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 a take's bytes")
    (media / LINKED).mkdir()
    outside.write_text(SECRET)
    (media / LINKED / "video.mp4").symlink_to(outside)
    (media / LINKED / "thumbnail.jpg").symlink_to(media / TAKE / "video.mp4")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as configured by default (loopback), with a take and a take folder holding links."""
    home = tmp_path_factory.mktemp("hosts")
    seed_takes(home / "data" / "media", home / "key.pem")
    with running(home / "data", start_streamlit) as app:
        yield app.url


@pytest.fixture(scope="module")
def lan_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app bound to every interface with an access token, reached by teammates as `dailies.lan`."""
    with app_on_the_lan(tmp_path_factory.mktemp("lan"), ACCESS) as url:
        yield url



ROUTES = [("GET", "/"), ("GET", "/history"), ("GET", "/settings"), ("GET", "/_stcore/host-config"),
          ("GET", "/_stcore/metrics"), ("GET", "/static/index.html"), ("GET", "/engine/v1/videos"),
          ("GET", f"/app/static/takes/{TAKE}/video.mp4"), ("GET", "/access"), ("POST", "/hooks/engine"),
          ("GET", "/api/v1/takes"), ("GET", "/api/v1/openapi.json"), ("GET", "/media/x.png"),
          ("GET", "/oauth2callback")]


def test_a_rebound_host_name_gets_nothing_from_any_route(app_url: str) -> None:
    rebound = {"Host": f"evil.example:{port_of(app_url)}"}
    for method, path in ROUTES:
        answer = httpx.request(method, app_url + path, headers=rebound)
        assert answer.status_code == 421, (path, answer.status_code)
        assert "<html" not in answer.text.lower() and "openapi" not in answer.text and b"ftyp" not in answer.content
    assert httpx.get(app_url + "/", headers={"Host": f"localhost:{port_of(app_url)}"}).status_code == 200


def http10(url: str, path: str) -> int:
    """The status of an HTTP/1.0 request without a `Host` header (a health check's)."""
    with socket.create_connection(("127.0.0.1", port_of(url)), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        return int(conn.recv(64).split()[1])


def test_without_a_host_only_the_health_check_answers(app_url: str) -> None:
    assert http10(app_url, "/_stcore/health") == 200
    assert http10(app_url, "/history") == 421


def test_every_answer_forbids_framing_by_other_pages(app_url: str) -> None:
    for path in ("/", "/history", "/access", f"/app/static/takes/{TAKE}/video.mp4", "/_stcore/health"):
        answer = httpx.get(app_url + path)
        assert "frame-ancestors 'self'" in answer.headers.get("content-security-policy", ""), path
        assert answer.headers.get("x-frame-options") == "SAMEORIGIN", path


def stream(url: str, origin: str | None) -> int:
    """The status a WebSocket handshake to Streamlit's stream gets (101 when it opens)."""
    try:
        with connect(url.replace("http://", "ws://") + "/_stcore/stream", origin=origin, open_timeout=20):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def rebound_stream(url: str) -> int:
    """The status of a WebSocket handshake sent to a rebound name (its own origin, a foreign `Host`)."""
    rebound = f"evil.example:{port_of(url)}"
    handshake = {"Host": rebound, "Origin": f"http://{rebound}", "Connection": "Upgrade", "Upgrade": "websocket",
                 "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    return httpx.get(url + "/_stcore/stream", headers=handshake).status_code


def test_the_websocket_opens_only_for_the_apps_own_origin(app_url: str) -> None:
    port = port_of(app_url)
    assert stream(app_url, f"http://127.0.0.1:{port}") == 101
    assert stream(app_url, "http://localhost:3000") == 403, "another application on this machine"
    assert stream(app_url, f"http://localhost:{port}") == 403, "the same port under another name is another origin"
    assert stream(app_url, "http://evil.example") == 403
    assert rebound_stream(app_url) == 421


def test_a_take_is_served_to_the_apps_own_pages_only(app_url: str) -> None:
    take = f"{app_url}/app/static/takes/{TAKE}/video.mp4"
    own = {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "video"}
    assert httpx.get(take, headers=own).status_code == 200
    assert httpx.get(take).status_code == 200, "a script (no browser headers)"
    assert httpx.get(take, headers={"Sec-Fetch-Site": "none"}).status_code == 200, "typed into the address bar"
    for site in ("cross-site", "same-site"):
        assert httpx.get(take, headers={**own, "Sec-Fetch-Site": site}).status_code == 403, site
    assert httpx.get(take, headers={"Origin": "http://evil.example"}).status_code == 403
    assert httpx.get(take, headers={"Origin": "http://localhost:3000"}).status_code == 403
    assert httpx.get(take, headers={"Origin": app_url}).status_code == 200


def test_a_linked_file_in_a_takes_folder_is_not_served(app_url: str) -> None:
    outside = httpx.get(f"{app_url}/app/static/takes/{LINKED}/video.mp4")
    assert outside.status_code == 404 and SECRET not in outside.text
    assert httpx.get(f"{app_url}/app/static/takes/{LINKED}/thumbnail.jpg").status_code == 404, "even to a take"


def test_a_configured_name_is_answered_and_no_other(app_url: str, lan_url: str) -> None:
    """A teammate reaches `/access` and the pages by the name in DAILIES_ALLOWED_HOSTS; unset, that name is a 421."""
    lan = {"Host": f"dailies.lan:{port_of(lan_url)}"}
    assert httpx.get(f"{lan_url}/access", headers=lan).status_code == 200
    signed = httpx.post(f"{lan_url}/access", headers=lan, data={"token": ACCESS}, follow_redirects=False)
    assert signed.status_code == 303
    page = httpx.get(f"{lan_url}/history", headers=lan, cookies={"dailies_access": signed.cookies["dailies_access"]})
    assert page.status_code == 200 and "<html" in page.text.lower()
    other = {"Host": f"other.lan:{port_of(lan_url)}"}
    assert httpx.get(f"{lan_url}/access", headers=other).status_code == 421
    assert httpx.get(f"{app_url}/access", headers={"Host": f"dailies.lan:{port_of(app_url)}"}).status_code == 421


def test_beyond_loopback_streamlits_metrics_need_sign_in(lan_url: str) -> None:
    assert httpx.get(f"{lan_url}/_stcore/metrics").status_code == 401
    signed = httpx.post(f"{lan_url}/access", data={"token": ACCESS}, follow_redirects=False)
    cookie = {"dailies_access": signed.cookies["dailies_access"]}
    assert httpx.get(f"{lan_url}/_stcore/metrics", cookies=cookie).status_code == 200


def from_address(address: str) -> httpx.Client:
    """A client whose requests come from another loopback address (another machine, as the server sees it)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), follow_redirects=False)


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_guessing_the_access_token_is_slowed_down(lan_url: str) -> None:
    with from_address("127.0.0.3") as guesser:
        answers = [guesser.post(f"{lan_url}/access", data={"token": f"guess-{n}"}) for n in range(200)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:5] == [401] * 5, "a few mistypes are answered"
    assert statuses.count(429) >= 180, f"only {statuses.count(429)} of 200 guesses were held back"
    held = next(answer for answer in answers if answer.status_code == 429)
    assert int(held.headers["Retry-After"]) >= 1
    assert "Too many wrong tokens" in held.text
    with from_address("127.0.0.4") as teammate:
        assert teammate.post(f"{lan_url}/access", data={"token": ACCESS}).status_code == 303, \
            "another address is not locked out by the guesser"
