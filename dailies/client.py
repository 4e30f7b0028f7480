"""The one HTTP client for the OpenAI Videos API, speaking the wire format of `openai`'s `client.videos`.

Why our own and not the SDK: we need streamed downloads that resume, a create that is never sent
twice, retry decisions we can test, and the server's poll hint on every retrieve. The client is an
`httpx.Client` underneath and, like it, can be shared between threads.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from dailies.backoff import Backoff
from dailies.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    RateLimitError,
    ServerError,
    ValidationError,
    error_for_status,
    retry_after_seconds,
)
from dailies.files import replaced_file
from dailies.jobs import FileRecord
from dailies.videos_spec import POLL_AFTER_HEADER

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, deferring to the server's Retry-After."""

    max_retries: int = 3
    waits: Backoff = Backoff(first=0.5, cap=20.0, jitter=0.5)
    """Half of each wait drawn at random, so that many clients do not retry in step."""

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        return self.waits.delay(attempt, retry_after, rng)


def is_retryable(error: APIError, *, idempotent: bool) -> bool:
    """Whether a failed call may be sent again without risk of doing its work twice.

    A 429 means the server refused before doing anything, and a refused connection means nothing
    arrived: both are safe for any call. A 5xx, a timeout or a dropped connection may have reached
    the server, so only idempotent calls (reads, deletes) retry on those; a create never does,
    because a duplicate create is a duplicate paid job.
    """
    if isinstance(error, RateLimitError):
        return error.code != "insufficient_quota"
    if isinstance(error, APIConnectionError) and error.code == "connect_failed":
        return True
    if isinstance(error, ServerError | APIConnectionError):
        return idempotent
    return False


@dataclass(frozen=True)
class Polled:
    """A retrieve answer and the server's hint for when to ask again."""

    video: dict[str, Any]
    poll_after: float | None


Upload = tuple[str, bytes, str]
"""(file name, content, content type) of a file to send."""


def upload_from_path(path: str | os.PathLike[str], content_type: str | None = None) -> Upload:
    p = Path(path)
    guessed = content_type or _guess_type(p.name)
    return (p.name, p.read_bytes(), guessed)


def _guess_type(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower()
    return {
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "webp": "image/webp",
        "mp4": "video/mp4",
        "mov": "video/quicktime",
    }.get(ext, "application/octet-stream")


class VideosClient:
    """A client for any server speaking the OpenAI Videos API (`base_url` ends in `/v1`).

    The key is sent as a Bearer header and kept nowhere else: not in logs, not in `repr`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers={"User-Agent": "dailies/0.1", **auth, **(headers or {})},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"VideosClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VideosClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the calls ---------------------------------------------------------------------------------

    def create(
        self,
        *,
        prompt: str,
        model: str | None = None,
        size: str | None = None,
        seconds: int | str | None = None,
        input_reference: Upload | Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`POST /videos` as multipart; `input_reference` is an uploaded image or `{image_url|file_id}`."""
        fields: dict[str, Any] = {"prompt": prompt, "model": model, "size": size, "seconds": seconds}
        fields.update(extra or {})
        return self._post_multipart("videos", fields, {"input_reference": input_reference}, create=True)

    def retrieve(self, video_id: str) -> dict[str, Any]:
        return self.poll_once(video_id).video

    def poll_once(self, video_id: str) -> Polled:
        """`GET /videos/{id}`, with the server's `openai-poll-after-ms` hint when it sends one."""
        response = self._request("GET", f"videos/{_segment(video_id)}", idempotent=True)
        hint = response.headers.get(POLL_AFTER_HEADER)
        poll_after = None
        if hint is not None:
            try:
                poll_after = max(0.0, float(hint) / 1000.0)
            except ValueError:
                poll_after = None
        return Polled(response.json(), poll_after)

    def list_page(self, *, after: str | None = None, limit: int = 100, order: str = "desc") -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "order": order}
        if after:
            params["after"] = after
        return self._request("GET", "videos", idempotent=True, params=params).json()

    def list_all(self, *, order: str = "desc", limit: int = 100) -> Iterator[dict[str, Any]]:
        """Every video, following the `after` cursor to the end."""
        after: str | None = None
        while True:
            page = self.list_page(after=after, limit=limit, order=order)
            data = page.get("data") or []
            yield from data
            if not page.get("has_more") or not data:
                return
            after = page.get("last_id") or data[-1].get("id")

    def delete(self, video_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"videos/{_segment(video_id)}", idempotent=True).json()

    def remix(self, video_id: str, *, prompt: str) -> dict[str, Any]:
        return self._request(
            "POST", f"videos/{_segment(video_id)}/remix", idempotent=False, create=True, json={"prompt": prompt}
        ).json()

    def extend(
        self, *, prompt: str, seconds: int | str, video: str | Upload, model: str | None = None
    ) -> dict[str, Any]:
        """`POST /videos/extensions`: `video` is a video id (sent as JSON) or an uploaded file (multipart)."""
        return self._post_source("videos/extensions", {"prompt": prompt, "seconds": seconds, "model": model}, video)

    def edit(self, *, prompt: str, video: str | Upload, model: str | None = None) -> dict[str, Any]:
        """`POST /videos/edits`, with the source as in `extend`."""
        return self._post_source("videos/edits", {"prompt": prompt, "model": model}, video)

    def _post_source(self, path: str, fields: Mapping[str, Any], video: str | Upload) -> dict[str, Any]:
        """A by-id source goes as JSON `{"video": {"id": ...}}`: the API takes both forms, but gateways
        (LiteLLM's proxy) drop a multipart `video[id]` field. A file can only go as multipart."""
        if isinstance(video, str):
            body = {name: str(value) for name, value in fields.items() if value is not None}
            body["video"] = {"id": video}
            return self._request("POST", path, idempotent=False, create=True, json=body).json()
        return self._post_multipart(path, fields, {"video": video}, create=True)

    def create_character(self, *, name: str, video: Upload) -> dict[str, Any]:
        return self._post_multipart("videos/characters", {"name": name}, {"video": video})

    def get_character(self, character_id: str) -> dict[str, Any]:
        return self._request("GET", f"videos/characters/{_segment(character_id)}", idempotent=True).json()

    # Webhook endpoints (`/webhook_endpoints`, the SDK's `client.webhooks`): where a provider sends its events.

    def create_webhook_endpoint(self, *, url: str, name: str, event_types: list[str]) -> dict[str, Any]:
        """Register `url`; the answer holds the `signing_secret`, shown only this once. Never retried."""
        body = {"url": url, "name": name, "event_types": event_types}
        return self._request("POST", "webhook_endpoints", idempotent=False, json=body).json()

    def list_webhook_endpoints(self) -> list[dict[str, Any]]:
        """The endpoints registered with this provider (the first page, newest first: at most 100)."""
        return self._request("GET", "webhook_endpoints", idempotent=True, params={"limit": 100}).json()["data"]

    def delete_webhook_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"webhook_endpoints/{_segment(endpoint_id)}", idempotent=True).json()

    def test_webhook_endpoint(self, endpoint_id: str, event_type: str = "video.completed") -> dict[str, Any]:
        """Ask the provider to send one sample event now; its answer says what our endpoint replied."""
        return self._request("POST", f"webhook_endpoints/{_segment(endpoint_id)}/test", idempotent=False,
                             json={"event_type": event_type}).json()

    def list_models(self, *, timeout: float | None = None, retry: bool = True) -> list[dict[str, Any]]:
        """`GET /models`. Pages ask with a short `timeout` and no retries, so a slow server cannot hold a page."""
        extra: dict[str, Any] = {"timeout": httpx.Timeout(timeout, connect=min(timeout, 5.0))} if timeout else {}
        return list(self._request("GET", "models", idempotent=retry, **extra).json().get("data") or [])

    def moderate(self, text: str, model: str = "omni-moderation-latest") -> dict[str, Any]:
        """`POST /moderations`: a classification only, so it is safe to retry."""
        return self._request("POST", "moderations", idempotent=True, json={"input": text, "model": model}).json()

    def download(
        self,
        video_id: str,
        variant: str,
        dest: str | os.PathLike[str],
        *,
        on_progress: Callable[[int, int | None], None] | None = None,
    ) -> FileRecord:
        """Stream one content variant to `dest`, atomically: temp file, length check, fsync, rename.

        A connection that drops midway resumes with a Range request where the server allows it,
        within the retry policy. `dest` never exists half-written.
        """
        with replaced_file(dest) as out:
            size, sha256, content_type = self._stream_into(video_id, variant, out, on_progress)
        return FileRecord(path=str(Path(dest)), size=size, sha256=sha256, content_type=content_type)

    # -- plumbing ----------------------------------------------------------------------------------

    def _stream_into(
        self, video_id: str, variant: str, out: Any, on_progress: Callable[[int, int | None], None] | None
    ) -> tuple[int, str, str]:
        path = f"videos/{_segment(video_id)}/content"
        digest = hashlib.sha256()
        written = 0
        total: int | None = None
        content_type = ""
        attempt = 0
        while True:
            headers = {"Accept": "application/binary"}
            if written:
                headers["Range"] = f"bytes={written}-"
            try:
                with self._http.stream("GET", path, params={"variant": variant}, headers=headers) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise _error_from_response(response)
                    if written and response.status_code != 206:
                        # The server ignored our Range: start over.
                        out.seek(0)
                        out.truncate()
                        digest = hashlib.sha256()
                        written = 0
                    content_type = response.headers.get("content-type", content_type)
                    length = response.headers.get("content-length")
                    if length is not None and total is None:
                        total = written + int(length)
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        if on_progress:
                            on_progress(written, total)
                if total is not None and written != total:
                    raise APIConnectionError(
                        f"download of {variant} ended at {written} of {total} bytes", code="incomplete_body"
                    )
                return written, digest.hexdigest(), content_type
            except httpx.HTTPError as exc:
                error: APIError = error_from_transport(exc)
            except APIError as exc:
                error = exc
            if attempt >= self.retry.max_retries or not is_retryable(error, idempotent=True):
                raise error
            wait = self.retry.delay(attempt, retry_after_seconds(error.headers))
            log.info("download %s/%s interrupted (%s); resuming in %.1fs", video_id, variant, error, wait)
            self._sleep(wait)
            attempt += 1

    def _post_multipart(
        self, path: str, fields: Mapping[str, Any], attachments: Mapping[str, Upload | Mapping[str, str] | None],
        *, create: bool = False,
    ) -> dict[str, Any]:
        """Send a multipart body as the SDK does: nested objects become `name[key]` fields."""
        parts: list[tuple[str, Any]] = [
            (name, (None, str(value))) for name, value in fields.items() if value is not None
        ]
        for name, value in attachments.items():
            if value is None:
                continue
            if isinstance(value, Mapping):
                parts.extend((f"{name}[{key}]", (None, str(v))) for key, v in value.items())
            else:
                parts.append((name, value))
        return self._request("POST", path, idempotent=False, create=create, files=parts).json()

    def _request(self, method: str, path: str, *, idempotent: bool, create: bool = False,
                 **kwargs: Any) -> httpx.Response:
        """`create`: a video's create, whose 429 is handed up at once ("not made, retry after N"): the send
        queue (`dailies/send_queue.py`) keeps the take waiting, visibly and in order, instead of this call
        sleeping a few times and then losing it."""
        attempt = 0
        while True:
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                error = error_from_transport(exc)
            else:
                if response.status_code < 400:
                    return response
                error = _error_from_response(response)
            if attempt >= self.retry.max_retries or not is_retryable(error, idempotent=idempotent):
                raise error
            if create and isinstance(error, RateLimitError):
                raise error
            wait = self.retry.delay(attempt, retry_after_seconds(error.headers))
            log.info("%s %s failed (%s); retry %d in %.2fs", method, path, error, attempt + 1, wait)
            self._sleep(wait)
            attempt += 1


def _segment(value: str) -> str:
    """An id as one path segment: ids that try to climb the URL are refused, not encoded."""
    if not value or "/" in value or "\\" in value or value in {".", ".."} or "?" in value or "#" in value:
        raise ValidationError(f"not a valid id: {value!r}")
    return value


def _error_from_response(response: httpx.Response) -> APIError:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text[:500]
    return error_for_status(response.status_code, body, response.headers)


def error_from_transport(exc: BaseException, http: ModuleType = httpx) -> APIError:
    """A transport failure in our words, read against `http`'s exception classes: httpx's, or those of a
    fork under its own names (google-genai's `httpx2`); a refused connection (`connect_failed`) surely
    created nothing."""
    if isinstance(exc, http.TimeoutException):
        code = "connect_failed" if isinstance(exc, http.ConnectTimeout) else "timeout"
        return APITimeoutError(f"the server did not answer in time ({type(exc).__name__})", code=code)
    if isinstance(exc, http.ConnectError):
        return APIConnectionError(f"could not connect: {exc}", code="connect_failed")
    return APIConnectionError(f"connection failed: {type(exc).__name__}: {exc}", code="connection_error")
