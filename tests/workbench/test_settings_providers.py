"""Settings adds a provider by kind (a key-less server, a vendor on its own API), lists those defined where keys
live, tests their connections and keeps their rates."""

from __future__ import annotations

import dataclasses
import json

import pytest
from page_helpers import no_exception

from dailies.config import ProviderSettings
from tests.fakes.fal import KEY as FAL_KEY
from tests.fakes.fal import FakeFal
from tests.server_side import variables


def shown(element) -> str:
    """An element's text as a person reads it (markdown escapes, such as FAL\\_KEY, undone)."""
    return str(element.value).replace("\\", "")


def page_text(at) -> str:
    return "\n".join(shown(e) for e in (*at.markdown, *at.caption, *at.warning, *at.error, *at.success))


def test_a_vendor_without_its_key_is_added_and_says_which_variable_to_set(open_page, studio_of, monkeypatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    at = no_exception(open_page("settings.py"))
    at.selectbox(key="new_provider_kind").select("fal").run()
    assert any("set FAL_KEY" in shown(w) for w in at.warning), "the missing key is named before adding"
    assert not [box for box in at.text_input if box.key == "new_provider_url"], "a vendor is on its own API"
    assert any(c.value.startswith('[providers.fal]\nkind = "fal"') for c in at.code), "a proxy is defined there"
    at.text_input(key="new_provider_name").input("fal")
    at.button(key="add_provider").click().run()
    no_exception(at)
    assert at.selectbox(key="active_provider").options == ["engine", "fal"]
    at.button(key="test_fal").click().run()
    assert any("set FAL_KEY" in shown(e) for e in at.error), "a provider without its key sends nothing"
    saved = json.loads((studio_of().home / "settings.json").read_text())["extra_providers"]
    assert [(p["name"], p["kind"], p["base_url"], p["key_from"]) for p in saved] == [("fal", "fal", "", "")]


def test_a_vendor_defined_on_the_server_answers_the_connection_test_and_its_rates_are_kept(
    open_page, studio_of, monkeypatch
) -> None:
    monkeypatch.setenv("FAL_KEY", FAL_KEY)
    with FakeFal() as fake:
        for name, value in variables("kling", "fal", fake.base_url).items():
            monkeypatch.setenv(name, value)
        at = no_exception(open_page("settings.py"))
        assert "Defined on the server ([providers.kling]" in page_text(at) and "(from FAL_KEY)" in page_text(at)
        assert "Key: …" in page_text(at)
        at.button(key="test_kling").click().run()
        assert any("answers" in s.value for s in at.success), page_text(at)
        assert {r.headers.get("Authorization") for r in fake.requests} == {f"Key {FAL_KEY}"}
        assert "kling (fal" in page_text(at), "the vendor's rates are shown with the others"
        at.number_input(key="budget").set_value(30.0)
        at.button(key="save_settings").click().run()
        assert any(s.value == "Saved." for s in at.success)
        assert not json.loads((studio_of().home / "settings.json").read_text())["extra_providers"], \
            "unchanged catalogue rates add nothing to settings.json"
        rates = at.data_editor(key="rates_kling")
        assert rates is not None
        studio_of().save_settings(dataclasses.replace(studio_of().settings, extra_providers=[
            ProviderSettings("kling", "kling", kind="fal", rates={"fal-ai/veo3": 0.5})]))
        at = no_exception(open_page("settings.py"))
        at.button(key="save_settings").click().run()
    settings_file = studio_of().home / "settings.json"
    saved = json.loads(settings_file.read_text())
    (kling,) = saved["extra_providers"]
    assert kling["rates"] == {"fal-ai/veo3": pytest.approx(0.5)} and saved["daily_budget_usd"] == 30.0
    assert kling["base_url"] == "" and kling["key_from"] == "", "Settings prices it; the server says where it is"
    assert FAL_KEY not in settings_file.read_text() and fake.base_url not in settings_file.read_text()


def test_a_server_in_plain_http_beyond_this_machine_is_refused(open_page, studio_of) -> None:
    at = open_page("settings.py")
    at.selectbox(key="new_provider_kind").select("openai_compat").run()
    at.text_input(key="new_provider_name").input("gateway")
    at.text_input(key="new_provider_url").input("http://gateway.example.com/v1")
    at.button(key="add_provider").click().run()
    assert any("only for this machine" in e.value for e in at.error)
    assert not (studio_of().home / "settings.json").exists(), "a refused provider is not saved"


def test_a_litellm_gateway_added_here_is_sent_no_key_and_one_with_a_key_is_defined_on_the_server(
    open_page, studio_of, engine, monkeypatch
) -> None:
    monkeypatch.setenv("LITELLM_API_KEY", "sk-litellm-0123456789")
    for name, value in variables("keyed", "litellm", engine.base_url, "LITELLM_API_KEY").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAILIES_PROVIDER_UNSET_KIND", "litellm")
    monkeypatch.setenv("DAILIES_PROVIDER_UNSET_BASE_URL", engine.base_url)
    monkeypatch.setenv("DAILIES_PROVIDER_UNSET_KEY_FROM", "UNSET_API_KEY")
    at = open_page("settings.py")
    at.selectbox(key="new_provider_kind").select("litellm").run()
    assert not [box for box in at.text_input if box.key == "new_provider_key"], "no key variable is typed here"
    at.text_input(key="new_provider_name").input("gateway")
    at.text_input(key="new_provider_url").input(engine.base_url)
    at.button(key="add_provider").click().run()
    no_exception(at)
    assert studio_of().providers.kind_of("gateway") == "litellm"
    assert "Added here · sent no key" in page_text(at)
    assert "Key: …6789 (from LITELLM_API_KEY)" in page_text(at)
    at.button(key="test_unset").click().run()
    assert any("set UNSET_API_KEY" in shown(e) for e in at.error)


def test_a_veo_provider_shows_its_project_and_key_file_path_and_its_connection_test_signs_in(
    open_page, monkeypatch, tmp_path
) -> None:
    """Veo is defined with a project and a service-account key file: Settings shows both (a path, never the key)
    and its connection test signs in at the file's token endpoint and reaches the project."""
    from tests.fakes.google import LOCATION, PROJECT, FakeVertexVeo, service_account_file

    with FakeVertexVeo() as fake:
        key_file = service_account_file(fake, tmp_path)
        for name, value in {**variables("veo", "google", fake.base_url), "DAILIES_PROVIDER_VEO_PROJECT": PROJECT,
                            "DAILIES_PROVIDER_VEO_LOCATION": LOCATION,
                            "DAILIES_PROVIDER_VEO_CREDENTIALS_FILE": str(key_file)}.items():
            monkeypatch.setenv(name, value)
        at = no_exception(open_page("settings.py"))
        text = page_text(at)
        assert f"Project: {PROJECT}" in text and f"Location: {LOCATION}" in text and str(key_file) in text
        assert "PRIVATE KEY" not in text
        at.button(key="test_veo").click().run()
        assert any("answers" in s.value for s in at.success), page_text(at)
        assert len(fake.exchanges) == 1
