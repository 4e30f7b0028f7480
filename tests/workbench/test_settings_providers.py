"""Settings adds a provider by kind: a vendor with its key variable, a base URL, a connection test, rates."""

from __future__ import annotations

import json

import pytest
from page_helpers import no_exception

from tests.fakes.fal import KEY as FAL_KEY
from tests.fakes.fal import FakeFal


def shown(element) -> str:
    """An element's text as a person reads it (markdown escapes, such as FAL\\_KEY, undone)."""
    return str(element.value).replace("\\", "")


def page_text(at) -> str:
    return "\n".join(shown(e) for e in (*at.markdown, *at.caption, *at.warning, *at.error, *at.success))


def test_a_vendor_without_its_key_is_added_and_says_which_variable_to_set(open_page, studio_of, monkeypatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    with FakeFal() as fake:
        at = no_exception(open_page("settings.py"))
        at.selectbox(key="new_provider_kind").select("fal").run()
        assert any("set FAL_KEY" in shown(w) for w in at.warning), "the missing key is named before adding"
        at.text_input(key="new_provider_name").input("fal")
        at.text_input(key="new_provider_url").input(fake.base_url)
        at.button(key="add_provider").click().run()
        no_exception(at)
        assert at.selectbox(key="active_provider").options == ["engine", "fal"]
        at.button(key="test_fal").click().run()
        assert any("set FAL_KEY" in shown(e) for e in at.error)
        assert fake.requests == [], "a provider without its key sends nothing"
    saved = json.loads((studio_of().home / "settings.json").read_text())["extra_providers"]
    assert [(p["name"], p["kind"], p["base_url"], p["key_from"]) for p in saved] == [("fal", "fal", fake.base_url, "")]


def test_a_vendor_with_its_key_answers_the_connection_test_and_its_rates_are_kept(
    open_page, studio_of, monkeypatch
) -> None:
    monkeypatch.setenv("FAL_KEY", FAL_KEY)
    with FakeFal() as fake:
        at = no_exception(open_page("settings.py"))
        at.selectbox(key="new_provider_kind").select("fal").run()
        assert not at.warning
        at.text_input(key="new_provider_name").input("kling")
        at.text_input(key="new_provider_url").input(fake.base_url)
        at.button(key="add_provider").click().run()
        no_exception(at)
        assert "Key: …" in page_text(at) and "(from FAL_KEY)" in page_text(at)
        at.button(key="test_kling").click().run()
        assert any("answers" in s.value for s in at.success), page_text(at)
        assert {r.headers.get("Authorization") for r in fake.requests} == {f"Key {FAL_KEY}"}
        assert "kling (fal" in page_text(at), "the vendor's rates are shown with the others"
        at.number_input(key="budget").set_value(30.0)
        at.button(key="save_settings").click().run()
        assert any(s.value == "Saved." for s in at.success)
    settings_file = studio_of().home / "settings.json"
    saved = json.loads(settings_file.read_text())
    (kling,) = saved["extra_providers"]
    assert kling["rates"]["fal-ai/veo3"] == pytest.approx(0.40) and saved["daily_budget_usd"] == 30.0
    assert FAL_KEY not in settings_file.read_text()


def test_a_vendor_base_url_in_plain_http_beyond_this_machine_is_refused(open_page, studio_of) -> None:
    at = open_page("settings.py")
    at.selectbox(key="new_provider_kind").select("runway").run()
    at.text_input(key="new_provider_name").input("runway")
    at.text_input(key="new_provider_url").input("http://runway.example.com")
    at.button(key="add_provider").click().run()
    assert any("only for this machine" in e.value for e in at.error)
    assert not (studio_of().home / "settings.json").exists(), "a refused provider is not saved"


def test_a_litellm_gateway_is_a_kind_that_keeps_the_key_rules_of_openai_compatible_servers(
    open_page, studio_of, engine, monkeypatch
) -> None:
    monkeypatch.delenv("LITELLM_API_KEY", raising=False)
    at = open_page("settings.py")
    at.selectbox(key="new_provider_kind").select("litellm").run()
    at.text_input(key="new_provider_name").input("gateway")
    at.text_input(key="new_provider_url").input(engine.base_url)
    at.text_input(key="new_provider_key").input("OPENAI_API_KEY")
    at.button(key="add_provider").click().run()
    assert any("not sent anywhere else" in shown(e) for e in at.error), "the team's key cannot be named"
    at.text_input(key="new_provider_key").input("LITELLM_API_KEY")
    at.button(key="add_provider").click().run()
    no_exception(at)
    assert studio_of().providers.kind_of("gateway") == "litellm"
    assert "Key: no key (from LITELLM_API_KEY)" in page_text(at)
    at.button(key="test_gateway").click().run()
    assert any("set LITELLM_API_KEY" in shown(e) for e in at.error)
