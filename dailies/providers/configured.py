"""The providers one process serves: the engine, the `remote` server, those defined where keys live and those
added in Settings, by name. Every one is built through `dailies.providers.registry`, the one door for a kind;
this module only decides which are wanted now and keeps an unchanged one rather than replacing it.

It may import the registry, the provider base and `dailies.config`/`dailies.pricing`; never the store or a page.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from dailies.config import ENGINE, REMOTE, Environment, ProviderSettings, ServerProvider, Settings
from dailies.errors import ValidationError
from dailies.pricing import PriceList
from dailies.providers import registry as provider_registry
from dailies.providers.base import VideoProvider
from dailies.providers.openai_compat import OpenAICompatibleConfig, OpenAICompatibleProvider

WebhookUrl = Callable[[str], str | None]
"""Where provider `name`'s creates ask for callbacks, read at each create (`dailies.webhooks.registered_url`)."""


class ConfiguredProviders:
    """Providers by name, built from the environment and Settings. Thread-safe.

    The engine, the `remote` server and the providers defined where keys live (`env.providers`) come from
    the environment and the secrets file: only they are sent a key to a base URL of theirs. Settings may
    label and price a defined provider (an entry of the same name), and add key-less servers and vendors on
    their own API, built through `dailies.providers.registry.build_added`, which sends no key anywhere else.
    """

    def __init__(
        self, env: Environment, settings: Settings, engine_base_url: str | None, engine_api_key: str | None = None,
        webhook_url: WebhookUrl | None = None, transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`webhook_url`: where a vendor that takes a callback URL per create finds its registration, if any;
        `transport`: what the OpenAI-compatible providers' clients send through (a test's or a bench's counting
        or failing one), passed to `provider_registry.build`'s seam."""
        self._engine_key = engine_api_key
        self._transport = transport
        self._webhook_url = webhook_url
        self._lock = threading.Lock()
        self._providers: dict[str, VideoProvider] = {}
        self._identities: dict[str, Any] = {}
        self._prices: dict[str, PriceList] = {}
        self._kinds: dict[str, str] = {}
        self._server_defined: set[str] = set()
        self.rebuild(env, settings, engine_base_url)

    def rebuild(self, env: Environment, settings: Settings, engine_base_url: str | None) -> None:
        """Build the providers Settings describe, replacing only those whose configuration changed.

        A provider is never closed here: another session or the tracker may be mid-call on it (a create
        cut off that way may still have been made, and paid for). An unchanged provider is kept as it
        is; a changed or removed one is retired, and its connections close once nothing holds it.
        """
        wanted: dict[str, tuple[Any, Callable[[], VideoProvider], PriceList, str]] = {}
        if engine_base_url:
            engine = OpenAICompatibleConfig(ENGINE, engine_base_url, label="Embedded engine (local preview renderer)",
                                            api_key=self._engine_key, max_retries=2)
            wanted[ENGINE] = (engine, functools.partial(OpenAICompatibleProvider, engine, transport=self._transport),
                              PriceList.from_table(settings.rates, free=True), "openai_compat")
        if env.base_url:
            host = urlsplit(env.base_url).netloc or env.base_url
            remote = OpenAICompatibleConfig(REMOTE, env.base_url, label=f"OpenAI-compatible · {host}",
                                            api_key=env.api_key, moderation=host.endswith("api.openai.com"))
            wanted[REMOTE] = (remote, functools.partial(OpenAICompatibleProvider, remote, transport=self._transport),
                              PriceList.from_table(settings.rates), "openai_compat")
        added = {extra.name: extra for extra in settings.extra_providers}
        for server in env.providers.values():
            if server.name in wanted:
                continue
            defined = _defined(server, added.get(server.name))
            wanted[server.name] = (
                provider_registry.identity(defined, env.key_named),
                functools.partial(provider_registry.build_or_explain, server.name, defined, env.key_named,
                                  webhook_url=self._webhook_lookup(server.name),
                                  transport=self._transport_for(defined.kind)),
                _prices_of(defined, settings),
                defined.kind,
            )
        for extra in settings.extra_providers:
            if extra.name in wanted or (provider_registry.speaks_openai(extra.kind) and not extra.base_url
                                        and not extra.key_from):
                continue
            wanted[extra.name] = (
                ("added", provider_registry.identity(extra, env.key_named)),
                functools.partial(provider_registry.build_added, extra.name, extra, env.key_named,
                                  webhook_url=self._webhook_lookup(extra.name),
                                  transport=self._transport_for(extra.kind)),
                _prices_of(extra, settings),
                extra.kind,
            )
        with self._lock:
            old, old_identities = self._providers, self._identities
            kept: dict[str, VideoProvider] = {}
            for name, (identity, make, _, _) in wanted.items():
                same = name in old and old_identities.get(name) == identity
                kept[name] = old[name] if same else make()
            self._providers = kept
            self._identities = {name: identity for name, (identity, _, _, _) in wanted.items()}
            self._prices = {name: prices for name, (_, _, prices, _) in wanted.items()}
            self._kinds = {name: kind for name, (_, _, _, kind) in wanted.items()}
            self._server_defined = {ENGINE, REMOTE}.union(env.providers) & set(wanted)
        for name, provider in old.items():
            if kept.get(name) is not provider:
                _retire(provider)

    def _transport_for(self, kind: str) -> httpx.BaseTransport | None:
        """The transport given, for the kinds whose client is ours (a vendor's SDK brings its own)."""
        return self._transport if provider_registry.speaks_openai(kind) else None

    def _webhook_lookup(self, name: str) -> Callable[[], str | None] | None:
        """Where provider `name`'s creates ask for callbacks: read from `webhooks.json` at each create."""
        return None if self._webhook_url is None else functools.partial(self._webhook_url, name)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._providers)

    def defined_on_server(self, name: str) -> bool:
        """Whether `name` is defined where keys live (the environment or the secrets file), not in Settings."""
        with self._lock:
            return name in self._server_defined

    def get(self, name: str) -> VideoProvider:
        with self._lock:
            provider = self._providers.get(name)
        if provider is None:
            raise ValidationError(
                f"No provider named {name!r} is configured. Configured: {', '.join(self.names()) or 'none'}."
            )
        return provider

    def prices(self, name: str) -> PriceList:
        with self._lock:
            return self._prices.get(name, PriceList())

    def kind_of(self, name: str) -> str:
        """The provider's kind (`openai_compat`, `fal`, ...), as Settings and the shoot-out show it."""
        with self._lock:
            return self._kinds.get(name, "openai_compat")

    def close(self) -> None:
        with self._lock:
            providers, self._providers = self._providers, {}
        for provider in providers.values():
            provider.close()


def _defined(server: ServerProvider, entry: ProviderSettings | None) -> ProviderSettings:
    """A provider defined where keys live, with the label and rates Settings gave it (an entry of its name and
    kind); where it is and which key it carries come from its definition only."""
    own = entry if entry is not None and entry.kind == server.kind else None
    label = (own.label if own and own.label != server.name else "") or server.label or server.name
    return ProviderSettings(name=server.name, label=label, kind=server.kind, base_url=server.base_url,
                            key_from=server.key_from, moderation=server.moderation,
                            free=own.free if own else False, rates=dict(own.rates) if own else {},
                            project=server.project, location=server.location,
                            credentials_file=server.credentials_file)


def _prices_of(extra: ProviderSettings, settings: Settings) -> PriceList:
    """An added provider's rates: its own table when Settings has one, else its kind's defaults (a vendor)
    or the team's table for OpenAI-compatible servers."""
    if extra.rates:
        return PriceList.from_table(extra.rates, free=extra.free)
    if extra.kind in provider_registry.KINDS and not provider_registry.speaks_openai(extra.kind):
        return PriceList(provider_registry.prices(extra.kind).rates, free=extra.free)
    return PriceList.from_table(settings.rates, free=extra.free)


def _retire(provider: VideoProvider) -> None:
    """Close a replaced provider's connections once nothing uses it any more (the last call returned).

    The finalizer holds the provider's `closer()` (its connections' owner), never the provider itself, which
    would keep it alive.
    """
    weakref.finalize(provider, provider.closer())


__all__ = ["ConfiguredProviders", "WebhookUrl"]
