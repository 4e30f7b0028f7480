"""Keys are bound where keys live (issue 20, item 1).

Whoever can only reach the Settings page or `python -m dailies add-provider` cannot make any key go to a
host of their choosing: a provider that carries a key, and its base URL, is defined in the environment or
`.streamlit/secrets.toml` (`[providers.<name>]`). Each attack is run as the attacker would run it (a real
CLI process, the real Settings page under AppTest) against a recording server on loopback, which must never
see a key.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dailies.config import Environment, ProviderSettings, Settings, SettingsFile
from dailies.errors import ValidationError
from dailies.jobs import JobRequest
from dailies.providers import registry
from dailies.studio import Studio
from tests.fakes.fal import KEY as FAL_KEY
from tests.fakes.fal import FakeFal
from tests.test_trust import Recorder
from tests.workbench.page_helpers import no_exception, open_pages

ROOT = Path(__file__).resolve().parents[1]
GOOGLE_KEY = "AIza-google-secret-0123456789"
RUNWAY_KEY = "key_runway-secret-0123456789"
GATEWAY_KEY = "sk-gateway-only-9876543210"
TEAM_KEY = "sk-team-secret-0123456789abcdef"
SECRETS = {"GOOGLE_API_KEY": GOOGLE_KEY, "FAL_KEY": FAL_KEY, "RUNWAYML_API_SECRET": RUNWAY_KEY,
           "OPENAI_API_KEY": TEAM_KEY}


def serving() -> Iterator[Recorder]:
    server = Recorder()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A server on loopback that records every request's headers: where someone wants the keys to go."""
    yield from serving()


@pytest.fixture
def other() -> Iterator[Recorder]:
    yield from serving()


def port_of(server: Recorder) -> int:
    return server.server_address[1]


def keys_seen(server: Recorder) -> set[str]:
    """Which of the secrets reached the server, in any header."""
    said = json.dumps(server.seen)
    return {name for name, value in SECRETS.items() if value in said} | ({"GATEWAY_API_KEY"}
                                                                          if GATEWAY_KEY in said else set())


def cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m dailies ...` as a person runs it, with only the variables given (no key from this shell)."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("OPENAI_", "DAILIES_", "RUNWAYML_", "FAL_", "GOOGLE_", "GEMINI_", "REPLICATE_"))}
    clean.update({"DAILIES_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(ROOT), clean.get("PYTHONPATH", "")]),
                  **env})
    return subprocess.run([sys.executable, "-m", "dailies", *args], cwd=ROOT, env=clean, text=True,
                          capture_output=True, timeout=180)


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


# -- (a) the CLI cannot name a key for a URL of its choosing ------------------------------------------------


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_cli_cannot_send_the_google_key_to_a_server_it_names(tmp_path: Path, recorder: Recorder) -> None:
    home = tmp_path / "home"
    kept = cli(home, "add-provider", "local", "--base-url", recorder.base_url, **SECRETS)
    assert kept.returncode == 0, kept.stderr
    before = (home / "settings.json").read_bytes()

    stolen = cli(home, "add-provider", "steal", "--base-url", f"http://127.0.0.1:{port_of(recorder)}/v1",
                 "--key-from", "GOOGLE_API_KEY", **SECRETS)
    tested = cli(home, "providers", "--test", **SECRETS)
    assert recorder.seen, "the key-less server was asked"
    assert keys_seen(recorder) == set() and not [h for h in recorder.seen if "authorization" in h]

    assert stolen.returncode == 1
    assert "defined where keys live" in stolen.stderr and "[providers.steal]" in stolen.stderr
    assert 'key_from = "GOOGLE_API_KEY"' in stolen.stderr and ".streamlit/secrets.toml" in stolen.stderr
    assert (home / "settings.json").read_bytes() == before, "a refused provider changes nothing"
    assert [line["provider"] for line in lines(tested.stdout)] == ["engine", "local"], tested.stderr


# -- (b) nor point a vendor's key at one ------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "variable"), [("fal", "FAL_KEY"), ("runway", "RUNWAYML_API_SECRET")])
def test_the_cli_cannot_point_a_vendors_key_at_a_server_it_names(
    tmp_path: Path, recorder: Recorder, kind: str, variable: str
) -> None:
    home = tmp_path / "home"
    url = f"http://127.0.0.1:{port_of(recorder)}/{kind}"
    added = cli(home, "add-provider", "mine", "--kind", kind, "--base-url", url, **SECRETS)
    tested = cli(home, "providers", "--test", **SECRETS)
    assert keys_seen(recorder) == set() and recorder.seen == []

    assert added.returncode == 1
    assert f"sends its {variable} to {url}" in added.stderr and "[providers.mine]" in added.stderr
    assert f'kind = "{kind}"' in added.stderr and f'base_url = "{url}"' in added.stderr
    assert not (home / "settings.json").exists()
    assert [line["provider"] for line in lines(tested.stdout)] == ["engine"], tested.stderr


# -- (c) nor can the Settings page ------------------------------------------------------------------------


@pytest.fixture
def open_page(engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    monkeypatch.setenv("DAILIES_ENGINE_URL", engine.base_url)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    yield from open_pages()


@pytest.fixture
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No name but loopback resolves (a vendor's own API is not reached from a test): the names asked for."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("127.0.0.1", "localhost", "::1"):
            asked.append(name)
            raise socket.gaierror(socket.EAI_NONAME, "no network in tests")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def type_into(at: AppTest, key: str, value: str) -> bool:
    """Type into a text box if the page has it (an attacker types into whatever is there)."""
    boxes = [box for box in at.text_input if box.key == key]
    for box in boxes:
        box.input(value)
    return bool(boxes)


def shown(at: AppTest) -> str:
    return "\n".join(str(e.value).replace("\\", "") for e in (*at.caption, *at.warning, *at.error, *at.code))


def test_the_settings_page_cannot_send_a_key_to_a_server_typed_into_it(
    open_page, recorder: Recorder, only_loopback: list[str]
) -> None:
    at = no_exception(open_page("settings.py"))
    at.selectbox(key="new_provider_kind").select("openai_compat").run()
    at.text_input(key="new_provider_name").input("steal")
    at.text_input(key="new_provider_url").input(recorder.base_url)
    type_into(at, "new_provider_key", "GOOGLE_API_KEY")
    at.button(key="add_provider").click().run()
    no_exception(at)
    at.button(key="test_steal").click().run()
    assert recorder.seen, "the server typed in was asked"
    assert keys_seen(recorder) == set() and not [h for h in recorder.seen if "authorization" in h]
    assert "Added here · sent no key" in shown(at)
    assert "[providers.steal]" in shown(at), "the page says where a server with a key is defined"

    at.selectbox(key="new_provider_kind").select("runway").run()
    at.text_input(key="new_provider_name").input("rw")
    type_into(at, "new_provider_url", f"http://127.0.0.1:{port_of(recorder)}/runway")
    at.button(key="add_provider").click().run()
    no_exception(at)
    at.button(key="test_rw").click().run()
    assert keys_seen(recorder) == set(), "Runway's key went to a server typed into the page"
    assert only_loopback and all(host.endswith("runwayml.com") for host in only_loopback), \
        "Runway's key is sent to Runway's own API only"
    saved = json.loads((Environment.load().home / "settings.json").read_text())
    assert [(p["name"], p["base_url"], p["key_from"]) for p in saved["extra_providers"]] == [
        ("steal", recorder.base_url, ""), ("rw", "", "")]


# -- (d) the server's own definition does send its key, to its base URL only -------------------------------


def test_a_provider_defined_in_secrets_toml_sends_its_key_to_its_base_url_only(
    isolated_home: Path, recorder: Recorder, other: Recorder, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'GATEWAY_API_KEY = "{GATEWAY_KEY}"\n\n[providers.gw]\nkind = "openai_compat"\n'
                       f'base_url = "{recorder.base_url}"\nkey_from = "GATEWAY_API_KEY"\nlabel = "Gateway"\n')
    env = Environment.load({"DAILIES_HOME": str(isolated_home), **SECRETS}, secrets_path=secrets)
    shared = Studio(env)
    try:
        assert shared.providers.defined_on_server("gw") and shared.provider("gw").label == "Gateway"
        shared.add_provider("local", other.base_url)
        for name in ("gw", "local"):
            assert shared.provider(name).health().ok
            shared.submit(JobRequest(prompt="a kite", model="sora-2", size="720x1280", seconds=4), name)
    finally:
        shared.close()
    assert {h.get("authorization") for h in recorder.seen} == {f"Bearer {GATEWAY_KEY}"}
    assert other.seen and keys_seen(other) == set() and not [h for h in other.seen if "authorization" in h]
    saved = (isolated_home / "settings.json").read_text()
    assert "GATEWAY_API_KEY" not in saved and GATEWAY_KEY not in saved and recorder.base_url not in saved


def test_a_vendor_defined_in_the_environment_sends_its_key_to_the_base_url_named_there(isolated_home: Path) -> None:
    with FakeFal() as fake:
        env = Environment.load({"DAILIES_HOME": str(isolated_home), "DAILIES_PROVIDER_KLING_KIND": "fal",
                                "DAILIES_PROVIDER_KLING_BASE_URL": fake.base_url, **SECRETS},
                               secrets_path=isolated_home / "none.toml")
        shared = Studio(env)
        try:
            assert registry.connection_test(shared.provider("kling")).ok
            assert shared.providers.kind_of("kling") == "fal"
        finally:
            shared.close()
        assert {r.headers.get("Authorization") for r in fake.requests} == {f"Key {FAL_KEY}"}


def test_the_cli_uses_a_gateway_defined_in_the_environment(tmp_path: Path, recorder: Recorder) -> None:
    tested = cli(tmp_path / "home", "providers", "--test", DAILIES_PROVIDER_GW_BASE_URL=recorder.base_url,
                 DAILIES_PROVIDER_GW_KEY_FROM="GATEWAY_API_KEY", GATEWAY_API_KEY=GATEWAY_KEY, **SECRETS)
    (gw,) = [line for line in lines(tested.stdout) if line["provider"] == "gw"]
    assert gw["ok"] and gw["defined"] == "server" and gw["key_from"] == ["GATEWAY_API_KEY"], tested.stderr
    assert {h.get("authorization") for h in recorder.seen} == {f"Bearer {GATEWAY_KEY}"}


def test_a_definition_with_a_wrong_field_says_so_and_sends_nothing(isolated_home: Path) -> None:
    env = Environment.load({"DAILIES_HOME": str(isolated_home), "DAILIES_PROVIDER_X_KIND": "pika",
                            "DAILIES_PROVIDER_NOURL_KEY_FROM": "GATEWAY_API_KEY",
                            "DAILIES_PROVIDER_REMOTE_BASE_URL": "https://x.example/v1", **SECRETS},
                           secrets_path=isolated_home / "none.toml")
    assert set(env.providers) == {"x", "nourl"}, "remote is the environment's own and cannot be redefined"
    shared = Studio(env)
    try:
        assert "Unknown provider kind 'pika'" in registry.problem(shared.provider("x"))
        assert "needs a base URL" in registry.problem(shared.provider("nourl"))
    finally:
        shared.close()


# -- (e) a settings file from before sends nothing and says what to define ---------------------------------


def test_an_old_settings_file_that_names_keys_sends_nothing_and_says_what_to_configure(
    tmp_path: Path, recorder: Recorder
) -> None:
    home = tmp_path / "home"
    fal_url = f"http://127.0.0.1:{port_of(recorder)}/fal"
    SettingsFile(home / "settings.json").save(Settings(active_provider="steal", extra_providers=[
        ProviderSettings("steal", "steal", base_url=recorder.base_url, key_from="GOOGLE_API_KEY"),
        ProviderSettings("falx", "falx", kind="fal", base_url=fal_url, rates=registry.prices("fal").to_table()),
    ]))
    tested = cli(home, "providers", "--test", **SECRETS)
    found = {line["provider"]: line for line in lines(tested.stdout)}
    assert tested.returncode == 1 and set(found) == {"engine", "steal", "falx"}, tested.stderr
    assert recorder.seen == [], "nothing is sent by a provider whose key is not defined where keys live"
    steal, falx = found["steal"]["problem"], found["falx"]["problem"]
    assert "[providers.steal]" in steal and f'base_url = "{recorder.base_url}"' in steal
    assert 'key_from = "GOOGLE_API_KEY"' in steal and ".streamlit/secrets.toml" in steal
    assert "[providers.falx]" in falx and 'kind = "fal"' in falx and f'base_url = "{fal_url}"' in falx

    submitted = cli(home, "submit", "a kite", "--provider", "steal", "--model", "sora-2", **SECRETS)
    assert submitted.returncode == 1 and "[providers.steal]" in submitted.stderr
    assert recorder.seen == []


def test_an_old_entry_becomes_labels_and_rates_once_the_server_defines_it(isolated_home: Path) -> None:
    with FakeFal() as fake:
        SettingsFile(isolated_home / "settings.json").save(Settings(extra_providers=[
            ProviderSettings("falx", "Kling on fal", kind="fal", base_url="http://127.0.0.1:9/fal",
                             rates={"fal-ai/veo3": 0.5})]))
        env = Environment.load({"DAILIES_HOME": str(isolated_home), "DAILIES_PROVIDER_FALX_KIND": "fal",
                                "DAILIES_PROVIDER_FALX_BASE_URL": fake.base_url, **SECRETS},
                               secrets_path=isolated_home / "none.toml")
        shared = Studio(env)
        try:
            assert registry.problem(shared.provider("falx")) is None
            assert shared.provider("falx").label == "Kling on fal"
            assert shared.estimate(JobRequest("a kite", "fal-ai/veo3", "1280x720", 8), "falx") == pytest.approx(4.0)
            assert registry.connection_test(shared.provider("falx")).ok
        finally:
            shared.close()
        assert {r.headers.get("Authorization") for r in fake.requests} == {f"Key {FAL_KEY}"}


def test_the_page_shows_an_old_entry_with_the_table_to_put_in_secrets_toml(open_page, recorder: Recorder) -> None:
    SettingsFile(Environment.load().home / "settings.json").save(Settings(extra_providers=[
        ProviderSettings("steal", "steal", base_url=recorder.base_url, key_from="GOOGLE_API_KEY")]))
    at = no_exception(open_page("settings.py"))
    assert any("defined where keys live" in str(w.value) for w in at.warning)
    assert any(c.value == f'[providers.steal]\nkind = "openai_compat"\nbase_url = "{recorder.base_url}"\n'
                          'key_from = "GOOGLE_API_KEY"' for c in at.code)
    at.button(key="test_steal").click().run()
    assert recorder.seen == []


def test_add_provider_refuses_a_key_variable_whatever_its_name(isolated_home: Path) -> None:
    shared = Studio(Environment.load({"DAILIES_HOME": str(isolated_home), **SECRETS},
                                     secrets_path=isolated_home / "none.toml"))
    try:
        for name in ("GATEWAY_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY"):
            with pytest.raises(ValidationError, match=r"\[providers\.gw\]"):
                shared.add_provider("gw", "https://gateway.example.com/v1", name)
        with pytest.raises(ValidationError, match="not to Google Veo's own API"):
            shared.add_provider("veo", "https://proxy.example.com", kind="google")
    finally:
        shared.close()
    assert not (isolated_home / "settings.json").exists()
