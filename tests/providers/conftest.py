"""Each vendor's fake with a provider on it, through the vendor's official SDK: the fixtures every vendor test
shares (`fal`, `rep`, `runway`, `google`, each a `(fake, provider)` pair).

A test module that is about one vendor names it in `VENDOR` and takes `fake` and `provider` on their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import fal_client.client
import pytest

from dailies.providers.base import VideoProvider
from dailies.providers.fal import FalProvider
from dailies.providers.google import GoogleVeoProvider
from dailies.providers.replicate import ReplicateProvider
from dailies.providers.runway import RunwayProvider
from tests.fakes.fal import KEY as FAL_KEY
from tests.fakes.fal import FakeFal
from tests.fakes.google import FakeVertexVeo
from tests.fakes.replicate import KEY as REPLICATE_KEY
from tests.fakes.replicate import FakeReplicate
from tests.fakes.runway import KEY as RUNWAY_KEY
from tests.fakes.runway import FakeRunway
from tests.providers._helpers import veo

F = TypeVar("F")
P = TypeVar("P", bound=VideoProvider)


def _provider_on(fake_class: Callable[[], F], build: Callable[[F], P]) -> Iterator[tuple[F, P]]:
    """Serve the fake, build the provider on it, close both after the test."""
    with fake_class() as fake:
        provider = build(fake)
        yield fake, provider
        provider.close()


@pytest.fixture
def fal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeFal, FalProvider]]:
    """fal's queue, storage and published schemas at the fake; fal-client's own queue host at a closed port, so
    anything that still reached for fal's real hosts fails loudly instead of leaving the machine."""
    monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", "http://127.0.0.1:9/")

    def build(fake: FakeFal) -> FalProvider:
        monkeypatch.setattr(fal_client.client, "REST_URL", fake.rest_url)
        monkeypatch.setattr(fal_client.client, "CDN_URL", fake.cdn_url)
        return FalProvider(api_key=FAL_KEY, base_url=fake.base_url)  # its schemas: the fake's too

    yield from _provider_on(FakeFal, build)


@pytest.fixture
def rep() -> Iterator[tuple[FakeReplicate, ReplicateProvider]]:
    yield from _provider_on(FakeReplicate, lambda fake: ReplicateProvider(api_key=REPLICATE_KEY,
                                                                          base_url=fake.base_url))


@pytest.fixture
def runway() -> Iterator[tuple[FakeRunway, RunwayProvider]]:
    yield from _provider_on(FakeRunway, lambda fake: RunwayProvider(api_key=RUNWAY_KEY, base_url=fake.base_url))


@pytest.fixture
def fresh_veo_quotas(monkeypatch: pytest.MonkeyPatch) -> None:
    """A minute of Veo quota of the test's own (the counters are per project and per process)."""
    import dailies.providers.google as google_module

    monkeypatch.setattr(google_module, "_QUOTAS", {})


@pytest.fixture
def google(fresh_veo_quotas: None) -> Iterator[tuple[FakeVertexVeo, GoogleVeoProvider]]:
    """Vertex's Veo in the fake's project, signed in with a token the fake knows."""
    yield from _provider_on(FakeVertexVeo, veo)


@pytest.fixture
def vendor(request: pytest.FixtureRequest) -> tuple[object, VideoProvider]:
    """The `(fake, provider)` pair of the vendor the test module names in `VENDOR`."""
    return request.getfixturevalue(request.module.VENDOR)


@pytest.fixture
def fake(vendor: tuple[object, VideoProvider]) -> object:
    return vendor[0]


@pytest.fixture
def provider(vendor: tuple[object, VideoProvider]) -> VideoProvider:
    return vendor[1]
