"""Provider kinds: the one door through which Settings, the CLI and tests build a provider.

A *kind* is a way of reaching videos (`openai_compat`, `fal`, `replicate`, `runway`, `google`); a
*provider* is one configured instance of a kind, with a name the team chose. Everything a page needs to
offer a kind (its label, the environment variables its key is read from, what it supports, its default
price table) is data here, so adding a vendor is adding one `ProviderKind`.

Interface:

- `KINDS: dict[str, ProviderKind]`, in the order a page should list them; `kind(name)` looks one up
  (an unknown kind is a `ValidationError` naming the known ones).
- `ProviderKind` fields: `name`, `label`, `key_variables` (checked in order; the first set wins),
  `key_required` (False for OpenAI-compatible servers, which may need none), `needs_base_url`,
  `supports` (a sentence for Settings and the README), `default_rates` (dollars per second per model,
  as `pricing.Rate`s) and `factory`.
- `build(name, settings, key_lookup=os.environ.get) -> VideoProvider`: `settings` is any object or
  mapping with `kind` and optionally `label`, `base_url`, `moderation` (config's `ProviderSettings`
  fits). Keys are read through `key_lookup` at build time and never stored in settings; a kind whose key
  is missing raises `MissingKey` (a `RequestRefused`) whose message names the variable to set, and
  nothing is sent anywhere. For a vendor kind, `base_url` replaces the vendor's API host (a proxy, or a
  local fake in tests).
- `key_problem(kind, key_lookup)`: the sentence `build` would raise, or None, for Settings to show
  before anyone presses a button.
- `prices(kind)`: the kind's default `PriceList` (Settings edits its `to_table()`).
- `connection_test(provider)`: the provider's `health()`, never raising, for Settings' button.

Importing this module does not import the vendors' SDKs (`catalog.py` holds their data); a kind's
SDK is imported when the first provider of that kind is built.

Thread-safety: everything here is immutable data and pure functions; providers say their own.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dailies.errors import APIError, DailiesError, ValidationError
from dailies.pricing import DEFAULT_RATES as OPENAI_RATES
from dailies.pricing import PriceList, Rate
from dailies.providers._vendor import MissingKey, key_from
from dailies.providers.base import Health, VideoProvider
from dailies.providers.catalog import FAL, GOOGLE, REPLICATE, RUNWAY, VendorCatalog
from dailies.providers.openai_compat import OpenAICompatibleConfig, OpenAICompatibleProvider

KeyLookup = Callable[[str], str | None]


@dataclass(frozen=True)
class ProviderKind:
    name: str
    label: str
    key_variables: tuple[str, ...]
    supports: str
    default_rates: tuple[Rate, ...]
    factory: Callable[[str, Any, KeyLookup], VideoProvider]
    """`(provider name, settings, key_lookup) -> provider`."""
    key_required: bool = True
    needs_base_url: bool = False


def _setting(settings: Any, field: str, default: Any = None) -> Any:
    if isinstance(settings, Mapping):
        return settings.get(field, default)
    return getattr(settings, field, default)


def _openai_compat(name: str, settings: Any, key_lookup: KeyLookup) -> VideoProvider:
    base_url = str(_setting(settings, "base_url") or "").strip()
    if not base_url:
        raise ValidationError("An OpenAI-compatible provider needs a base URL (e.g. http://localhost:4000/v1).",
                              field="base_url")
    key = next((v for v in (key_lookup(n) for n in KINDS["openai_compat"].key_variables) if v), None)
    return OpenAICompatibleProvider(OpenAICompatibleConfig(
        name, base_url, label=str(_setting(settings, "label") or name), api_key=key,
        moderation=bool(_setting(settings, "moderation", False)),
    ))


def _vendor(catalog: VendorCatalog, class_name: str, url_arg: str) -> Callable[[str, Any, KeyLookup], VideoProvider]:
    """A factory that imports the vendor's module (and so its SDK) only when a provider is built."""

    def factory(name: str, settings: Any, key_lookup: KeyLookup) -> VideoProvider:
        key = key_from(catalog.key_variables, catalog.label, key_lookup)
        base_url = str(_setting(settings, "base_url") or "").strip() or None
        label = str(_setting(settings, "label") or catalog.label)
        cls = getattr(importlib.import_module(f"dailies.providers.{catalog.kind}"), class_name)
        return cls(name, api_key=key, label=label, **{url_arg: base_url})

    return factory


KINDS: dict[str, ProviderKind] = {
    kind.name: kind
    for kind in (
        ProviderKind(
            "openai_compat", "OpenAI-compatible (OpenAI, LiteLLM gateway, the embedded engine)",
            ("DAILIES_API_KEY", "OPENAI_API_KEY"),
            "Whatever the server offers of the OpenAI Videos API: create, remix, extend, edit, delete, list.",
            OPENAI_RATES, _openai_compat, key_required=False, needs_base_url=True,
        ),
        ProviderKind(
            FAL.kind, "fal (Kling, Veo 3, Seedance on fal's queue)", FAL.key_variables,
            "Text and image to video, 16:9/9:16/1:1, cancel of a queued request; no delete, extend or list.",
            FAL.default_rates, _vendor(FAL, "FalProvider", "queue_url"),
        ),
        ProviderKind(
            REPLICATE.kind, "Replicate (Veo 3, Seedance, Kling, MiniMax)", REPLICATE.key_variables,
            "Text and image to video per model, progress from logs, cancel; no extend or remix.",
            REPLICATE.default_rates, _vendor(REPLICATE, "ReplicateProvider", "base_url"),
        ),
        ProviderKind(
            RUNWAY.kind, "Runway (Gen-4.5, Gen-4 Turbo, Veo 3.1)", RUNWAY.key_variables,
            "Text and image to video, progress, cancel and delete of tasks; no extend or list.",
            RUNWAY.default_rates, _vendor(RUNWAY, "RunwayProvider", "base_url"),
        ),
        ProviderKind(
            GOOGLE.kind, "Google Veo (Vertex AI, express mode)", GOOGLE.key_variables,
            "Text and image to video, 720p/1080p, audio, Veo 3.1 extension; no cancel, delete or list.",
            GOOGLE.default_rates, _vendor(GOOGLE, "GoogleVeoProvider", "base_url"),
        ),
    )
}


def kind(name: str) -> ProviderKind:
    found = KINDS.get(name)
    if found is None:
        raise ValidationError(f"Unknown provider kind {name!r}; known kinds: {', '.join(KINDS)}.", field="kind")
    return found


def build(name: str, settings: Any, key_lookup: KeyLookup = os.environ.get) -> VideoProvider:
    """A provider of `settings.kind` named `name`, its key read now through `key_lookup`."""
    return kind(str(_setting(settings, "kind") or "openai_compat")).factory(name, settings, key_lookup)


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


__all__ = ["KINDS", "MissingKey", "ProviderKind", "build", "connection_test", "key_problem", "kind", "prices"]
