"""The trust boundary: which key goes where, what the engine and media route accept, bounded regexes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dailies.config import Environment, is_loopback_host
from dailies.errors import ValidationError
from dailies.jobs import JobRequest
from dailies.studio import Studio


class Recorder(ThreadingHTTPServer):
    """A loopback OpenAI-compatible stub that records the headers of every request it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.seen: list[dict[str, str]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _RecordingHandler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()})
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        if self.path.endswith("/models"):
            body = {"object": "list", "data": [{"id": "sora-2", "object": "model", "owned_by": "stub"}]}
        else:
            body = {"id": "video_1", "object": "video", "status": "queued", "progress": 0, "model": "sora-2",
                    "size": "720x1280", "seconds": "4", "created_at": 1}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


TEAM_KEY = "sk-team-secret-0123456789abcdef"
GATEWAY_KEY = "sk-gateway-only-9876543210"


def _studio(home: Path, **env: str) -> Studio:
    return Studio(Environment.load({"DAILIES_HOME": str(home), **env}, secrets_path=home / "none.toml"),
                  engine_base_url=None)


def _submit_to(shared: Studio, provider: str) -> None:
    shared.submit(JobRequest(prompt="a kite over a beach", model="sora-2", size="720x1280", seconds=4), provider)


def test_a_provider_added_in_settings_never_receives_the_team_key(isolated_home: Path, recorder: Recorder) -> None:
    shared = _studio(isolated_home, OPENAI_API_KEY=TEAM_KEY, DAILIES_API_KEY=TEAM_KEY)
    try:
        shared.add_provider("gateway", recorder.base_url)
        shared.providers.get("gateway").health()
        _submit_to(shared, "gateway")
    finally:
        shared.close()
    assert recorder.seen, "the stub was reached"
    assert all(TEAM_KEY not in json.dumps(headers) for headers in recorder.seen)
    assert all("authorization" not in headers for headers in recorder.seen)
    assert TEAM_KEY not in (isolated_home / "settings.json").read_text()


def test_a_defined_provider_gets_only_the_variable_named_for_it(isolated_home: Path, recorder: Recorder) -> None:
    shared = _studio(isolated_home, OPENAI_API_KEY=TEAM_KEY, GATEWAY_API_KEY=GATEWAY_KEY,
                     DAILIES_PROVIDER_GATEWAY_BASE_URL=recorder.base_url,
                     DAILIES_PROVIDER_GATEWAY_KEY_FROM="GATEWAY_API_KEY")
    try:
        _submit_to(shared, "gateway")
    finally:
        shared.close()
    assert {h.get("authorization") for h in recorder.seen} == {f"Bearer {GATEWAY_KEY}"}
    assert not (isolated_home / "settings.json").exists(), "where keys go is not the team's settings"


def test_an_unset_key_variable_says_which_to_set_and_sends_nothing(isolated_home: Path, recorder: Recorder) -> None:
    shared = _studio(isolated_home, OPENAI_API_KEY=TEAM_KEY, DAILIES_PROVIDER_GATEWAY_BASE_URL=recorder.base_url,
                     DAILIES_PROVIDER_GATEWAY_KEY_FROM="GATEWAY_API_KEY")
    try:
        assert "set GATEWAY_API_KEY" in shared.providers.get("gateway").health().message
        with pytest.raises(ValidationError, match="set GATEWAY_API_KEY"):
            _submit_to(shared, "gateway")
        assert shared.store.all() == []
    finally:
        shared.close()
    assert not [h for h in recorder.seen if "authorization" in h]


@pytest.mark.parametrize("name", ["GATEWAY_API_KEY", "OPENAI_API_KEY", "DAILIES_API_KEY", "AWS_SECRET_ACCESS_KEY",
                                  "lower_api_key"])
def test_settings_cannot_name_any_key_variable(isolated_home: Path, name: str) -> None:
    shared = _studio(isolated_home)
    try:
        with pytest.raises(ValidationError, match=r"(?s)defined where keys live.*\[providers\.gateway\]"):
            shared.add_provider("gateway", "https://gateway.example.com/v1", name)
    finally:
        shared.close()
    assert not (isolated_home / "settings.json").exists()


def test_the_remote_provider_keeps_the_team_key(isolated_home: Path, recorder: Recorder) -> None:
    shared = _studio(isolated_home, OPENAI_API_KEY=TEAM_KEY, DAILIES_BASE_URL=recorder.base_url)
    try:
        _submit_to(shared, "remote")
    finally:
        shared.close()
    assert f"Bearer {TEAM_KEY}" in {h.get("authorization") for h in recorder.seen}


@pytest.mark.parametrize("url", ["http://gateway.example.com/v1", "http://10.0.0.5:4000/v1", "http://[fe80::1]/v1"])
def test_plain_http_is_refused_beyond_loopback(isolated_home: Path, url: str) -> None:
    shared = _studio(isolated_home)
    try:
        with pytest.raises(ValidationError, match="only for this machine"):
            shared.add_provider("gateway", url)
        for loopback in ("http://localhost:4000/v1", "http://127.0.0.2:4000/v1", "http://[::1]:4000/v1"):
            shared.add_provider("local", loopback)
            shared.admin.remove_provider("local")
        shared.add_provider("secure", "https://gateway.example.com/v1")
    finally:
        shared.close()
    assert [p.base_url for p in shared.settings.extra_providers] == ["https://gateway.example.com/v1"]


def test_loopback_names() -> None:
    assert all(map(is_loopback_host, ["localhost", "127.0.0.1", "127.9.9.9", "::1", "[::1]", "app.localhost"]))
    assert not any(map(is_loopback_host, ["0.0.0.0", "10.0.0.1", "evil.example", "localhost.evil.example", ""]))


CATASTROPHIC = "(a|aa)+$"


def test_a_catastrophic_pattern_is_cut_off_and_the_prompt_is_held_back_saying_why() -> None:
    from dailies.moderation import PATTERN_TIMEOUT_S, LocalRules

    verdict = LocalRules(terms=(), patterns=(CATASTROPHIC,)).check("a" * 40 + "!")
    assert not verdict.allowed
    assert verdict.reasons == (f"could not be checked against /{CATASTROPHIC}/ in time (the bound is "
                               f"{PATTERN_TIMEOUT_S:g} s of matching; simplify the pattern in Settings)",)
    assert LocalRules(terms=(), patterns=("a{3}",)).check("a kite").allowed


def test_settings_refuses_a_pattern_that_can_hang(isolated_home: Path) -> None:
    import dataclasses

    shared = _studio(isolated_home)
    try:
        with pytest.raises(ValidationError, match="takes more than"):
            shared.save_settings(dataclasses.replace(shared.settings, moderation_patterns=[CATASTROPHIC]))
        shared.save_settings(dataclasses.replace(shared.settings, moderation_patterns=[r"\bkite\b"]))
    finally:
        shared.close()
    assert json.loads((isolated_home / "settings.json").read_text())["moderation_patterns"] == [r"\bkite\b"]
