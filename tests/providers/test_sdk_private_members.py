"""The SDK private members the fal and Replicate adapters lean on, each checked for what we use of it.

fal-client 1.0.3 and replicate 1.0.7 give no public way to send a create exactly once (fal's `submit`
retries its POST) or to read an answer their models cannot parse (Replicate's `aborted`), so the
adapters use these private members. An SDK upgrade that renames or reshapes one fails here, by name,
instead of in front of a user. Each test says where the adapter uses the member.
"""

from __future__ import annotations

import inspect
from functools import cached_property

import fal_client
import fal_client.client as fal_sdk
import httpx
import pytest
import replicate


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def _answering(status: int, body: dict, headers: dict | None = None) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(status, json=body,
                                                                                      headers=headers or {})))


def test_fal_request_sends_once_and_raises_fals_http_error() -> None:
    """`fal_client.client._request(client, method, url, **kwargs)`: FalProvider.submit's single POST."""
    assert _parameters(fal_sdk._request)[:3] == ["client", "method", "url"]
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, json={"detail": [{"loc": ["body"], "msg": "slow down", "type": "rate"}]},
                              headers={"retry-after": "3"})

    with pytest.raises(fal_client.FalClientHTTPError) as raised:
        fal_sdk._request(httpx.Client(transport=httpx.MockTransport(answer)), "POST", "http://fal.test/x", json={})
    assert len(calls) == 1  # no retry inside
    error = raised.value
    assert error.status_code == 429 and error.response_headers["retry-after"] == "3"
    assert error.message == [{"loc": ["body"], "msg": "slow down", "type": "rate"}]  # `detail` handed on as sent


def test_fal_maybe_retry_request_returns_the_response() -> None:
    """`fal_client.client._maybe_retry_request(client, method, url, *, ...)`: FalProvider._result's GET."""
    assert _parameters(fal_sdk._maybe_retry_request)[:3] == ["client", "method", "url"]
    response = fal_sdk._maybe_retry_request(_answering(200, {"video": {"url": "u"}}), "GET", "http://fal.test/r",
                                            timeout=fal_sdk.QUEUE_POLL_TIMEOUT)
    assert response.json() == {"video": {"url": "u"}}


def test_fal_sync_client_builds_its_httpx_client_lazily() -> None:
    """`SyncClient._client`: a cached httpx.Client FalProvider sends creates with and closes."""
    assert isinstance(inspect.getattr_static(fal_client.SyncClient, "_client"), cached_property)
    client = fal_client.SyncClient(key="k")
    assert "_client" not in client.__dict__  # FalProvider.close checks this before closing
    built = client._client
    assert isinstance(built, httpx.Client) and client.__dict__["_client"] is built
    assert built.headers["Authorization"] == "Key k"
    built.close()


def test_fal_names_the_provider_rebuilds_requests_from() -> None:
    """Module constants and helpers FalProvider uses to address the queue as the SDK does."""
    assert fal_sdk.QUEUE_URL_FORMAT.startswith("https://queue.")
    app = fal_sdk.AppId.from_endpoint_id("fal-ai/kling-video/v2.5-turbo/pro/text-to-video")
    assert (app.namespace, app.owner, app.alias) == (None, "fal-ai", "kling-video")
    headers: dict[str, str] = {}
    fal_sdk.add_fal_app_context_headers(headers)
    assert {"request_id", "response_url", "status_url", "cancel_url", "client"} <= set(
        _parameters(fal_client.SyncRequestHandle))
    handle = fal_client.SyncRequestHandle(request_id="r", response_url="http://fal.test/r",
                                          status_url="http://fal.test/r/status", cancel_url="http://fal.test/r/cancel",
                                          client=_answering(200, {"status": "PAUSED"}))
    with pytest.raises(ValueError, match="PAUSED"):  # FalProvider.refresh reads an unknown status word from this
        handle.status()


def test_replicate_client_request_and_client() -> None:
    """`replicate.Client._request(method, path, **kwargs)` (ReplicateProvider.refresh reads an `aborted`
    prediction with it) and `Client._client` (closed by ReplicateProvider.close)."""
    assert _parameters(replicate.Client._request)[1:3] == ["method", "path"]
    client = replicate.Client(api_token="r8_x", base_url="http://replicate.test")
    assert isinstance(client._client, httpx.Client)
    client._client._transport = httpx.MockTransport(lambda request: httpx.Response(
        200, json={"id": "p1", "status": "aborted", "path": request.url.path}))
    assert client._request("GET", "/v1/predictions/p1").json()["status"] == "aborted"
    client._client.close()
