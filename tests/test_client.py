"""The client's error mapping, retry decisions and streamed downloads (unit level, httpx.MockTransport).

The same client is driven against the real engine in test_core_integration.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from dailies import errors
from dailies.backoff import Backoff
from dailies.client import RetryPolicy, VideosClient, is_retryable

VIDEO = {
    "id": "video_1",
    "object": "video",
    "status": "queued",
    "progress": 0,
    "model": "sora-2",
    "size": "720x1280",
    "seconds": "4",
    "created_at": 1,
}


def make_client(handler, **kwargs) -> tuple[VideosClient, list[float]]:
    slept: list[float] = []
    client = VideosClient(
        "http://test/v1", "sk-secret-key-123456", transport=httpx.MockTransport(handler), sleep=slept.append, **kwargs
    )
    return client, slept


def error_body(message: str, code: str | None = None, param: str | None = None, type_: str = "invalid_request_error"):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (422, errors.UnprocessableEntityError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (503, errors.ServerError),
    ],
)
def test_error_answers_become_typed_errors_with_the_servers_words(status: int, cls: type) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=error_body("Invalid size", code="bad_size", param="size"))

    client, _ = make_client(handler, retry=RetryPolicy(max_retries=0))
    with pytest.raises(cls) as caught:
        client.retrieve("video_1")
    err = caught.value
    assert err.status_code == status
    assert (err.message, err.code, err.param, err.type) == ("Invalid size", "bad_size", "size", "invalid_request_error")


def test_a_non_json_error_body_still_gives_a_message() -> None:
    client, _ = make_client(lambda r: httpx.Response(502, text="Bad gateway"), retry=RetryPolicy(max_retries=0))
    with pytest.raises(errors.ServerError, match="Bad gateway"):
        client.retrieve("video_1")


def test_reads_retry_after_and_waits_that_long_before_retrying() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            body = error_body("slow down", "rate_limit_exceeded")
            return httpx.Response(429, headers={"Retry-After": "3"}, json=body)
        return httpx.Response(200, json=VIDEO)

    client, slept = make_client(handler)
    assert client.retrieve("video_1")["id"] == "video_1"
    assert slept == [3.0]
    assert len(calls) == 2


def test_retry_after_ms_is_preferred_to_seconds() -> None:
    assert errors.retry_after_seconds({"retry-after-ms": "250", "Retry-After": "9"}) == 0.25
    assert errors.retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None


def test_reads_retry_on_5xx_with_growing_backoff_then_give_up() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json=error_body("overloaded", type_="server_error"))

    client, slept = make_client(handler, retry=RetryPolicy(max_retries=3, waits=Backoff(first=1.0, cap=20.0)))
    with pytest.raises(errors.ServerError):
        client.retrieve("video_1")
    assert len(calls) == 4
    assert slept == [1.0, 2.0, 4.0]


def test_a_create_is_never_sent_twice_after_it_may_have_reached_the_server() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500, json=error_body("boom", type_="server_error"))

    client, slept = make_client(handler)
    with pytest.raises(errors.ServerError):
        client.create(prompt="a cat", model="sora-2")
    assert len(calls) == 1 and slept == []


def test_a_create_refused_with_429_is_handed_up_at_once_with_its_retry_after() -> None:
    """Nothing was made, so the take may wait and go later: the send queue does that, visibly and in order,
    instead of the client sleeping a few times and then losing the take."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, headers={"retry-after-ms": "1500"}, json=error_body("busy", "rate_limit_exceeded"))

    client, slept = make_client(handler)
    with pytest.raises(errors.RateLimitError) as raised:
        client.create(prompt="a cat")
    assert len(calls) == 1 and slept == [] and raised.value.retry_after == 1.5


def test_a_read_refused_with_429_is_still_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(429, headers={"retry-after-ms": "10"}, json=error_body("busy", "rate_limit_exceeded"))
        return httpx.Response(200, json=VIDEO)

    client, slept = make_client(handler)
    assert client.retrieve("video_1")["id"] == "video_1"
    assert len(calls) == 3 and slept == [0.01, 0.01]


def test_a_create_that_times_out_is_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("no answer", request=request)

    client, _ = make_client(handler)
    with pytest.raises(errors.APITimeoutError):
        client.create(prompt="a cat")
    assert len(calls) == 1


def test_a_refused_connection_is_retried_even_for_a_create() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=VIDEO)

    client, _ = make_client(handler)
    assert client.create(prompt="a cat")["id"] == "video_1"
    assert len(calls) == 2


def test_insufficient_quota_is_not_retried() -> None:
    err = errors.RateLimitError("quota", code="insufficient_quota")
    assert not is_retryable(err, idempotent=True)


def test_backoff_grows_exponentially_is_capped_and_jittered() -> None:
    policy = RetryPolicy(waits=Backoff(first=0.5, cap=4.0, jitter=0.5))
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)]:
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(ceiling * 0.5 <= d <= ceiling for d in delays)
        assert len(delays) > 1, "jitter spreads retries"
    assert policy.delay(0, retry_after=30.0) == 4.0, "a server hint is capped too"


def test_create_sends_multipart_like_the_sdk_with_bracketed_reference_fields() -> None:
    seen: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["content_type"] = request.headers["content-type"]
        seen["body"] = request.read()
        seen["auth"] = request.headers.get("authorization")
        return httpx.Response(200, json=VIDEO)

    client, _ = make_client(handler)
    client.create(
        prompt="a cat",
        model="sora-2",
        size="1280x720",
        seconds=8,
        input_reference={"image_url": "data:image/png;base64,AAAA"},
    )
    body = seen["body"].decode()
    assert str(seen["content_type"]).startswith("multipart/form-data")
    assert 'name="input_reference[image_url]"' in body and 'name="seconds"\r\n\r\n8' in body
    assert seen["auth"] == "Bearer sk-secret-key-123456"
    assert "sk-secret" not in repr(client)


def test_extend_and_edit_by_id_go_as_json_with_the_model_and_uploads_as_multipart() -> None:
    """LiteLLM's proxy drops a multipart `video[id]` (and routes by `model`), so by-id sources go as JSON."""
    seen: list[tuple[str, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers["content-type"], request.read()))
        return httpx.Response(200, json=VIDEO)

    client, _ = make_client(handler)
    client.extend(prompt="more", seconds=4, video="video_0", model="sora-2")
    client.edit(prompt="bluer", video="video_0", model="sora-2")
    client.extend(prompt="more", seconds=4, video=("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"))
    assert seen[0][0] == "application/json"
    assert json.loads(seen[0][1]) == {"prompt": "more", "seconds": "4", "model": "sora-2", "video": {"id": "video_0"}}
    assert json.loads(seen[1][1]) == {"prompt": "bluer", "model": "sora-2", "video": {"id": "video_0"}}
    assert seen[2][0].startswith("multipart/form-data") and b'filename="clip.mp4"' in seen[2][1]


def test_fastapi_detail_is_read_and_a_status_echoed_as_code_is_said_once() -> None:
    answers = iter([
        httpx.Response(405, json={"detail": "Method Not Allowed"}),
        httpx.Response(422, json={"detail": [{"loc": ["body", "prompt"], "msg": "Field required"}]}),
        httpx.Response(500, json={"error": {"message": "litellm.InternalServerError: boom", "code": "500"}}),
    ])
    client, _ = make_client(lambda request: next(answers))
    said = []
    for _ in range(3):
        with pytest.raises(errors.APIError) as caught:
            _ = client.delete("video_0") if not said else client.remix("video_0", prompt="x")
        said.append(str(caught.value))
    assert said == [
        "405 · Method Not Allowed",
        "422 · prompt: Field required",
        "500 · litellm.InternalServerError: boom",
    ]


def test_list_all_follows_the_cursor_to_the_end() -> None:
    pages = {
        None: {"data": [{"id": "a"}, {"id": "b"}], "has_more": True, "last_id": "b"},
        "b": {"data": [{"id": "c"}], "has_more": False, "last_id": "c"},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("after")])

    client, _ = make_client(handler)
    assert [v["id"] for v in client.list_all()] == ["a", "b", "c"]


def test_poll_once_reads_the_servers_poll_hint() -> None:
    client, _ = make_client(lambda r: httpx.Response(200, json=VIDEO, headers={"openai-poll-after-ms": "1500"}))
    assert client.poll_once("video_1").poll_after == 1.5


def test_ids_that_try_to_climb_the_url_are_refused_before_sending() -> None:
    calls = []
    client, _ = make_client(lambda r: calls.append(r) or httpx.Response(200, json=VIDEO))
    for bad in ("../admin", "a/b", "", ".."):
        with pytest.raises(errors.ValidationError):
            client.retrieve(bad)
    assert calls == []


class _DroppingStream(httpx.SyncByteStream):
    def __init__(self, data: bytes, drop_at: int) -> None:
        self.data, self.drop_at = data, drop_at

    def __iter__(self):
        yield self.data[: self.drop_at]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def test_a_dropped_download_resumes_with_a_range_request(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 4000
    ranges = []

    def handler(request: httpx.Request) -> httpx.Response:
        ranges.append(request.headers.get("range"))
        if len(ranges) == 1:
            return httpx.Response(
                200,
                headers={"content-length": str(len(payload)), "content-type": "video/mp4"},
                stream=_DroppingStream(payload, 100_000),
            )
        start = int(request.headers["range"].split("=")[1].rstrip("-"))
        return httpx.Response(206, content=payload[start:], headers={"content-type": "video/mp4"})

    client, _ = make_client(handler)
    record = client.download("video_1", "video", tmp_path / "out.mp4")
    assert ranges == [None, "bytes=100000-"]
    assert (tmp_path / "out.mp4").read_bytes() == payload
    assert record.sha256 == hashlib.sha256(payload).hexdigest() and record.size == len(payload)
    assert list(tmp_path.iterdir()) == [tmp_path / "out.mp4"], "no temp file is left behind"


def test_a_download_that_keeps_failing_leaves_no_file(tmp_path: Path) -> None:
    payload = b"x" * 50_000

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": str(len(payload))}, stream=_DroppingStream(payload, 10))

    client, _ = make_client(handler, retry=RetryPolicy(max_retries=2))
    with pytest.raises(errors.APIConnectionError):
        client.download("video_1", "video", tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


def test_a_download_error_keeps_the_servers_message(tmp_path: Path) -> None:
    client, _ = make_client(
        lambda r: httpx.Response(404, content=json.dumps(error_body("Video content has expired", "expired")))
    )
    with pytest.raises(errors.NotFoundError, match="expired"):
        client.download("video_1", "video", tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []
