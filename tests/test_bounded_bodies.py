"""Every body our routes read stops at its route's limit, however it is sent (`dailies.request_bodies`).

Against a real app process (`streamlit run app.py`: the webhook receiver, the pipeline API, the sign-in
form) and a real engine on loopback. The bodies are sent chunked, with no `Content-Length`, the way that
used to be read whole: a 413 must come back, and the app's memory must not grow with what was sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from e2e.running_app import start_streamlit, stop_app

from dailies import request_bodies
from dailies.engine import EngineConfig, RunningEngine, serve_engine
from dailies.engine.api import MAX_BODY as ENGINE_FORM_LIMIT
from dailies.engine.api import MAX_JSON_BODY as ENGINE_JSON_LIMIT
from dailies.web.settings import BodyLimits
from dailies.webhooks import MAX_BODY as HOOKS_LIMIT

API_LIMIT = BodyLimits().order
MAX_SIGN_IN_FORM = BodyLimits().sign_in_form

TOKEN = "bounded-bodies-token-0123456789"
ACCESS_TOKEN = "bounded-bodies-access-0123456789"
ENGINE_KEY = "engine-key-for-the-bounded-bodies-test"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MB = 2**20
HUGE = 200 * MB
RSS_GROWTH_LIMIT = 20 * MB
BOUNDARY = "bodies-boundary"
FORM = f"multipart/form-data; boundary={BOUNDARY}"


@dataclass
class App:
    url: str
    pid: int
    engine: RunningEngine

    def rss(self) -> int:
        """The app process's resident memory, in bytes."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc status")

    def settled_rss(self) -> int:
        """The resident memory once the app has stopped growing on its own (its start goes on in a background
        thread after it first answers: modules, the studio, the store), so that what a request adds is what
        is measured."""
        deadline = time.monotonic() + 60
        last = self.rss()
        while time.monotonic() < deadline:
            time.sleep(0.5)  # the interval of a deadline loop over a reading, not synchronisation
            now = self.rss()
            if abs(now - last) < MB:
                return now
            last = now
        return last


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    folder = tmp_path_factory.mktemp("bodies")
    with serve_engine(EngineConfig(data_dir=folder / "engine", api_key=ENGINE_KEY)) as engine:
        process, url = start_streamlit(folder / "home", folder / "app.log", env={
            "DAILIES_ENGINE_URL": engine.base_url, "DAILIES_ENGINE_KEY": ENGINE_KEY,
            "DAILIES_API_TOKEN": TOKEN, "DAILIES_ACCESS_TOKEN": ACCESS_TOKEN})
        try:
            # The studio is up (it answers a list) before any memory is measured.
            assert httpx.get(f"{url}/api/v1/takes", headers=AUTH, timeout=120).status_code == 200
            yield App(url, process.pid, engine)
        finally:
            stop_app(process)


def chunked(size: int, head: bytes = b"", tail: bytes = b"", fill: bytes = b" ") -> Iterator[bytes]:
    """`head`, `fill` repeated to make `size` bytes in all, `tail`: a generator, so httpx sends it chunked."""
    yield head
    left = size - len(head) - len(tail)
    piece = fill * (MB // len(fill))
    while left > 0:
        yield piece[:left]
        left -= len(piece)
    yield tail


def post(url: str, body: Iterator[bytes] | bytes, content_type: str, headers: dict[str, str] | None = None
         ) -> httpx.Response:
    answer = httpx.post(url, content=body, headers={"Content-Type": content_type, **(headers or {})}, timeout=60)
    if not isinstance(body, bytes):
        assert "content-length" not in answer.request.headers, "the body must go chunked"
    return answer


def multipart(parts: int, part_size: int, *, files: bool = False) -> Iterator[bytes]:
    """A form of `parts` fields (or files) of `part_size` bytes each, made as it is sent."""
    for n in range(parts):
        named = f'name="field{n}"; filename="f{n}.bin"' if files else f'name="field{n}"'
        yield f"--{BOUNDARY}\r\nContent-Disposition: form-data; {named}\r\n\r\n".encode()
        yield from chunked(part_size, fill=b"x")
        yield b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


def too_large(answer: httpx.Response, limit: int) -> str:
    assert answer.status_code == 413, answer.text[:500]
    message = json.dumps(answer.json())
    assert f"over {limit / MB:.0f} MB" in message or f"over {limit // 1024} KB" in message, message
    return message


# -- the webhook receiver ----------------------------------------------------------------------------


def test_a_chunked_delivery_over_the_limit_is_refused_and_not_held(app: App) -> None:
    hooks = f"{app.url}/hooks/anyone"
    too_large(post(hooks, chunked(HOOKS_LIMIT + 1), "application/json"), HOOKS_LIMIT)  # and warmed up
    before = app.settled_rss()
    too_large(post(hooks, chunked(HUGE), "application/json"), HOOKS_LIMIT)
    grown = app.rss() - before
    print(f"hooks: RSS {before / MB:.0f} MB before a {HUGE // MB} MB chunked body, grown by {grown / MB:.1f} MB")
    assert grown < RSS_GROWTH_LIMIT


def test_a_chunked_delivery_under_the_limit_is_read(app: App) -> None:
    answer = post(f"{app.url}/hooks/anyone", chunked(HOOKS_LIMIT - 1024), "application/json")
    assert answer.status_code == 404 and "No webhook is registered" in answer.json()["message"]


# -- the pipeline API --------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["chunked", "declared"])
def test_an_order_over_the_limit_is_refused(app: App, how: str) -> None:
    body = chunked(API_LIMIT + MB, head=b'{"prompt": "a kite", "pad": "', tail=b'"}', fill=b"a")
    answer = post(f"{app.url}/api/v1/takes", b"".join(body) if how == "declared" else body, "application/json",
                  AUTH)
    too_large(answer, API_LIMIT)
    assert not app.engine.engine.book.listed()


def test_a_form_of_many_parts_over_the_limit_is_refused(app: App) -> None:
    parts = API_LIMIT // (4 * MB) + 2  # each part well under the limit, all of them over it
    answer = post(f"{app.url}/api/v1/takes", multipart(parts, 4 * MB),
                  FORM, AUTH)
    too_large(answer, API_LIMIT)


def test_a_huge_chunked_order_is_refused_and_not_held(app: App) -> None:
    url = f"{app.url}/api/v1/takes"
    too_large(post(url, chunked(API_LIMIT + 1), "application/json", AUTH), API_LIMIT)  # and warmed up
    before = app.settled_rss()
    too_large(post(url, chunked(HUGE), "application/json", AUTH), API_LIMIT)
    grown = app.rss() - before
    print(f"API: RSS {before / MB:.0f} MB before a {HUGE // MB} MB chunked body, grown by {grown / MB:.1f} MB")
    assert grown < RSS_GROWTH_LIMIT


def test_a_chunked_order_just_under_the_limit_is_taken(app: App) -> None:
    order = b'{"prompt": "a paper boat on a puddle", "seconds": 4, "size": "720x1280"}'
    answer = post(f"{app.url}/api/v1/takes", chunked(API_LIMIT - 1024, head=order), "application/json", AUTH)
    assert answer.status_code == 201, answer.text[:500]
    assert answer.json()["prompt"] == "a paper boat on a puddle"


# -- the sign-in form --------------------------------------------------------------------------------


def test_a_sign_in_form_over_its_tiny_limit_is_refused(app: App) -> None:
    access = f"{app.url}/access"
    answer = post(access, chunked(MB, head=b"token="), "application/x-www-form-urlencoded")
    assert answer.status_code == 413 and f"over {MAX_SIGN_IN_FORM // 1024} KB" in answer.text
    wrong = post(access, chunked(MAX_SIGN_IN_FORM - 10, head=b"token=", fill=b"x"),
                 "application/x-www-form-urlencoded")
    assert wrong.status_code == 401 and "not the access token" in wrong.text
    right = post(access, f"token={ACCESS_TOKEN}".encode(), "application/x-www-form-urlencoded")
    assert right.status_code == 303 and "dailies_access" in right.headers["set-cookie"]


# -- the engine --------------------------------------------------------------------------------------


def engine_too_large(answer: httpx.Response, limit: int) -> None:
    too_large(answer, limit)
    assert answer.json()["error"]["code"] == "body_too_large"


def test_the_engine_refuses_chunked_json_over_its_limit(engine) -> None:
    answer = post(f"{engine.base_url}/videos", chunked(ENGINE_JSON_LIMIT + MB, head=b"{"), "application/json")
    engine_too_large(answer, ENGINE_JSON_LIMIT)
    assert httpx.get(f"{engine.base_url}/videos").json()["data"] == []


def test_the_engine_refuses_a_chunked_form_over_its_limit(engine) -> None:
    files = 4  # as many as a form may hold, each under the limit, together over it
    answer = post(f"{engine.base_url}/videos", multipart(files, ENGINE_FORM_LIMIT // files + MB, files=True), FORM)
    engine_too_large(answer, ENGINE_FORM_LIMIT)


def test_the_engine_bounds_a_forms_fields_together(engine) -> None:
    """Fields that are not files are held in memory: each under the limit of one, together over it."""
    answer = post(f"{engine.base_url}/videos", multipart(2, ENGINE_JSON_LIMIT // 2 + MB), FORM)
    assert answer.status_code == 400, answer.text[:500]
    assert f"over {ENGINE_JSON_LIMIT / MB:.0f} MB together" in answer.json()["error"]["message"]


def test_the_engine_takes_chunked_json_just_under_its_limit(engine) -> None:
    order = b'{"prompt": "a lighthouse at dusk", "model": "sora-2", "size": "720x1280", "seconds": "4"}'
    answer = post(f"{engine.base_url}/videos", chunked(ENGINE_JSON_LIMIT - 1024, head=order), "application/json")
    assert answer.status_code == 200, answer.text[:500]
    assert answer.json()["prompt"] == "a lighthouse at dusk"


def test_the_engine_refuses_json_nested_too_deeply_with_a_clear_400(engine) -> None:
    answer = post(f"{engine.base_url}/videos", b"[" * 200_000, "application/json")
    assert answer.status_code == 400, answer.text[:500]
    assert answer.json()["error"]["code"] == "invalid_json" and "nested too deeply" in answer.text


def test_the_engine_answers_others_while_it_parses_json(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parse is held until another request has been answered: were it on the event loop, that request
    would wait behind it and time out."""
    parsing, answered, threads = threading.Event(), threading.Event(), []
    real = request_bodies._loads

    def held(body: bytes) -> object:
        threads.append(threading.current_thread().name)
        parsing.set()
        assert answered.wait(30), "the other request was never answered"
        return real(body)

    monkeypatch.setattr(request_bodies, "_loads", held)
    order = b'{"prompt": "a heron in reeds", "model": "sora-2", "size": "720x1280", "seconds": "4"}'
    results: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: results.append(post(f"{engine.base_url}/videos", order,
                                                                 "application/json")))
    sender.start()
    try:
        assert parsing.wait(30), "the order was never parsed"
        assert httpx.get(f"{engine.base_url}/models", timeout=10).status_code == 200
    finally:
        answered.set()
        sender.join(60)
    assert results and results[0].status_code == 200, results
    assert not threads[0].startswith("dailies-engine-http"), threads
