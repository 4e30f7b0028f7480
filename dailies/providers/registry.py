"""Provider kinds: the one door through which Settings, the CLI and tests build a provider.

A *kind* is a way of reaching videos (`openai_compat`, `fal`, `replicate`, `runway`, `google`); a
*provider* is one configured instance of a kind, with a name the team chose. Everything a page needs to
offer a kind (its label, the environment variables its key is read from, what it supports, its default
price table) is data: the OpenAI-compatible kinds here, each native vendor's `VendorCatalog` in
`catalog.VENDORS`, and a vendor another package adds as an entry point of the `dailies.providers` group
(`PLUGIN_GROUP`) naming its `VendorCatalog`, as `llm`'s plugins do. A vendor's provider class is loaded
from its catalogue's `provider` reference when the first provider of that kind is built.

Interface:

- `KINDS: dict[str, ProviderKind]`, in the order a page should list them; `kind(name)` looks one up
  (an unknown kind is a `ValidationError` naming the known ones).
- `ProviderKind` fields: `name`, `label`, `key_variables` (checked in order; the first set wins),
  `key_required` (False for OpenAI-compatible servers, which may need none), `needs_base_url`,
  `supports` (a sentence for Settings and the README), `default_rates` (dollars per second per model,
  as `pricing.Rate`s) and `factory`.
- `build(name, settings, key_lookup=os.environ.get, *, webhook_url=None, transport=None) -> VideoProvider`: the door for
  providers defined where keys live (config's `ServerProvider`, a test's code). `settings` is any object or
  mapping with `kind` and optionally `label`, `base_url`, `key_from`, `moderation`. Keys are read through
  `key_lookup` at build time and never stored; a kind whose key is missing raises `MissingKey` (a
  `RequestRefused`) whose message names the variable to set, and nothing is sent anywhere. `webhook_url`
  (a `WebhookLookup`) goes to a vendor whose creates can carry a callback URL (`takes_callbacks`: fal,
  Replicate); others ignore it. For a vendor kind, `base_url` replaces the vendor's API host (a proxy, or a
  local fake in tests) and its key goes there. An OpenAI-compatible server gets only the key in the
  variable its `key_from` names: with that variable unset it is built as an `UnkeyedProvider` that says so
  and sends nothing. `transport` (an `httpx.BaseTransport`: a test's `MockTransport`, a bench's counting
  transport) is what an OpenAI-compatible provider's client sends through; a vendor, reached through its
  SDK, refuses one (`NotSupported`): point its `base_url` at a local fake instead.
- A `google` provider carries no key: it is built in the Google Cloud `project` (and `location`,
  `credentials_file`) its definition names; without a project it is refused with `google_problem`'s
  sentence. `setup_of(settings)` gives those three for Settings and the CLI to show (none is a secret).
- `build_added(...)`: the door for providers added in Settings or the CLI (`settings.json`), which never
  carry a key to a host someone typed: an OpenAI-compatible server is built without a key, a vendor on
  its own API. An entry that names a key variable or a vendor's base URL (a settings file from before)
  is built as an `Unavailable` provider saying what to define where keys live (`added_problem`).
- `added_problem(name, settings)`: that sentence, or None; `add_provider` refuses with it.
- `definition(name, kind, base_url, key_from)`: the `[providers.<name>]` table that defines such a provider.
- `build_or_explain(...)`: the same, but a provider that cannot be built (no key, an unknown kind) comes
  back as an `Unavailable` provider that says why on every call, so the app starts and Settings shows it.
- `problem(provider)`: why a provider built that way cannot be sent anything, or None.
- `identity(settings, key_lookup)`: what makes two builds the same provider (kind, base URL, label, key
  variable, a digest of the key), so the studio keeps an unchanged provider rather than replacing it.
- `key_problem(kind, key_lookup)`: the sentence `build` would raise, or None, for Settings to show
  before anyone presses a button.
- `prices(kind)`: the kind's default `PriceList` (Settings edits its `to_table()`).
- `connection_test(provider)`: the provider's `health()`, never raising, for Settings' button.

Importing this module does not import the vendors' SDKs (`catalog.py` holds their data); a kind's
SDK is imported when the first provider of that kind is built.

Thread-safety: everything here is immutable data and pure functions; providers say their own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import httpx

from dailies.errors import APIError, DailiesError, NotSupported, RequestRefused, ValidationError
from dailies.jobs import JobRequest
from dailies.pricing import DEFAULT_RATES as OPENAI_RATES
from dailies.pricing import PriceList, Rate
from dailies.providers._vendor import MissingKey, capabilities_of, key_from
from dailies.providers.base import (
    CallbackSigning,
    Capabilities,
    Health,
    ModelInfo,
    ModerationVerdict,
    RemoteVideo,
    VideoProvider,
    WebhookLookup,
)
from dailies.providers.catalog import VENDORS, VendorCatalog
from dailies.providers.openai_compat import OpenAICompatibleConfig, OpenAICompatibleProvider
from dailies.providers.vendor_base import KeyLookup, setting

log = logging.getLogger(__name__)

PLUGIN_GROUP = "dailies.providers"
"""The entry-point group another package adds a vendor in: each entry point names a `VendorCatalog`."""

Factory = Callable[..., VideoProvider]
"""`(provider name, settings, key_lookup, *, webhook_url, transport) -> provider`."""


@dataclass(frozen=True)
class ProviderKind:
    name: str
    label: str
    key_variables: tuple[str, ...]
    supports: str
    default_rates: tuple[Rate, ...]
    factory: Factory
    key_required: bool = True
    needs_base_url: bool = False
    speaks_openai: bool = False
    """An OpenAI Videos API server: its key is in the variable named when it was added (`key_from`), and
    it is priced by the team's table unless it has its own."""


class UnkeyedProvider(OpenAICompatibleProvider):
    """An added server whose key variable is unset (or not allowed): it says which variable to set and
    sends nothing."""

    def __init__(self, config: OpenAICompatibleConfig, missing: str) -> None:
        super().__init__(config)
        self.missing = missing

    def health(self) -> Health:
        return Health(False, self.missing)

    def submit(self, request: JobRequest, *, source_remote_id: str | None = None) -> RemoteVideo:
        raise ValidationError(self.missing)


class Unavailable:
    """A provider Settings describes but that cannot be built here (its key is not set, its kind is
    unknown): listed like any other, it answers every call with the sentence saying why, sends nothing."""

    base_url = ""

    def __init__(self, name: str, label: str, why: RequestRefused, caps: Capabilities | None = None) -> None:
        self.name, self.label, self.why = name, label, why
        self._caps = caps

    def _refuse(self) -> ValidationError:
        """A fresh refusal each time (not the one exception shared by threads, its traceback growing)."""
        return ValidationError(str(self.why))

    def capabilities(self) -> Capabilities:
        """Its kind's catalogue, so pages that show it still draw (the studio's checks say why it cannot go)."""
        if self._caps is None:
            raise self._refuse()
        return self._caps

    def submit(self, request: JobRequest, *, source_remote_id: str | None = None) -> RemoteVideo:
        raise self._refuse()

    def refresh(self, remote_id: str) -> RemoteVideo:
        raise self._refuse()

    def download(self, remote_id: str, variant: str, dest: Any, on_progress: Any = None) -> Any:
        raise self._refuse()

    def delete(self, remote_id: str) -> None:
        raise self._refuse()

    def list_models(self) -> list[ModelInfo]:
        raise self._refuse()

    def moderate(self, text: str) -> ModerationVerdict | None:
        return None

    def health(self) -> Health:
        return Health(False, str(self.why))

    def list_videos(self) -> Iterator[dict[str, Any]]:
        raise NotSupported(f"{self.label} has no list of videos: {self.why}")

    def drop_variant(self, variant: str) -> None:
        """It fetches nothing: nothing to drop."""

    def create_webhook_endpoint(self, *, url: str, name: str, event_types: list[str]) -> dict[str, Any]:
        raise NotSupported(str(self.why))

    def delete_webhook_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        raise NotSupported(str(self.why))

    def test_webhook_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        raise NotSupported(str(self.why))

    def callback_signing(self) -> CallbackSigning:
        raise NotSupported(str(self.why))

    def closer(self) -> Callable[[], None]:
        return _nothing

    def close(self) -> None:
        return None


def _nothing() -> None:
    """Closing a provider that holds no connections."""


def _openai_compat(name: str, settings: Any, key_lookup: KeyLookup, *, webhook_url: WebhookLookup | None = None,
                   transport: httpx.BaseTransport | None = None) -> VideoProvider:
    """An OpenAI Videos API server (its webhooks are endpoints registered at the server, not per request)."""
    base_url = str(setting(settings, "base_url") or "").strip()
    if not base_url:
        raise ValidationError("An OpenAI-compatible provider needs a base URL (e.g. http://localhost:4000/v1).",
                              field="base_url")
    config = OpenAICompatibleConfig(name, base_url, label=str(setting(settings, "label") or name),
                                    moderation=bool(setting(settings, "moderation", False)))
    variable = str(setting(settings, "key_from") or "").strip()
    if not variable:
        return OpenAICompatibleProvider(config, transport=transport)
    key = key_lookup(variable)
    if not key:
        return UnkeyedProvider(config, f"{config.label} has no key: set {variable} in the environment or "
                                       ".streamlit/secrets.toml, then restart the app.")
    return OpenAICompatibleProvider(OpenAICompatibleConfig(
        config.name, config.base_url, label=config.label, api_key=key, moderation=config.moderation),
        transport=transport)


def _vendor(catalog: VendorCatalog) -> Factory:
    """A factory that loads the vendor's provider class (and so its SDK) only when a provider is built."""

    def factory(name: str, settings: Any, key_lookup: KeyLookup, *, webhook_url: WebhookLookup | None = None,
                transport: httpx.BaseTransport | None = None) -> VideoProvider:
        return catalog.load().from_settings(name, settings, key_lookup, webhook_url=webhook_url, transport=transport)

    return factory


def _vendor_kind(catalog: VendorCatalog) -> ProviderKind:
    return ProviderKind(catalog.kind, catalog.title or catalog.label, catalog.key_variables, catalog.supports,
                        catalog.default_rates, _vendor(catalog), key_required=catalog.key_required)


def plugin_catalogs() -> list[VendorCatalog]:
    """The vendors other packages add: every entry point of `PLUGIN_GROUP` that names a `VendorCatalog`.

    One that cannot be loaded, or names something else, is logged and left out: a broken plug-in does not
    keep the app from starting.
    """
    found = []
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            catalog = entry.load()
        except Exception:  # any error of another package's import: said, and that vendor left out
            log.exception("the provider plug-in %s (%s) could not be loaded", entry.name, entry.value)
            continue
        if isinstance(catalog, VendorCatalog):
            found.append(catalog)
        else:
            log.warning("the provider plug-in %s names %r, not a VendorCatalog: left out", entry.name, catalog)
    return found


GOOGLE_SETUP = ("project", "location", "credentials_file")
"""Where a Google Veo provider runs (a Google Cloud project), from its definition where keys live; not secrets."""


def setup_of(settings: Any) -> dict[str, str]:
    """A provider's Google project, location and service-account file as its definition gives them (the set
    ones), for Settings and the CLI to show: a file's path, never its content."""
    return {field: value for field in GOOGLE_SETUP if (value := str(setting(settings, field) or "").strip())}


def google_problem(name: str, settings: Any, key_lookup: KeyLookup = os.environ.get) -> str | None:
    """Why a Google Veo provider cannot be built from this definition (no project), or None.

    google-genai 3.3.0 creates videos only on Vertex AI ("Currently, only Gemini Enterprise Agent Platform
    supports video generation", its README; `Models._generate_videos` raises in Gemini Developer API mode),
    and Vertex's express mode (an API key, no project) lists only countTokens, generateContent and
    streamGenerateContent in its REST reference. So an API key alone makes no video: a project does.
    """
    if str(setting(settings, "project") or "").strip():
        return None
    keys = [v for v in ("GOOGLE_API_KEY", "GEMINI_API_KEY") if key_lookup(v)]
    said = (f"Google Veo makes videos only in a Google Cloud project (Vertex AI): set project (and location, "
            f"default us-central1, and credentials_file, a service-account JSON key on this server; without one "
            f"Application Default Credentials are used) in [providers.{name}] of .streamlit/secrets.toml")
    if "-" not in name:
        said += f" or DAILIES_PROVIDER_{env_name(name)}_PROJECT (_LOCATION, _CREDENTIALS_FILE)"
    said += ", then restart the app."
    if keys:
        said += (f" {' and '.join(keys)} is not used: an AI Studio (Gemini API) key cannot make Veo videos through "
                 "google-genai 3.3.0, and a Vertex express-mode key serves only generateContent and countTokens.")
    return said


OPENAI_KINDS = (
    ProviderKind(
        "openai_compat", "OpenAI-compatible server (OpenAI, a vendor's clone, another engine)", (),
        "Whatever the server offers of the OpenAI Videos API: create, remix, extend, edit, delete, list.",
        OPENAI_RATES, _openai_compat, key_required=False, needs_base_url=True, speaks_openai=True,
    ),
    ProviderKind(
        "litellm", "LiteLLM gateway (its proxy in front of Veo, Runway, Azure...)", (),
        "Create, status, download, remix, extend and edit by id (sent as JSON, with the model LiteLLM "
        "routes by); no listing, deleting or image variants (thumbnails are made here from the video).",
        OPENAI_RATES, _openai_compat, key_required=False, needs_base_url=True, speaks_openai=True,
    ),
)


def _catalogs() -> dict[str, VendorCatalog]:
    """The built-in vendors, then the plug-ins' (a plug-in never replaces a kind already known)."""
    found: dict[str, VendorCatalog] = {}
    for catalog in (*VENDORS, *plugin_catalogs()):
        if catalog.kind in found or catalog.kind in {k.name for k in OPENAI_KINDS}:
            log.warning("a second provider kind %r is left out", catalog.kind)
            continue
        found[catalog.kind] = catalog
    return found


CATALOGS: dict[str, VendorCatalog] = _catalogs()
KINDS: dict[str, ProviderKind] = {kind.name: kind for kind in (
    *OPENAI_KINDS, *map(_vendor_kind, CATALOGS.values()))}
"""Every kind, in the order a page should list them."""


def kind(name: str) -> ProviderKind:
    found = KINDS.get(name)
    if found is None:
        raise ValidationError(f"Unknown provider kind {name!r}; known kinds: {', '.join(KINDS)}.", field="kind")
    return found


def build(name: str, settings: Any, key_lookup: KeyLookup = os.environ.get, *,
          webhook_url: WebhookLookup | None = None, transport: httpx.BaseTransport | None = None) -> VideoProvider:
    """A provider of `settings.kind` named `name`, its key read now through `key_lookup`; `transport`: what an
    OpenAI-compatible provider's client sends through (a test's or a bench's)."""
    found = kind(str(setting(settings, "kind") or "openai_compat"))
    return found.factory(name, settings, key_lookup, webhook_url=webhook_url, transport=transport)


def build_or_explain(name: str, settings: Any, key_lookup: KeyLookup = os.environ.get, *,
                     webhook_url: WebhookLookup | None = None,
                     transport: httpx.BaseTransport | None = None) -> VideoProvider:
    """`build`, or an `Unavailable` provider saying why it could not be built (nothing is sent by it)."""
    try:
        return build(name, settings, key_lookup, webhook_url=webhook_url, transport=transport)
    except RequestRefused as exc:
        catalog = CATALOGS.get(str(setting(settings, "kind") or ""))
        caps = capabilities_of(catalog.models.values(), delete=False, unsupported={}) if catalog else None
        return Unavailable(name, str(setting(settings, "label") or name), exc, caps)


def build_added(name: str, settings: Any, key_lookup: KeyLookup = os.environ.get, *,
                webhook_url: WebhookLookup | None = None,
                transport: httpx.BaseTransport | None = None) -> VideoProvider:
    """A provider added in Settings or the CLI, which carries no key to a host someone typed.

    An OpenAI-compatible server is built with no key at all; a vendor only on its own API. An entry that
    names a key variable or a vendor's base URL (written before keys were bound to where they live) is an
    `Unavailable` provider saying what to define where keys live: nothing is sent by it.
    """
    if why := added_problem(name, settings):
        catalog = CATALOGS.get(str(setting(settings, "kind") or ""))
        caps = capabilities_of(catalog.models.values(), delete=False, unsupported={}) if catalog else None
        return Unavailable(name, str(setting(settings, "label") or name), ValidationError(why), caps)
    return build_or_explain(name, settings, key_lookup, webhook_url=webhook_url, transport=transport)


def added_problem(name: str, settings: Any) -> str | None:
    """Why a provider added in Settings or the CLI cannot be as described, or None when it can.

    Whoever can reach Settings or the CLI could otherwise send a key (one named with `key_from`, or a
    vendor's own) to a host of their choosing; such a provider is defined where keys live instead.
    """
    kind_name = str(setting(settings, "kind") or "openai_compat")
    base_url = str(setting(settings, "base_url") or "").strip()
    variable = str(setting(settings, "key_from") or "").strip()
    found = KINDS.get(kind_name)
    setup = setup_of(settings)
    if variable:
        what = f"names a key variable ({variable})"
    elif setup:
        what = f"names its Google Cloud {' and '.join(setup)}"
    elif base_url and found is not None and not found.speaks_openai:
        vendor = found.label.split(" (")[0]
        what = (f"sends its {' or '.join(found.key_variables) or 'credentials'} to {base_url}, not to {vendor}'s "
                "own API")
    else:
        return None
    variables = ("" if "-" in name else  # a variable's name has no "-"
                 f" (or set the matching DAILIES_PROVIDER_{env_name(name)}_KIND, _BASE_URL and _KEY_FROM variables)")
    return (f"{name} {what}: a provider that carries a key is defined where keys live, not in Settings or "
            f"the CLI, and this one sends nothing. Put this in .streamlit/secrets.toml{variables} and restart the app:"
            f"\n\n{definition(name, kind_name, base_url, variable, setup)}\n\n"
            + ("Added in Settings or the CLI, a server has no key variable (it is sent no key)." if variable else
               "Added in Settings or the CLI, a Google provider has no project or credentials (they say whose "
               "account pays and acts)." if setup else
               "Added in Settings or the CLI, a vendor has no base URL (its key goes to its own API only)."))


def env_name(name: str) -> str:
    """A provider's name as it appears in its `DAILIES_PROVIDER_<NAME>_...` variables."""
    return name.upper().replace("-", "_")


def definition(name: str, kind_name: str, base_url: str = "", key_from: str = "",
               setup: Mapping[str, str] | None = None) -> str:
    """The `[providers.<name>]` table of `.streamlit/secrets.toml` that defines this provider (TOML);
    `setup`: a Google provider's project, location and credentials_file."""
    lines = [f"[providers.{name}]", f"kind = {json.dumps(kind_name)}"]
    lines += [f"{field} = {json.dumps(value)}" for field, value in (("base_url", base_url), ("key_from", key_from),
                                                                   *(setup or {}).items()) if value]
    return "\n".join(lines)


def problem(provider: VideoProvider) -> str | None:
    """Why a provider cannot be sent anything (its key is not set...), or None when it can be tried."""
    if isinstance(provider, Unavailable):
        return str(provider.why)
    if isinstance(provider, UnkeyedProvider):
        return provider.missing
    return None


def identity(settings: Any, key_lookup: KeyLookup = os.environ.get) -> tuple[Any, ...]:
    """What makes two builds of a provider the same: equal identities, keep the one already serving.

    The key itself is not kept, only a digest of it (a changed key in the environment is a new provider).
    """
    kind_name = str(setting(settings, "kind") or "openai_compat")
    variables = key_variables(settings)
    key = next((v for v in (key_lookup(n) for n in variables if n) if v), "")
    return (kind_name, str(setting(settings, "base_url") or "").strip(), str(setting(settings, "label") or ""),
            variables, bool(setting(settings, "moderation", False)), hashlib.sha256(key.encode()).hexdigest(),
            tuple(sorted(setup_of(settings).items())))


def key_variables(settings: Any, *, added: bool = False) -> tuple[str, ...]:
    """The variables a provider's key is read from: its kind's, or the one named for an OpenAI-compatible server.

    `added`: a provider from Settings or the CLI, whose OpenAI-compatible server reads none.
    """
    found = KINDS.get(str(setting(settings, "kind") or "openai_compat"))
    if found is None:
        return ()
    if found.speaks_openai and added:
        return ()
    if found.speaks_openai:
        variable = str(setting(settings, "key_from") or "")
        return (variable,) if variable else ()
    return found.key_variables


def speaks_openai(kind_name: str) -> bool:
    """Whether a kind is an OpenAI Videos API server (keyed by a named variable, priced by the team's table)."""
    found = KINDS.get(kind_name)
    return found is not None and found.speaks_openai


def key_problem(kind_name: str, key_lookup: KeyLookup = os.environ.get) -> str | None:
    """What `build` would say about the key, or None when the key is set (or not needed)."""
    found = kind(kind_name)
    if not found.key_required:
        return None
    try:
        key_from(found.key_variables, found.label.split(" (")[0], key_lookup)
    except MissingKey as exc:
        return str(exc)
    return None


def prices(kind_name: str) -> PriceList:
    return PriceList(kind(kind_name).default_rates)


def connection_test(provider: VideoProvider) -> Health:
    """The provider's health check for Settings' button: an answer, never an exception."""
    try:
        return provider.health()
    except (APIError, DailiesError) as exc:
        return Health(False, f"{provider.label} does not answer: {exc}")


__all__ = [
    "CATALOGS", "KINDS", "PLUGIN_GROUP", "MissingKey", "ProviderKind", "Unavailable", "UnkeyedProvider",
    "added_problem", "build", "build_added", "build_or_explain", "connection_test", "definition", "env_name",
    "google_problem", "identity", "key_problem", "key_variables", "kind", "plugin_catalogs", "prices", "problem",
    "setup_of", "speaks_openai",
]
