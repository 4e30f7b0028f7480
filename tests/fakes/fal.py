"""A fake of fal's queue API, as `fal-client` 1.0.3 speaks it (PROVIDERS.md §1).

Wire format (JSON; every request carries `Authorization: Key <FAL_KEY>`):

- `POST /{endpoint}` (e.g. `/fal-ai/kling-video/v2.1/master/text-to-video`) with the model's input
  (`prompt`, `aspect_ratio`, `duration`, `image_url`, ...) -> `200 {"request_id", "status_url",
  "response_url", "cancel_url", "queue_position"}`.
- `GET /{owner}/{alias}/requests/{id}/status?logs=1` (the endpoint's sub-path dropped, as the SDK
  polls) -> `{"status": "IN_QUEUE", "queue_position": N}` | `{"status": "IN_PROGRESS", "logs": [...]}` |
  `{"status": "COMPLETED", "logs": [...], "metrics": {...}}`, with `error` / `error_type` set when the
  model failed. The SDK reads `queue_position` and `logs` with `[]`, so they are always sent.
- `GET /{owner}/{alias}/requests/{id}` -> the model's output `{"video": {"url", "content_type",
  "file_name", "file_size"}, "seed"}`; a failed request answers `422 {"detail": "..."}` with the
  header `x-fal-error-type`; one not finished answers `400 {"detail": "Request is still in progress"}`.
- `PUT /{owner}/{alias}/requests/{id}/cancel` -> `202 {"status": "CANCELLATION_REQUESTED"}`, or
  `400 {"status": "ALREADY_COMPLETED"}`. Afterwards the status is COMPLETED with
  `error_type: "request_cancelled"`. UNKNOWN: fal's post-cancel status is not documented (the queue
  docs, https://fal.ai/docs/model-apis/model-endpoints/queue, stop at CANCELLATION_REQUESTED); this is
  a guess the SDK can parse, and `status_word_next` lets a test answer any other word instead. The
  adapter survives either: a word it does not know fails the take after a bounded time, in words.
- A model's failure: `GET` of the result answers `422 {"detail": [{"loc": ["body", ...], "msg", "type"}]}`
  (FastAPI's shape, https://fal.ai/docs/model-apis/errors); the status may or may not carry `error`
  (`status_carries_error`), so the adapter must read the list.
- Inputs are checked against each endpoint's schema (`tests/fakes/schemas.py`, from fal's per-endpoint
  OpenAPI): an unknown input or an enum value out of range is that same 422 list. Seedance left without
  `resolution` renders 1080p (its documented default), recorded in `rendered`.
- Concurrency: fal's queue absorbs requests above the account's limit as IN_QUEUE with a growing
  `queue_position` (https://fal.ai/docs/model-apis/model-endpoints/queue); a 429 is still possible at the
  ingress. `concurrency` limits how many run at once here: the rest stay IN_QUEUE, `queue_position`
  counting those ahead, until a runner frees. The 429 is answered here (`rate_limit_next`) as
  `429 {"detail": "..."}` with `Retry-After` (shape unverified: fal does not document it). The SDK's own
  submit retries 429s; the adapter does not.
- `GET /api/openapi/queue/openapi.json?endpoint_id=<endpoint>` (public on fal.ai in life:
  https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=...) -> the endpoint's OpenAPI: `paths` with
  `POST /<endpoint>` whose request body refers to `components.schemas.<Name>Input` (enums inline), built
  from `tests/fakes/schemas.py`; an endpoint not there (or in `unpublished`) is 404.
- Input size: fal documents no cap for data URIs that we could read here (unverified); the fake takes
  any size, and the adapter keeps inline images under its own 1 MB bound and uploads larger ones.
- Subject references (Kling O1's `reference-to-video`): `image_urls`, a list of data URIs, https URLs or
  storage URLs, with `elements` at most `FAL_REFERENCE_CAP` together (as the endpoint's page was last read,
  unverified); more, or one that cannot be fetched, is the same 422 list.
- Storage, as fal-client 1.0.3 uploads (`SyncClient.upload`; `client.py` `CDNTokenManager`, `_upload_v3`,
  `_upload_via_storage`): `POST {REST_URL}/storage/auth/token?storage_type=fal-cdn-v3` with the key ->
  `{token, token_type, base_url, expires_at}`; `POST {CDN_URL}/files/upload` with `Authorization:
  <token_type> <token>`, the bytes as the body, `Content-Type` and `X-Fal-File-Name` -> `{access_url}`; the
  fallback `POST {REST_URL}/storage/upload/initiate?storage_type=gcs {file_name, content_type}` ->
  `{upload_url, file_url}`, then `PUT upload_url` with the bytes. Here `REST_URL` is `rest_url` and
  `CDN_URL` is `cdn_url` (tests patch the SDK's globals), and `GET {cdn_url}/files/{id}/{name}` serves the
  file. An input naming a storage URL the fake does not have is 422 (`file_download_error`, fal's type
  for an input it could not fetch); each one it has is recorded in `file_inputs`.
- Output URLs: fal's CDN URLs expire (fal does not promise a lifetime); `expire_outputs` makes them 404.
- Outputs are served at `GET /files/{id}.mp4` with no key (standing in for `v3.fal.media`).
- A lost create answers 503 with an nginx-looking body and no `x-fal-request-id` header: exactly what
  the SDK's own retry treats as an ingress error worth retrying.
- Webhooks: a create with `?fal_webhook=<url>` gets, when the request ends, a POST there with
  `{"request_id", "gateway_request_id", "status": "OK"|"ERROR", "payload", "error"?}` and the headers
  `X-Fal-Webhook-Request-Id`, `-User-Id`, `-Timestamp` (unix seconds), `-Signature`: hex Ed25519 over
  `request_id \n user_id \n timestamp \n sha256_hex(body)`, with a key generated per fake and published
  as a JWKS (OKP/Ed25519) at `GET /.well-known/jwks.json` (no key needed, as fal's).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.fakes._server import Answer, FakeJob, FakeVendor, shape_of
from tests.fakes.schemas import FAL as SCHEMAS
from tests.fakes.schemas import FAL_REFERENCE_CAP, openapi_input

KEY = "fal-test-key:secret"


USER_ID = "fake-fal-user"
JWKS_PATH = "/.well-known/jwks.json"
OPENAPI_PATH = "/api/openapi/queue/openapi.json"


class FakeFal(FakeVendor):
    def __init__(self) -> None:
        super().__init__()
        self.signing_key = Ed25519PrivateKey.generate()
        self.status_carries_error = True
        self.status_word_next: str | None = None
        """The next status poll answers this word (one the SDK may not know)."""
        self.rate_limit_next: str | None = None
        """The next create answers 429 with this `Retry-After`."""
        self.expire_outputs = False
        self.rendered: dict[str, str] = {}
        self.unpublished: set[str] = set()
        self.cdn_tokens: set[str] = set()
        self.uploads: dict[str, tuple[str, str, bytes]] = {}
        """Files put in storage, by id: (name, content type, bytes)."""
        self.pending_uploads: dict[str, tuple[str, str]] = {}
        self.file_inputs: list[str] = []
        """Each input value that named an uploaded file, as the creates sent it."""
        self.concurrency: int | None = None
        """Request id -> the resolution it renders at (the schema's default when none was sent)."""

    @property
    def jwks_url(self) -> str:
        return self.base_url + JWKS_PATH

    def jwks(self) -> dict[str, Any]:
        raw = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "fake-1", "use": "sig", "alg": "EdDSA"}]}

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]) -> Answer:
        if path == JWKS_PATH and method == "GET":
            return Answer(200, self.jwks())
        if path == OPENAPI_PATH and method == "GET":
            return self._openapi((query.get("endpoint_id") or [""])[0])
        if path.startswith("/files/") and method == "GET":
            job = self.jobs.get(path.removeprefix("/files/").removesuffix(".mp4"))
            if job is None or job.state != "done" or self.expire_outputs:
                return Answer(404, {"detail": "Not found"})
            return Answer(200, raw=self.video_bytes(job))
        if path.startswith("/cdn/"):
            return self._cdn(method, path.removeprefix("/cdn"), body, headers)
        if headers.get("Authorization") != f"Key {KEY}":
            return Answer(401, {"detail": "Invalid key"}, {"x-fal-request-id": "auth"})
        if path.startswith("/rest/"):
            return self._rest(method, path.removeprefix("/rest"), query, body, headers)
        parts = path.strip("/").split("/")
        if "requests" in parts:
            at = parts.index("requests")
            app, rest = "/".join(parts[:at]), parts[at + 1 :]
            job = self.jobs.get(rest[0]) if rest else None
            if job is None or job.input.get("_app") != app:
                return Answer(404, {"detail": "Request not found"})
            if rest[1:] == ["status"] and method == "GET":
                if self.status_word_next:
                    word, self.status_word_next = self.status_word_next, None
                    return Answer(200, {"status": word})
                ahead = self._ahead(job)
                if ahead is not None:
                    return Answer(200, {"status": "IN_QUEUE", "queue_position": ahead})
                return Answer(200, self._status(self.advance(job)))
            if rest[1:] == ["cancel"] and method == "PUT":
                if job.state in ("queued", "running"):
                    job.state = "cancelled"
                    return Answer(202, {"status": "CANCELLATION_REQUESTED"})
                return Answer(400, {"status": "ALREADY_COMPLETED"})
            if not rest[1:] and method == "GET":
                return self._result(job)
        if method == "POST" and len(parts) >= 2:
            return self._create("/".join(parts), body, (query.get("fal_webhook") or [None])[0])
        return Answer(404, {"detail": f"no route {method} {path}"})

    # -- storage (fal_client 1.0.3: CDNTokenManager, _upload_v3, _upload_via_storage) -------------------

    @property
    def rest_url(self) -> str:
        """What stands in for `https://rest.fal.ai` (patch `fal_client.client.REST_URL` to it)."""
        return self.base_url + "/rest"

    @property
    def cdn_url(self) -> str:
        """What stands in for `https://v3.fal.media` (patch `fal_client.client.CDN_URL` to it)."""
        return self.base_url + "/cdn"

    def _rest(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]) -> Answer:
        if method == "POST" and path == "/storage/auth/token":
            if query.get("storage_type") != ["fal-cdn-v3"]:
                return Answer(400, {"detail": "unknown storage_type"})
            token = f"cdn-{self.new_id()}"
            self.cdn_tokens.add(token)
            return Answer(200, {"token": token, "token_type": "Bearer", "base_url": self.cdn_url,
                                "expires_at": "2099-01-01T00:00:00+00:00"})
        if method == "POST" and path == "/storage/upload/initiate":
            name = str((body or {}).get("file_name") or "upload.bin")
            file_id = self.new_id("gcs-")
            self.pending_uploads[file_id] = (name, str((body or {}).get("content_type") or ""))
            return Answer(200, {"upload_url": f"{self.rest_url}/storage/upload/put/{file_id}",
                                "file_url": f"{self.cdn_url}/files/{file_id}/{name}"})
        if method == "PUT" and path.startswith("/storage/upload/put/"):
            file_id = path.rpartition("/")[2]
            if file_id not in self.pending_uploads or not isinstance(body, bytes):
                return Answer(404, {"detail": "unknown upload"})
            name, kind = self.pending_uploads.pop(file_id)
            self.uploads[file_id] = (name, kind, body)
            return Answer(200, {})
        return Answer(404, {"detail": f"no route {method} /rest{path}"})

    def _cdn(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Answer:
        headers = {k.lower(): v for k, v in headers.items()}
        if method == "POST" and path == "/files/upload":
            if headers.get("authorization", "").removeprefix("Bearer ") not in self.cdn_tokens:
                return Answer(401, {"detail": "Invalid CDN token"})
            if not isinstance(body, bytes) or not body:
                return Answer(400, {"detail": "empty upload"})
            name = headers.get("x-fal-file-name") or "upload.bin"
            file_id = self.new_id("v3-")
            self.uploads[file_id] = (name, headers.get("content-type", ""), body)
            return Answer(200, {"access_url": f"{self.cdn_url}/files/{file_id}/{name}"})
        if method == "GET" and path.startswith("/files/"):
            found = self.uploads.get(path.split("/")[2])
            return Answer(200, raw=found[2]) if found else Answer(404, {"detail": "Not found"})
        return Answer(404, {"detail": f"no route {method} /cdn{path}"})

    def uploaded(self, url: str) -> bytes | None:
        """The bytes behind one of this fake's storage URLs, or None."""
        if not url.startswith(self.cdn_url + "/files/"):
            return None
        found = self.uploads.get(url.removeprefix(self.cdn_url + "/files/").split("/")[0])
        return found[2] if found else None

    @property
    def openapi_url(self) -> str:
        return self.base_url + OPENAPI_PATH

    def _openapi(self, endpoint: str) -> Answer:
        schema = SCHEMAS.get(endpoint)
        if schema is None or endpoint in self.unpublished:
            return Answer(404, {"detail": f"endpoint {endpoint!r} not found"})
        inputs, components = openapi_input(schema, enum_refs=False)
        name = "".join(part.title() for part in endpoint.replace("-", "/").replace(".", "/").split("/")) + "Input"
        body = {"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{name}"}}}}}
        return Answer(200, {"openapi": "3.0.4", "info": {"title": "Queue OpenAPI for " + endpoint},
                            "paths": {f"/{endpoint}": {"post": body}},
                            "components": {"schemas": {name: inputs, **components}}})

    def _create(self, endpoint: str, body: Any, webhook: str | None = None) -> Answer:
        if not isinstance(body, dict) or not body.get("prompt"):
            return Answer(422, {"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "missing"}]})
        if self.rate_limit_next is not None:
            wait, self.rate_limit_next = self.rate_limit_next, None
            return Answer(429, {"detail": "Too many requests"}, {"retry-after": wait})
        schema = SCHEMAS.get(endpoint)
        if schema is not None:
            problems = schema.problems(body)
            if problems:
                return Answer(422, {"detail": [{"loc": ["body", name], "msg": msg, "type": kind}
                                               for name, msg, kind in problems]})
        references = body.get("image_urls") or []
        if len(references) + len(body.get("elements") or []) > FAL_REFERENCE_CAP:
            return Answer(422, {"detail": [{"loc": ["body", "image_urls"], "type": "too_many_references",
                                            "msg": f"at most {FAL_REFERENCE_CAP} reference images and elements"}]})
        for at, reference in enumerate(references):
            if not (str(reference).startswith(("data:image/", "https:")) or self.uploaded(str(reference))):
                return Answer(422, {"detail": [{"loc": ["body", "image_urls", at], "type": "file_download_error",
                                                "msg": "file could not be downloaded"}]})
            if self.uploaded(str(reference)):
                self.file_inputs.append(str(reference))
        for name, value in body.items():
            if isinstance(value, str) and value.startswith(self.cdn_url):
                if self.uploaded(value) is None:
                    return Answer(422, {"detail": [{"loc": ["body", name], "msg": "file could not be downloaded",
                                                    "type": "file_download_error"}]})
                self.file_inputs.append(value)
        image_url = str(body.get("image_url", ""))
        if endpoint.endswith("image-to-video") and not (image_url.startswith(("data:", "https:"))
                                                         or self.uploaded(image_url) is not None):
            return Answer(422, {"detail": [{"loc": ["body", "image_url"], "msg": "field required"}]})
        owner, alias = endpoint.split("/")[:2]
        job = FakeJob(self.new_id("fal-"), endpoint, {**body, "_app": f"{owner}/{alias}"},
                      shape_of(str(body.get("aspect_ratio", "16:9"))), callback=webhook)
        if schema is not None and "resolution" in schema.defaults:
            self.rendered[job.id] = str(body.get("resolution", schema.defaults["resolution"]))
        lost = self.add_job(job)
        self.run_on_own_clock(job)
        if lost:
            return lost
        base = f"{self.base_url}/{owner}/{alias}/requests/{job.id}"
        return Answer(200, {"request_id": job.id, "status_url": base + "/status", "response_url": base,
                            "cancel_url": base + "/cancel", "queue_position": 0})

    def _ahead(self, job: FakeJob) -> int | None:
        """How many queued requests are ahead of `job` when every runner is busy (None: it may run)."""
        with self.lock:
            if self.concurrency is None or job.state != "queued":
                return None
            running = sum(1 for other in self.jobs.values() if other.state == "running")
            if running < self.concurrency:
                return None
            queued = [other.id for other in self.jobs.values() if other.state == "queued"]
            return queued.index(job.id)

    def _status(self, job: FakeJob) -> dict[str, Any]:
        if job.state == "queued":
            return {"status": "IN_QUEUE", "queue_position": 0}
        if job.state == "running":
            return {"status": "IN_PROGRESS", "logs": [{"message": "rendering", "level": "INFO"}]}
        done: dict[str, Any] = {"status": "COMPLETED", "logs": [], "metrics": {"inference_time": 1.2}}
        if job.state == "failed" and self.status_carries_error:
            done.update(error=job.fail_with, error_type="content_policy_violation")
        elif job.state == "cancelled":
            done.update(error="Request was cancelled by the user", error_type="request_cancelled")
        return done

    def _result(self, job: FakeJob) -> Answer:
        if job.state in ("queued", "running"):
            return Answer(400, {"detail": "Request is still in progress"})
        if job.state == "failed":
            return Answer(422, {"detail": [{"loc": ["body", "prompt"], "msg": job.fail_with,
                                            "type": "content_policy_violation"}]})
        if job.state != "done":
            return Answer(422, {"detail": "cancelled"}, {"x-fal-error-type": "request_failed"})
        size = len(self.video_bytes(job))
        return Answer(200, {"video": {"url": f"{self.base_url}/files/{job.id}.mp4", "content_type": "video/mp4",
                                      "file_name": "output.mp4", "file_size": size}, "seed": 42})

    def signed_callback(self, job: FakeJob) -> tuple[bytes, dict[str, str]]:
        result: dict[str, Any] = {"request_id": job.id, "gateway_request_id": job.id}
        if job.state == "done":
            result.update(status="OK", payload=self._result(job).body)
        else:
            result.update(status="ERROR", payload={"detail": job.fail_with or "cancelled"},
                          error="Invalid status code: 422")
        body = json.dumps(result).encode()
        return body, self.sign(job.id, body)

    def sign(self, request_id: str, body: bytes, at: float | None = None, user_id: str = USER_ID) -> dict[str, str]:
        """fal's webhook headers for `body` (tests sign their own stale or replayed deliveries with it)."""
        stamp = str(int(time.time() if at is None else at))
        message = f"{request_id}\n{user_id}\n{stamp}\n{hashlib.sha256(body).hexdigest()}"
        signature = self.signing_key.sign(message.encode()).hex()
        return {"content-type": "application/json", "x-fal-webhook-request-id": request_id,
                "x-fal-webhook-user-id": user_id, "x-fal-webhook-timestamp": stamp,
                "x-fal-webhook-signature": signature}
