"""The registry by kind: every kind builds through one door, keys are read then and never stored."""

from __future__ import annotations

import pytest

from dailies.config import ProviderSettings
from dailies.errors import ValidationError
from dailies.jobs import JobRequest
from dailies.providers import registry
from dailies.providers.base import VideoProvider
from dailies.providers.fal import FalProvider
from dailies.providers.google import GoogleVeoProvider
from dailies.providers.openai_compat import OpenAICompatibleProvider
from dailies.providers.replicate import ReplicateProvider
from dailies.providers.runway import RunwayProvider
from tests.fakes.runway import KEY, FakeRunway

KEYS = {"FAL_KEY": "sk-fal-7731", "REPLICATE_API_TOKEN": "r8_sk-7732", "RUNWAYML_API_SECRET": "sk-rw-7733",
        "GOOGLE_API_KEY": "sk-goog-7734"}


@pytest.mark.parametrize(
    ("kind", "cls"),
    [("fal", FalProvider), ("replicate", ReplicateProvider), ("runway", RunwayProvider),
     ("google", GoogleVeoProvider)],
)
def test_each_vendor_kind_builds_from_settings_and_a_key(kind: str, cls: type) -> None:
    where = {"project": "my-project"} if kind == "google" else {}  # Veo: a Google Cloud project, no key
    provider = registry.build("mine", ProviderSettings("mine", "My vendor", kind=kind, **where), KEYS.get)
    assert isinstance(provider, cls) and isinstance(provider, VideoProvider)
    assert provider.name == "mine" and provider.label == "My vendor"
    assert "-77" not in repr(provider) and "-77" not in str(vars(provider).get("label"))
    caps = provider.capabilities()
    retired = set(registry.CATALOGS[kind].retired)  # priced for the takes made with them, not offered
    assert set(caps.models) | retired == {r.model_prefix for r in registry.prices(kind).rates}
    assert not retired & set(caps.models)
    provider.close()


@pytest.mark.parametrize("kind", ["fal", "replicate", "runway"])
def test_a_missing_key_is_named_before_anything_is_built(kind: str) -> None:
    variables = registry.kind(kind).key_variables
    said = registry.key_problem(kind, {}.get)
    assert said is not None and all(v in said for v in variables)
    with pytest.raises(registry.MissingKey) as raised:
        registry.build(kind, {"kind": kind}, {}.get)
    assert str(raised.value) == said
    assert registry.key_problem(kind, {variables[-1]: "set"}.get) is None


def test_openai_compatible_needs_a_base_url_but_no_key() -> None:
    provider = registry.build("gw", {"kind": "openai_compat", "base_url": "http://127.0.0.1:9/v1"}, {}.get)
    assert isinstance(provider, OpenAICompatibleProvider) and registry.key_problem("openai_compat", {}.get) is None
    provider.close()
    with pytest.raises(ValidationError, match="base URL"):
        registry.build("gw", {"kind": "openai_compat"}, {}.get)


def test_an_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="fal, replicate, runway, google"):
        registry.build("x", {"kind": "pika"})


def test_connection_test_through_the_registry() -> None:
    with FakeRunway() as fake:
        good = registry.build("rw", {"kind": "runway", "base_url": fake.base_url}, {"RUNWAYML_API_SECRET": KEY}.get)
        bad = registry.build("rw", {"kind": "runway", "base_url": fake.base_url}, {"RUNWAYML_API_SECRET": "no"}.get)
        assert registry.connection_test(good).ok
        answer = registry.connection_test(bad)
        assert not answer.ok and "Invalid API key" in answer.message
        good.close()
        bad.close()


def test_listing_kinds_does_not_import_the_vendor_sdks() -> None:
    """Settings lists kinds, keys and prices on every rerun; the four SDKs load only when one is built."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]  # this checkout's code first, as the app runs it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(root), os.environ.get("PYTHONPATH"))))}

    code = (
        "import sys; from dailies.providers import registry; "
        "[registry.prices(k) for k in registry.KINDS]; registry.key_problem('google', {}.get); "
        "print([m for m in ('runwayml', 'replicate', 'fal_client', 'google.genai') if m in sys.modules])"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                         cwd=root, env=env)
    assert ran.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("kind", "fake_path", "model", "size", "seconds", "said"),
    [
        ("fal", "tests.fakes.fal:FakeFal", "fal-ai/veo3.1", "1280x720", 8, "Invalid key"),
        ("replicate", "tests.fakes.replicate:FakeReplicate", "google/veo-3.1", "1280x720", 8, "Invalid token"),
        ("runway", "tests.fakes.runway:FakeRunway", "gen4.5", "1280x720", 5, "Invalid API key"),
    ],
)
def test_a_wrong_key_is_a_refusal_in_the_vendors_words_not_a_maybe(
    kind: str, fake_path: str, model: str, size: str, seconds: int, said: str
) -> None:
    """A 401 created nothing: the studio drops the job and shows the vendor's sentence."""
    import importlib

    from dailies.errors import AuthenticationError
    from dailies.errors import may_have_arrived as _may_have_arrived
    from dailies.jobs import JobRequest

    module, _, name = fake_path.partition(":")
    with getattr(importlib.import_module(module), name)() as fake:
        variable = registry.kind(kind).key_variables[0]
        provider = registry.build(kind, {"kind": kind, "base_url": fake.base_url}, {variable: "wrong"}.get)
        with pytest.raises(AuthenticationError, match=said) as raised:
            provider.submit(JobRequest("a kite", model, size, seconds))
        assert not _may_have_arrived(raised.value) and fake.jobs == {}
        provider.close()


def test_identity_tells_a_changed_provider_from_an_unchanged_one_without_holding_the_key() -> None:
    fal = ProviderSettings("fal", "fal", kind="fal", base_url="http://127.0.0.1:9")
    same = registry.identity(fal, {"FAL_KEY": "sk-fal-7731"}.get)
    assert same == registry.identity(ProviderSettings("fal", "fal", kind="fal", base_url="http://127.0.0.1:9"),
                                     {"FAL_KEY": "sk-fal-7731"}.get)
    assert same != registry.identity(fal, {"FAL_KEY": "sk-fal-other"}.get), "a new key is a new provider"
    assert same != registry.identity(ProviderSettings("fal", "renamed", kind="fal", base_url="http://127.0.0.1:9"),
                                     {"FAL_KEY": "sk-fal-7731"}.get)
    assert "sk-fal-7731" not in repr(same)


def test_build_or_explain_lists_a_google_provider_without_a_project_with_its_catalogue_and_sends_nothing() -> None:
    """Veo needs a Google Cloud project, not a key: without one it is listed, says what to define, sends nothing."""
    assert registry.key_problem("google", {}.get) is None and registry.kind("google").key_variables == ()
    provider = registry.build_or_explain("veo", ProviderSettings("veo", "veo", kind="google"), {}.get)
    assert isinstance(provider, registry.Unavailable)
    said = registry.problem(provider)
    assert said is not None and "[providers.veo]" in said and "project" in said and "GOOGLE_API_KEY" not in said
    assert "veo-3.1-generate-001" in provider.capabilities().models
    assert not registry.connection_test(provider).ok
    with pytest.raises(ValidationError, match="Google Cloud project"):
        provider.submit(JobRequest("a kite", "veo-3.1-generate-001", "1280x720", 8))


def test_a_google_project_is_defined_where_keys_live_not_in_settings() -> None:
    """Project and credentials say whose account pays and acts: an entry added in Settings naming them is refused,
    with the table to put in secrets.toml; the definition shows them (not secrets) and they make its identity."""
    added = ProviderSettings("veo", "veo", kind="google", project="p1", credentials_file="/srv/sa.json")
    said = registry.added_problem("veo", added)
    assert said is not None and "names its Google Cloud project and credentials_file" in said
    assert 'project = "p1"' in said and 'credentials_file = "/srv/sa.json"' in said
    assert isinstance(registry.build_added("veo", added, {}.get), registry.Unavailable)
    one = registry.identity(ProviderSettings("veo", "veo", kind="google", project="p1"), {}.get)
    assert one != registry.identity(ProviderSettings("veo", "veo", kind="google", project="p2"), {}.get)
