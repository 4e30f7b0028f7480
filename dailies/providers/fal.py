"""fal through its official SDK, `fal-client` 1.0.3: Kling, Veo, Seedance and others on fal's queue.

fal's queue: `POST {queue}/{endpoint}` with the model's input answers `{request_id, status_url,
response_url, cancel_url}`; `GET {queue}/{owner}/{alias}/requests/{id}/status` says IN_QUEUE (with
`queue_position`), IN_PROGRESS (with `logs`) or COMPLETED (with `error` when the model failed);
`GET .../requests/{id}` is the model's output (`{"video": {"url": ...}}`, on fal's CDN, which expires);
`PUT .../requests/{id}/cancel` cancels. There is no percentage, no list and no delete in the SDK.

The SDK's `submit` retries its POST up to ten times (on transport errors, 408/409/429, and 5xx that look
like the ingress's), so a create whose answer is lost could be a second paid job. Creates are therefore
sent once with the SDK's own httpx client and its own request function (`fal_client.client._request`,
the single attempt `_maybe_retry_request` wraps); status, result and cancel use the SDK's
`SyncRequestHandle`. Reference images go in as data URIs when they are under `IMAGE_LIMIT` as they are,
else through fal's own storage upload (`SyncClient.upload`) as the uploaded file's URL; one that cannot
fit `UPLOAD_LIMIT` even shrunk is refused before anything is sent.

Subject references (Kling's reference-to-video: a character, a product, a style to keep): a model whose
`subject_references` is above 0 names the endpoint that takes them in `options["references"]` (e.g.
`fal-ai/kling-video/o1` + `reference-to-video`) and the list input in `options["references_input"]`
(default `image_urls`); each image goes inline or uploaded as an opening frame does. No catalogue model
takes them yet (the catalogue's Kling 2.1/2.5 endpoints have no such input); a request with more than a
model takes, or with an opening frame as well, is refused before anything is sent.

Failures read in words: a model's 4xx `detail` is either a string or FastAPI's list of `{loc, msg,
type}`; the list becomes "prompt: field required" with the first `type` as the code. A status word the
SDK does not know keeps the take in progress for `UNKNOWN_STATUS_GRACE_S`, then fails it with a message
that says to look at fal's dashboard (fal documents four words; a fifth is a change to look at, not a
reason to wait for the 15-minute stall timeout). A 429 is our `RateLimitError`, with `Retry-After` when
fal sends one, so the studio can hold the take and send it later.

Published schemas: the connection test (`health`) also reads each catalogue endpoint's OpenAPI
(`https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=...`), once per provider, and `submit` then
refuses an input the endpoint does not have or a value out of its range before sending. An endpoint
whose schema cannot be read is named in the health message and sent as the catalogue says.

Callbacks: once a webhook is registered for this provider (Settings → Webhooks), every create carries
`?fal_webhook=<public url>/hooks/<name>` (what the SDK's `submit(..., webhook_url=...)` adds), and fal
posts `{request_id, status: OK|ERROR, payload}` there when the request ends, signed with Ed25519; the
receiver checks it against the keys fal publishes at `jwks_url` (no secret is involved).

The remote id is `{owner}/{alias}/{request_id}` (with a `workflows/` or `comfy/` prefix when the
endpoint has one): the queue URLs of a request are rebuilt from it, as the SDK's `from_request_id` does.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any, Unpack
from urllib.parse import urlencode

import fal_client
import fal_client.client as fal_sdk
import httpx

from dailies.errors import APIError, NotSupported
from dailies.jobs import FileRecord, JobError, JobRequest, JobStatus
from dailies.providers._vendor import ImageLimit, check_request_shape, download_url, http_error, transport_error
from dailies.providers.base import CallbackSigning, Health, ProgressCallback, RemoteVideo, WebhookLookup
from dailies.providers.catalog import FAL
from dailies.providers.vendor_base import SchemaCheckedProvider, VendorArgs
from dailies.webhooks.schemes import FAL_JWKS_URL

IMAGE_LIMIT = ImageLimit(
    1_000_000,
    "inline up to 1 MB: fal publishes no data-URI cap we could read here, and its SDK offers `upload` for "
    "files (fal_client 1.0.3 `SyncClient.upload`); a create's JSON is kept by fal's queue for 30 days",
)
UPLOAD_LIMIT = ImageLimit(
    fal_sdk.MULTIPART_THRESHOLD,
    "fal's storage upload in one request (fal_client 1.0.3 switches to a multipart upload above "
    f"{fal_sdk.MULTIPART_THRESHOLD // 2**20} MiB, which is not used here)", max_side=4096,
)
FAL_OPENAPI_URL = "https://fal.ai/api/openapi/queue/openapi.json"
SCHEMA_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
UNKNOWN_STATUS_GRACE_S = 120.0
"""How long a status word the SDK does not know is read as "still running" before the take fails."""


class FalProvider(SchemaCheckedProvider):
    """fal's queue through `fal_client.SyncClient`. Thread-safe (one SDK client, shared)."""

    catalog = FAL
    image_limit = IMAGE_LIMIT
    upload_limit = UPLOAD_LIMIT

    def __init__(self, name: str | None = None, *, webhook_url: WebhookLookup | None = None,
                 jwks_url: str | None = None, openapi_url: str | None = None, **given: Unpack[VendorArgs]) -> None:
        """`base_url` replaces fal's queue, `https://queue.fal.run/` (tests point it at a local fake).

        `webhook_url` says, at each create, where fal should post the result (None: nowhere, the tracker
        polls). `jwks_url` is where fal's signing keys are published: by default `FAL_JWKS_URL` from
        `key_lookup` (the environment), else fal's own.
        """
        if base_url := given.get("base_url"):
            given["base_url"] = base_url.rstrip("/") + "/"
        super().__init__(name, **given)
        key_lookup = given.get("key_lookup")
        self.webhook_url: WebhookLookup = webhook_url or (lambda: None)
        self.jwks_url = jwks_url or (key_lookup or os.environ.get)("FAL_JWKS_URL") or FAL_JWKS_URL
        self.openapi_url = openapi_url or (
            self.base_url + "api/openapi/queue/openapi.json" if self.base_url else FAL_OPENAPI_URL
        )
        self._unknown_since: dict[str, float] = {}
        """When each request first answered a status word we do not know (bounded by how many are polled)."""

    def _connect(self, key: str) -> fal_client.SyncClient:
        return fal_client.SyncClient(key=key)

    @property
    def queue_url(self) -> str:
        return self.base_url or fal_sdk.QUEUE_URL_FORMAT

    def closer(self) -> Callable[[], None]:
        return functools.partial(_close, self.sdk)

    def health(self) -> Health:
        """fal has no free authenticated read in its SDK: ask for a request that does not exist.

        A 404 means the queue answered and the key was accepted; a 401/403 names a bad key.
        """
        started = time.perf_counter()
        try:
            self._handle("fal-ai/any/requests/health-check").status()
        except fal_client.FalClientHTTPError as exc:
            if exc.status_code in (401, 403):
                return Health(False, f"{self.label} refused the key: {exc.message}")
        except (httpx.HTTPError, ValueError) as exc:
            return Health(False, f"{self.label} does not answer: {transport_error(exc)}")
        return self._answers(started)

    def _endpoints(self) -> list[str]:
        kinds = {"text": lambda spec: spec.text, "image": lambda spec: spec.image,
                 "references": lambda spec: spec.subject_references > 0}
        return ["/".join(p for p in (spec.id, spec.options.get(kind)) if p)
                for spec in self.models.values() for kind, offered in kinds.items() if offered(spec)]

    def _schema_keys(self) -> list[str]:
        return self._endpoints()

    def _read_published(self, missing: list[str]) -> list[str]:
        unread = []
        key = {"Authorization": f"Key {self.sdk.key}"}  # public on fal.ai; a proxy in between may want the key
        with httpx.Client(timeout=SCHEMA_TIMEOUT, follow_redirects=True, headers=key) as http:
            for at, endpoint in enumerate(missing):
                try:
                    response = http.get(self.openapi_url, params={"endpoint_id": endpoint})
                    response.raise_for_status()
                    document = response.json()
                    self.published[endpoint] = (_input_schema(document), document)
                except httpx.TransportError:  # the host does not answer: do not wait on it once per endpoint
                    unread += missing[at:]
                    break
                except (httpx.HTTPError, ValueError, KeyError, TypeError, StopIteration):
                    unread.append(endpoint)
        return unread

    def callback_signing(self) -> CallbackSigning:
        """fal signs with its public keys: the receiver needs only where they are published."""
        return CallbackSigning("fal", keys_url=self.jwks_url)

    # -- the operations ----------------------------------------------------------------------------

    def submit(self, request: JobRequest, *, source_remote_id: str | None = None) -> RemoteVideo:
        spec = self._spec_to_generate(request)
        if request.reference_images and request.reference_path:
            raise NotSupported(f"{self.label} {spec.id} takes subject reference images or an opening frame, not "
                               "both (its reference-to-video endpoint has no opening frame): take one of them off.")
        if not request.reference_images:
            check_request_shape(spec, has_image=bool(request.reference_path), label=self.label)
        terms = self._create_terms(spec, request)
        arguments: dict[str, Any] = {
            "prompt": request.prompt,
            "aspect_ratio": terms.ratio,
            "duration": spec.options["seconds"].format(terms.seconds),
        }
        if terms.resolution:
            arguments["resolution"] = terms.resolution
        arguments.update(terms.audio)
        if request.seed is not None:
            arguments["seed"] = request.seed
        kind = "references" if request.reference_images else "image" if request.reference_path else "text"
        references_input = str(spec.options.get("references_input", "image_urls"))
        if request.reference_path:
            arguments["image_url"] = "data:"  # checked against the schema first, uploaded only then
        if request.reference_images:
            arguments[references_input] = ["data:"] * len(request.reference_images)
        if kind == "references" and not spec.options.get("references"):
            raise NotSupported(f"{self.label} {spec.id}: its catalogue entry names no endpoint for subject references.")
        endpoint = "/".join(p for p in (spec.id, spec.options[kind]) if p)
        self._check_published(endpoint, arguments)
        if request.reference_path:
            arguments["image_url"] = self._image_input(request.reference_path)
        if request.reference_images:
            arguments[references_input] = [self._image_input(path) for path in request.reference_images]
        headers: dict[str, str] = {}
        fal_sdk.add_fal_app_context_headers(headers)
        url = self.queue_url + endpoint
        if callback := self.webhook_url():
            url += "?" + urlencode({"fal_webhook": callback})  # as the SDK's submit(webhook_url=...) sends it
        try:  # one attempt: the SDK's submit would retry this POST
            response = fal_sdk._request(
                self.sdk._client, "POST", url, json=arguments,
                timeout=self.sdk.default_timeout, headers=headers,
            )
            answer = response.json()
        except (fal_client.FalClientHTTPError, httpx.HTTPError) as exc:
            raise _ours(exc) from exc
        except ValueError as exc:
            raise APIError(f"{self.label} answered the create with something that is not JSON") from exc
        return RemoteVideo(
            _remote_id(endpoint, str(answer["request_id"])), JobStatus.QUEUED, model=spec.id, size=request.size,
            seconds=request.seconds, created_at=time.time(), raw=dict(answer),
        )

    def _upload(self, data: bytes, kind: str, name: str) -> str:
        """fal's storage through the SDK's own `SyncClient.upload`: a CDN token from `rest.fal.ai`, then
        `POST v3.fal.media/files/upload` (falling back to the GCS-backed upload); the file's URL."""
        try:
            return self.sdk.upload(data, kind, file_name=name)
        except (fal_client.FalClientHTTPError, httpx.HTTPError) as exc:
            raise _ours(exc) from exc

    def refresh(self, remote_id: str) -> RemoteVideo:
        handle = self._handle(remote_id)
        try:
            status = handle.status(with_logs=True)
        except ValueError as exc:  # a status word the SDK does not know
            return self._unknown_status(remote_id, str(exc))
        except (fal_client.FalClientHTTPError, httpx.HTTPError) as exc:
            raise _ours(exc) from exc
        self._unknown_since.pop(remote_id, None)
        if isinstance(status, fal_client.Queued):
            position = {"status": "IN_QUEUE", "queue_position": status.position}
            return RemoteVideo(remote_id, JobStatus.QUEUED, raw=position)
        if isinstance(status, fal_client.InProgress):
            return RemoteVideo(remote_id, JobStatus.IN_PROGRESS, raw={"status": "IN_PROGRESS", "logs": status.logs})
        assert isinstance(status, fal_client.Completed)
        if status.error:
            return RemoteVideo(remote_id, JobStatus.FAILED, error=JobError(status.error, status.error_type),
                               raw={"status": "COMPLETED", "error": status.error, "error_type": status.error_type})
        try:
            result = self._result(remote_id)
        except APIError as exc:
            if exc.status_code and 400 <= exc.status_code < 500 and exc.status_code != 429:
                # the model failed; fal says why in `detail` (a string, or a list of {loc, msg, type})
                return RemoteVideo(remote_id, JobStatus.FAILED, error=JobError(exc.message, exc.code or "failed"),
                                   raw={"status": "COMPLETED", "error": exc.message})
            raise
        return RemoteVideo(remote_id, JobStatus.COMPLETED, progress=100, completed_at=time.time(),
                           raw={"status": "COMPLETED", "metrics": status.metrics, "result": result})

    def download(
        self, remote_id: str, variant: str, dest: str | os.PathLike[str], on_progress: ProgressCallback | None = None
    ) -> FileRecord:
        self._only_video(variant)
        video = self._result(remote_id).get("video")
        url = video.get("url") if isinstance(video, dict) else None
        if not url:
            raise NotSupported(f"{self.label} request {remote_id} has no video in its result.")
        return download_url(str(url), dest, on_progress=on_progress)

    def delete(self, remote_id: str) -> None:
        """Cancel the request at fal (a queued one is removed; a running one is asked to stop).

        fal cannot delete a finished request's files: its cancel answers 400 (`ALREADY_COMPLETED`),
        which is `NotSupported` here, so deleting a finished take deletes it locally only.
        """
        try:
            self._handle(remote_id).cancel()
        except (fal_client.FalClientHTTPError, httpx.HTTPError) as exc:
            error = _ours(exc)
            if error.status_code in (400, 409):
                raise NotSupported(f"{FAL.unsupported['delete']} ({error.message})") from exc
            raise error from exc

    def _unknown_status(self, remote_id: str, said: str) -> RemoteVideo:
        """Still running for `UNKNOWN_STATUS_GRACE_S` from the first such answer, then failed in words."""
        now = self.clock()
        since = self._unknown_since.setdefault(remote_id, now)
        raw = {"status": "unknown", "said": said}
        if now - since < UNKNOWN_STATUS_GRACE_S:
            return RemoteVideo(remote_id, JobStatus.IN_PROGRESS, raw=raw)
        self._unknown_since.pop(remote_id, None)
        message = (f"{self.label} answered a status this app does not know ({said}) for "
                   f"{int(UNKNOWN_STATUS_GRACE_S)} s: needs a look in fal's dashboard "
                   "(the request may still finish there).")
        return RemoteVideo(remote_id, JobStatus.FAILED, error=JobError(message, "unknown_status"), raw=raw)

    def _result(self, remote_id: str) -> dict[str, Any]:
        handle = self._handle(remote_id)
        try:
            response = fal_sdk._maybe_retry_request(
                handle.client, "GET", handle.response_url, timeout=fal_sdk.QUEUE_POLL_TIMEOUT
            )
            return dict(response.json())
        except (fal_client.FalClientHTTPError, httpx.HTTPError) as exc:
            raise _ours(exc) from exc

    def _handle(self, remote_id: str) -> fal_client.SyncRequestHandle:
        """The SDK's handle for a request, its URLs rebuilt from the remote id on our queue URL."""
        app, _, request_id = remote_id.rpartition("/")
        if not app or not request_id:
            raise NotSupported(f"not a fal request id: {remote_id!r}")
        base = f"{self.queue_url}{app}/requests/{request_id}"
        return fal_client.SyncRequestHandle(
            request_id=request_id, response_url=base, status_url=base + "/status", cancel_url=base + "/cancel",
            client=self.sdk._client,
        )


def _close(sdk: fal_client.SyncClient) -> None:
    if "_client" in sdk.__dict__:  # the SDK builds its httpx client on first use
        sdk._client.close()


def _input_schema(document: dict[str, Any]) -> dict[str, Any]:
    """The input schema of the one queue POST an endpoint's OpenAPI describes (a `$ref` is left for
    `schema_problems` to follow)."""
    post = next(op["post"] for op in document["paths"].values() if "post" in op and "requestBody" in op["post"])
    return dict(post["requestBody"]["content"]["application/json"]["schema"])


def _remote_id(endpoint: str, request_id: str) -> str:
    """`{namespace/}{owner}/{alias}/{request_id}`: the sub-path is dropped, as the SDK does for polls."""
    app = fal_sdk.AppId.from_endpoint_id(endpoint)
    prefix = f"{app.namespace}/" if app.namespace else ""
    return f"{prefix}{app.owner}/{app.alias}/{request_id}"


def _ours(exc: BaseException) -> APIError:
    if isinstance(exc, fal_client.FalClientHTTPError):
        message, kind = detail_in_words(exc.message)
        return http_error(exc.status_code, message[:500], code=exc.error_type or kind, body={"detail": exc.message},
                          headers=exc.response_headers)
    return transport_error(exc)


def detail_in_words(detail: Any) -> tuple[str, str | None]:
    """fal's `detail` as a sentence and its first error type.

    fal answers a model's refusal the FastAPI way, `{"detail": [{"loc": ["body", "prompt"], "msg": ...,
    "type": ...}]}` (https://fal.ai/docs/model-apis/errors), or with a plain string; the SDK hands
    either on as `FalClientHTTPError.message` unchanged.
    """
    if isinstance(detail, list):
        parts, kind = [], None
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc") or () if p != "body")
                said = str(item.get("msg") or item.get("type") or "refused")
                parts.append(f"{where}: {said}" if where else said)
                kind = kind or (str(item["type"]) if item.get("type") else None)
            else:
                parts.append(str(item))
        return "; ".join(parts) or "fal refused the request", kind
    if isinstance(detail, dict):
        return str(detail.get("msg") or detail.get("message") or detail), detail.get("type")
    return str(detail), None
