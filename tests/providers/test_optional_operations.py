"""Every provider answers each optional operation, or raises `NotSupported`, as its `Capabilities` say.

The operations a caller once found by probing an object (a `client` with `list_all`, `takes_callbacks`,
`drop_variant`...) are part of `VideoProvider`: this holds every kind to its flags. The OpenAI-compatible
servers are reached through `registry.build(..., transport=)` (an `httpx.MockTransport` gateway); the vendors
are built with keys and, where an operation needs their API, pointed at their local fake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from dailies.errors import NotSupported
from dailies.providers import registry
from dailies.providers.base import VideoProvider
from tests.fakes.replicate import KEY as REPLICATE_KEY
from tests.fakes.replicate import FakeReplicate

KEYS = {"FAL_KEY": "fal-test-key:secret", "RUNWAYML_API_SECRET": "sk-rw", "REPLICATE_API_TOKEN": REPLICATE_KEY}


def gateway(*, lists: bool) -> httpx.MockTransport:
    """An OpenAI Videos API server; one that cannot list answers FastAPI's bare 404 (LiteLLM's way)."""
    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1")
        if path == "/models":
            return httpx.Response(200, json={"object": "list", "data": [{"id": "sora-2"}]})
        if path == "/videos" and request.method == "GET":
            if not lists:
                return httpx.Response(404, json={"detail": "Not Found"})
            return httpx.Response(200, json={"object": "list", "data": [{"id": "video_1", "created_at": 1}],
                                             "has_more": False})
        if path == "/webhook_endpoints":
            return httpx.Response(200, json={"id": "we_1", "signing_secret": "whsec_c2VjcmV0"})
        if path == "/webhook_endpoints/we_1/test":
            return httpx.Response(200, json={"status_code": 200})
        if path == "/webhook_endpoints/we_1":
            return httpx.Response(200, json={"id": "we_1", "deleted": True})
        return httpx.Response(404, json={"error": {"message": f"no {path}"}})

    return httpx.MockTransport(answer)


@pytest.fixture(scope="module")
def replicate_fake() -> Iterator[FakeReplicate]:
    with FakeReplicate() as fake:
        yield fake


def _openai(lists: bool) -> Callable[[FakeReplicate], VideoProvider]:
    return lambda _: registry.build("gw", {"kind": "openai_compat", "base_url": "http://gw.test/v1"},
                                    transport=gateway(lists=lists))


BUILDS: dict[str, Callable[[FakeReplicate], VideoProvider]] = {
    "openai_compat": _openai(lists=True),
    "litellm": _openai(lists=False),
    "fal": lambda _: registry.build("fal", {"kind": "fal"}, KEYS.get),
    "replicate": lambda fake: registry.build("rep", {"kind": "replicate", "base_url": fake.base_url}, KEYS.get),
    "runway": lambda _: registry.build("rw", {"kind": "runway"}, KEYS.get),
    "google": lambda _: registry.build("veo", {"kind": "google", "project": "my-project"}, {}.get),
    "unavailable": lambda _: registry.build_or_explain("fal", {"kind": "fal"}, {}.get),
}


def _refused(call: Callable[[], object]) -> None:
    with pytest.raises(NotSupported):
        call()


@pytest.mark.parametrize("which", list(BUILDS))
def test_each_optional_operation_is_answered_or_refused_as_the_capabilities_say(
    which: str, replicate_fake: FakeReplicate
) -> None:
    provider = BUILDS[which](replicate_fake)
    assert isinstance(provider, VideoProvider) and isinstance(provider.base_url, str)
    listing = lambda: list(provider.list_videos())  # noqa: E731
    if provider.capabilities().list_videos:
        try:
            assert all(video["id"] for video in listing())
        except NotSupported:  # a refusal it had not learned yet: from now on its flag says so
            assert not provider.capabilities().list_videos
    else:
        _refused(listing)

    caps = provider.capabilities()
    if caps.webhook_endpoints:
        made = provider.create_webhook_endpoint(url="https://dailies.test/hooks/gw", name="Dailies",
                                                event_types=["video.completed"])
        assert made["signing_secret"] and provider.test_webhook_endpoint(made["id"])["status_code"] == 200
        provider.delete_webhook_endpoint(made["id"])
    else:
        _refused(lambda: provider.create_webhook_endpoint(url="https://dailies.test/hooks/x", name="Dailies",
                                                          event_types=["video.completed"]))
        _refused(lambda: provider.test_webhook_endpoint("we_1"))
        _refused(lambda: provider.delete_webhook_endpoint("we_1"))

    if caps.callbacks:
        assert provider.callback_signing().kind == which
    else:
        _refused(provider.callback_signing)

    provider.drop_variant("thumbnail")
    provider.drop_variant("video")
    after = provider.capabilities().variants
    assert "video" in after and "thumbnail" not in after

    provider.closer()()  # closes its connections without needing the provider (a finalizer's way)


def test_a_server_that_cannot_list_says_so_in_its_flag_once_it_refused() -> None:
    """Through `build(..., transport=)`: the lister lists; the LiteLLM-style gateway's 404 becomes its flag."""
    lister, gateway_ = _openai(lists=True)(None), _openai(lists=False)(None)  # type: ignore[arg-type]
    assert lister.capabilities().list_videos and [v["id"] for v in lister.list_videos()] == ["video_1"]
    assert gateway_.capabilities().list_videos, "not known before it was asked"
    _refused(lambda: list(gateway_.list_videos()))
    assert not gateway_.capabilities().list_videos and "list" in gateway_.capabilities().unsupported
