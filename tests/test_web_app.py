"""The web layer on its own: `build_web_app` over a Studio on a temporary folder, without Streamlit.

Served by a real uvicorn server on loopback (what a client meets: chunked bodies, the connection after a 413), and
by Starlette's TestClient where a check needs no socket: every route's Host and Origin checks, sign-in and its
lockout, the pipeline API's token, bounded bodies, and the OpenAPI document made from the typed models.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient
from test_core_integration import make_studio
from until import wait_until

from dailies.access.hosts import HostPolicy
from dailies.engine.server import free_port
from dailies.jobs import JobStatus
from dailies.pipeline.orders import FIELDS
from dailies.review.api import COMMENT_FIELDS, DECISION_FIELDS, DONE_FIELDS, REPLY_FIELDS
from dailies.review.approvals import State
from dailies.studio import Studio
from dailies.web.access import COOKIE
from dailies.web.app import build_web_app
from dailies.web.openapi import Order, Take
from dailies.web.paths import WEB_PATHS
from dailies.web.settings import BodyLimits, WebSettings

TOKEN = "web-app-api-token-0123456789"
ACCESS = "web-app-access-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TAKE = "video_webapp"
SMALL = BodyLimits(order=4096, review=2048, hook=1024, sign_in_form=512)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def studio(isolated_home: Path, engine) -> Iterator[Studio]:
    made = make_studio(isolated_home, engine.base_url)
    (made.media.root / TAKE).mkdir(parents=True)
    (made.media.root / TAKE / "video.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 a take's bytes")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def client(studio: Studio) -> Callable[..., TestClient]:
    """A TestClient over an app built with the given settings (its lifespan run, its pipeline closed after)."""
    opened: list[TestClient] = []

    def open_client(**settings: object) -> TestClient:
        made = TestClient(build_web_app(studio, WebSettings(**settings)), base_url="http://127.0.0.1:8501")
        opened.append(made.__enter__())
        return made

    yield open_client
    for made in opened:
        made.__exit__(None, None, None)


@pytest.fixture
def served(studio: Studio) -> Iterator[str]:
    """The app on a real uvicorn server on loopback, with small body limits; its URL."""
    port = free_port()
    app = build_web_app(studio, WebSettings(port=port, api_token=TOKEN, access_token=ACCESS, limits=SMALL))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 15, "the server to start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_the_app_answers_at_exactly_the_paths_a_server_mounts(studio: Studio) -> None:
    app = build_web_app(studio, WebSettings())
    try:
        assert isinstance(app, Starlette)
        assert {route.path for route in app.routes} == set(WEB_PATHS)
    finally:
        app.state.pipeline.close()


def test_the_web_layer_imports_no_streamlit() -> None:
    check = ("import sys, dailies.web.app\n"
             "assert not [m for m in sys.modules if m.split('.')[0] in ('streamlit', 'components')], 'loaded'")
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_route_refuses_a_foreign_host_and_another_pages_request(client) -> None:
    app = client(api_token=TOKEN, hosts=HostPolicy.parse("dailies.lan", public_url="https://hooks.example.com"))
    for path in ("/api/v1/takes", "/api/v1/openapi.json", f"/app/static/takes/{TAKE}/video.mp4", "/access",
                 "/guest?t=x", "/guest/leave"):
        answer = app.get(path, headers={**AUTH, "Host": "evil.example"})
        assert answer.status_code == 421, path
        assert answer.headers["x-frame-options"] == "SAMEORIGIN", "framing headers on a refusal too"
    assert app.post("/hooks/engine", content=b"{}", headers={"Host": "evil.example"}).status_code == 421
    refused = app.get("/api/v1/takes", headers={**AUTH, "Host": "evil.example"}).json()
    assert refused["error"]["code"] == "wrong_host", "a program route refuses in JSON"
    for path in ("/api/v1/takes", "/hooks/engine"):  # the public URL's host: the program routes only
        assert app.post(path, headers={"Host": "hooks.example.com"}).status_code != 421, path
    assert app.get("/access", headers={"Host": "hooks.example.com"}).status_code == 421
    assert app.get("/access", headers={"Host": "dailies.lan"}).status_code == 503, "answered: sign-in is not set up"
    other = app.get("/api/v1/takes", headers={**AUTH, "Origin": "http://evil.example"})
    assert other.status_code == 403 and other.json()["error"]["code"] == "cross_origin"
    own = app.get("/api/v1/takes", headers={**AUTH, "Origin": "http://127.0.0.1:8501"})
    assert own.status_code == 403 and "web page" in own.json()["error"]["message"], "the API answers scripts only"
    hook = app.post("/hooks/engine", content=b"{}", headers={"Origin": "http://127.0.0.1:8501"})
    assert hook.status_code == 403
    answer = app.get("/api/v1/takes", headers=AUTH)
    assert answer.status_code == 200 and answer.headers.get_list("content-security-policy") == [
        "frame-ancestors 'self'"]


def test_the_pipeline_api_needs_its_token(client) -> None:
    off = client()
    assert off.get("/api/v1/takes", headers=AUTH).status_code == 503
    assert off.get("/api/v1/openapi.json").status_code == 200, "the description needs no token"
    on = client(api_token=TOKEN)
    missing = on.get("/api/v1/takes")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert on.get("/api/v1/takes", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert on.get("/api/v1/takes", headers=AUTH).json() == {"object": "list", "data": []}
    assert on.get("/api/v1/takes?limit=0", headers=AUTH).status_code == 400
    assert on.get("/api/v1/takes/nothing", headers=AUTH).status_code == 404
    assert on.get("/api/v1/takes/nothing/comments", headers=AUTH).status_code == 404


def test_beyond_loopback_files_need_sign_in_and_wrong_tokens_wait(client) -> None:
    media = f"/app/static/takes/{TAKE}/video.mp4"
    assert client().get(media).status_code == 200, "loopback-bound: this machine's"
    app = client(server_address="0.0.0.0", access_token=ACCESS)
    assert app.get(media).status_code == 401
    assert app.get("/_stcore/metrics").status_code == 401, "Streamlit's internals too, by the boundary"
    assert app.post("/access", data={"token": "wrong"}).status_code == 401
    signed = app.post("/access", data={"token": ACCESS}, follow_redirects=False)
    assert signed.status_code == 303 and COOKIE in signed.cookies
    assert app.get(media).status_code == 200 and app.get(media, headers={"Range": "bytes=0-3"}).status_code == 206
    app.cookies.clear()
    waits = [app.post("/access", data={"token": "wrong"}) for _ in range(7)]  # five are free, then one waits
    assert waits[-1].status_code == 429 and int(waits[-1].headers["retry-after"]) >= 1
    assert client(server_address="0.0.0.0").post("/access", data={"token": "x"}).status_code == 503
    assert client(server_address="0.0.0.0", signed_in=lambda cookies: True).get(media).status_code == 200


def test_bodies_over_their_limit_are_refused_however_they_are_sent(served: str) -> None:
    def chunked(size: int) -> Iterator[bytes]:
        sent = 0
        while sent < size:
            sent += 512
            yield b"a" * 512

    for path, limit, kind in (("/api/v1/takes", SMALL.order, "application/json"),
                              ("/api/v1/takes/t/comments", SMALL.review, "application/json"),
                              ("/hooks/engine", SMALL.hook, "application/json"),
                              ("/access", SMALL.sign_in_form, "application/x-www-form-urlencoded")):
        declared = httpx.post(served + path, content=b"a" * (limit + 1), headers={**AUTH, "Content-Type": kind})
        assert declared.status_code == 413, (path, declared.text)
        streamed = httpx.post(served + path, content=chunked(limit * 4), headers={**AUTH, "Content-Type": kind})
        assert streamed.status_code == 413 and "content-length" not in streamed.request.headers, path
    order = b'{"prompt": "a kite", "seconds": 4, "pad": "' + b"a" * (SMALL.order - 64) + b'"}'
    answer = httpx.post(served + "/api/v1/takes", content=order, headers={**AUTH, "Content-Type": "application/json"})
    assert answer.status_code == 400 and "pad" in answer.text, "under the limit: read, and refused for its field"


def test_the_openapi_document_is_made_from_the_models_and_the_domain(client, served: str) -> None:
    document = client().get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["JobStatus"]["enum"] == [status.value for status in JobStatus]
    assert schemas["State"]["enum"] == [state.value for state in State]
    assert set(schemas["Order"]["properties"]) == FIELDS and schemas["Order"]["required"] == ["prompt"]
    for model, fields in (("CommentIn", COMMENT_FIELDS), ("DecisionIn", DECISION_FIELDS), ("ReplyIn", REPLY_FIELDS),
                          ("DoneIn", DONE_FIELDS)):
        assert set(schemas[model]["properties"]) == fields, model
    assert {"Comment", "Approval", "Take"} <= set(schemas)
    assert "approval" in schemas["Take"]["properties"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert set(document["paths"]) >= {"/api/v1/takes", "/api/v1/takes/{take_id}", "/api/v1/takes/{take_id}/comments",
                                      "/api/v1/takes/{take_id}/approvals", "/api/v1/takes/{take_id}/notes.{format}"}
    made = httpx.post(served + "/api/v1/takes", json={"prompt": "a kite over a beach", "seconds": 4}, headers=AUTH)
    assert made.status_code == 201, made.text
    Take.model_validate(made.json())
    Take.model_validate(httpx.get(f"{served}/api/v1/takes/{made.json()['id']}", headers=AUTH).json())
    Order.model_validate({"prompt": "a kite", "tags": ["a"], "callback_url": "https://example.com/hook"})
