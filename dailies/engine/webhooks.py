"""Webhook endpoints and signed deliveries, as the OpenAI API offers them (`client.webhooks` in the SDK).

`/v1/webhook_endpoints` creates (url, name, event_types; the answer carries the `whsec_...` signing
secret, never shown again), lists (newest first, `after`/`limit`), retrieves, updates, deletes,
rotates the secret (optionally keeping the old one valid for 24 hours: both sign meanwhile) and sends
a test event. When a video completes or fails, every endpoint subscribed to `video.completed` /
`video.failed` gets an event signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256>`), retried with exponential backoff until it answers 2xx.

Faults on purpose (`WebhookFaults`) drop, delay, duplicate and reorder deliveries, as a real sender
does now and then: a receiver must dedupe on `webhook-id` and never rely on events alone.
Endpoints (with their secrets) are kept in `webhooks.json` in the engine folder, readable by its user
only; deliveries still to send are kept beside it in `deliveries.json` (a `RetryQueue` over a `FileTable`), so
an engine stopped with deliveries queued or retrying sends them once it runs again.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dailies.backoff import Backoff
from dailies.file_table import FileTable
from dailies.files import write_text
from dailies.retry_queue import RetryQueue, RetrySchedule

from .api import APIError, RequestGate
from .state import EngineJob

log = logging.getLogger(__name__)

VIDEO_EVENTS = ("video.completed", "video.failed")
EVENT_TYPES: tuple[str, ...] = (
    "batch.completed", "batch.failed", "batch.expired", "batch.cancelled",
    "response.completed", "response.failed", "response.cancelled", "response.incomplete",
    "eval.run.succeeded", "eval.run.failed", "eval.run.canceled",
    "fine_tuning.job.succeeded", "fine_tuning.job.failed", "fine_tuning.job.cancelled",
    "realtime.call.incoming", *VIDEO_EVENTS,
)
"""The event types an endpoint may subscribe to (the SDK's list); only the video ones ever fire here."""
OLD_SECRET_GRACE_S = 24 * 3600
MAX_ENDPOINTS = 20


@dataclass(frozen=True)
class WebhookFaults:
    """Delivery faults, drawn from one seeded generator like the engine's other faults."""

    rate_drop: float = 0.0
    """Fraction of events never delivered (no attempt at all)."""
    delay_s: float = 0.0
    """Every event waits this long before its first attempt."""
    rate_duplicate: float = 0.0
    """Fraction of events delivered twice (same `webhook-id`, as a sender's retry after a lost answer)."""
    rate_reorder: float = 0.0
    """Fraction of events held back until the next event has gone (or `reorder_hold_s` has passed)."""
    reorder_hold_s: float = 2.0
    seed: int | None = None


@dataclass(frozen=True)
class DeliveryPolicy(RetrySchedule):
    """How hard a delivery is tried: `attempts` in all, the waits between them growing from `waits.first` to its
    `cap`; and how long one attempt may take."""

    attempts: int | None = 8
    waits: Backoff = Backoff(first=1.0, cap=60.0)
    timeout_s: float = 10.0


@dataclass
class Endpoint:
    id: str
    url: str
    name: str
    event_types: list[str]
    created_at: int
    updated_at: int
    secret: str = field(repr=False)
    old_secret: str | None = field(default=None, repr=False)
    old_secret_until: float = 0.0

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id, "object": "webhook_endpoint", "url": self.url, "name": self.name,
            "event_types": list(self.event_types), "created_at": self.created_at, "updated_at": self.updated_at,
            "signing_secret_hint": f"whsec_...{self.secret[-4:]}",
        }

    def signers(self, now: float) -> list[Webhook]:
        """The secrets that sign now: the current one, and the previous one during its grace period."""
        keys = [self.secret]
        if self.old_secret and now < self.old_secret_until:
            keys.append(self.old_secret)
        return [Webhook(key) for key in keys]


@dataclass
class DeliveryRecord:
    """What happened to one attempt, for tests and the engine's own look at its endpoints."""

    endpoint_id: str
    event_id: str
    event_type: str
    attempt: int
    status_code: int | None
    error: str | None
    at: float


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign_headers(signers: list[Webhook], msg_id: str, payload: str, now: float | None = None) -> dict[str, str]:
    """Standard Webhooks headers for one attempt: the id, this attempt's time, every current signature."""
    at = datetime.fromtimestamp(int(now if now is not None else time.time()), tz=UTC)
    signatures = " ".join(signer.sign(msg_id, at, payload) for signer in signers)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signatures,
            "content-type": "application/json", "user-agent": "dailies-engine-webhooks/1"}


class EngineWebhooks:
    """The endpoints, their routes, and the delivery queue. Thread-safe; `start`/`close` run the sender."""

    def __init__(self, data_dir: Path, faults: WebhookFaults | None = None,
                 policy: DeliveryPolicy | None = None) -> None:
        self.path = Path(data_dir) / "webhooks.json"
        self.faults = faults or WebhookFaults()
        self.policy = policy or DeliveryPolicy()
        self.deliveries = RetryQueue(FileTable(Path(data_dir) / "deliveries.json"), self.policy)
        """Each delivery to one endpoint (`endpoint_id`, `event_id`, `event_type`, `payload`) until it goes or gives
        up; a duplicate (an injected fault) is an entry of its own with the same `event_id`."""
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Condition()
        self._endpoints: dict[str, Endpoint] = {}
        self._held: list[tuple[float, dict[str, str]]] = []
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._http: httpx.Client | None = None
        self.log: list[DeliveryRecord] = []
        """Every attempt, oldest first (the last 1,000)."""
        self._load()

    # -- persistence -------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return
        for row in data.get("endpoints", []):
            try:
                endpoint = Endpoint(**row)
            except TypeError:
                continue
            self._endpoints[endpoint.id] = endpoint

    def _save(self) -> None:
        """Write the endpoints atomically, readable by this user only (they hold signing secrets)."""
        write_text(self.path, json.dumps({"endpoints": [asdict(e) for e in self._endpoints.values()]}))

    # -- the sender --------------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stopping = False
            self._http = httpx.Client(timeout=self.policy.timeout_s, follow_redirects=False)
            self._pool = ThreadPoolExecutor(4, thread_name_prefix="engine-webhook")
            self._thread = threading.Thread(target=self._run, name="engine-webhooks", daemon=True)
            self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread:
            self._thread.join(5)
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._http:
            self._http.close()
        self._thread = self._pool = self._http = None

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                now = time.time()
                for held_at, delivery in list(self._held):
                    if now >= held_at + self.faults.reorder_hold_s:
                        self._held.remove((held_at, delivery))
                        self._queue(delivery, now)
                due = self.deliveries.due(now)
                if not due:
                    # Nothing due: sleep until the next delivery's time, or until `_queue`, a failed attempt or
                    # `close` notifies (an idle engine is not woken for nothing; every delivery is queued through
                    # `_queue`).
                    next_at = self.deliveries.next_due()
                    wait = None if next_at is None else next_at - now
                    if self._held:
                        wait = 0.1 if wait is None else min(wait, 0.1)
                    self._lock.wait(timeout=None if wait is None else max(0.005, min(wait, 1.0)))
                    continue
                pool = self._pool
            if pool is not None:
                for key, delivery in due:
                    pool.submit(self._attempt, key, delivery)

    def _queue(self, delivery: dict[str, str], at: float) -> None:
        """Queue a delivery at time `at`, under a key of its own (a duplicate is another entry). Call with the lock
        held."""
        key = f"{delivery['event_id']}.{delivery['endpoint_id']}.{secrets.token_hex(4)}"
        self.deliveries.put(key, at, **delivery)
        self._lock.notify_all()

    def _attempt(self, key: str, delivery: dict[str, Any]) -> None:
        with self._lock:
            endpoint = self._endpoints.get(delivery["endpoint_id"])
            client = self._http
        if endpoint is None:  # deleted meanwhile
            self.deliveries.forget(key)
            return
        if client is None:  # stopping: it goes once the engine runs again
            self.deliveries.release(key)
            return
        attempt = int(delivery.get("attempts") or 0) + 1
        status, error = self._send(client, endpoint, delivery["event_id"], delivery["payload"])
        record = DeliveryRecord(endpoint.id, delivery["event_id"], delivery["event_type"], attempt, status, error,
                                time.time())
        with self._lock:
            self.log.append(record)
            del self.log[:-1000]
        if status is not None and 200 <= status < 300:
            self.deliveries.forget(key)
            return
        if self.policy.gives_up(attempt):  # nothing left to keep: dropped in one write
            log.warning("webhook %s to %s given up after %d attempts (%s)", delivery["event_id"], endpoint.url,
                        attempt, error or status)
            self.deliveries.forget(key)
        else:
            self.deliveries.failed(key, status=status, error=error)
        with self._lock:
            self._lock.notify_all()  # the sender times the next try

    @staticmethod
    def _send(client: httpx.Client, endpoint: Endpoint, event_id: str, payload: str) -> tuple[int | None, str | None]:
        headers = sign_headers(endpoint.signers(time.time()), event_id, payload)
        try:
            answer = client.post(endpoint.url, content=payload.encode(), headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return answer.status_code, None

    # -- events ------------------------------------------------------------------------------------

    def job_finished(self, job: EngineJob) -> None:
        """Queue `video.completed` / `video.failed` for every endpoint subscribed to it (the JobBook calls this)."""
        kind = "video.completed" if job.status == "completed" else "video.failed"
        self.emit(kind, {"id": job.id})

    def emit(self, event_type: str, data: dict[str, Any]) -> str:
        """Queue one event for its subscribers, faults applied; returns its id (the `webhook-id`)."""
        event_id = "evt_" + secrets.token_hex(16)
        payload = json.dumps({"id": event_id, "object": "event", "created_at": int(time.time()),
                              "type": event_type, "data": data})
        with self._lock:
            now = time.time()
            released = [d for _, d in self._held]  # a held-back event goes once a later one has gone
            self._held.clear()
            for endpoint in self._endpoints.values():
                if event_type not in endpoint.event_types:
                    continue
                if self._draw(self.faults.rate_drop):
                    log.info("webhook %s to %s dropped (injected fault)", event_id, endpoint.url)
                    continue
                delivery = {"endpoint_id": endpoint.id, "event_id": event_id, "event_type": event_type,
                            "payload": payload}
                at = now + self.faults.delay_s
                if self._draw(self.faults.rate_reorder):
                    self._held.append((at, delivery))
                    self._lock.notify_all()  # the sender times its release
                else:
                    self._queue(delivery, at)
                if self._draw(self.faults.rate_duplicate):
                    self._queue(delivery, at + 0.05)
            for delivery in released:
                self._queue(delivery, now + self.faults.delay_s + 0.2)
        return event_id

    def _draw(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    # -- routes ------------------------------------------------------------------------------------

    def routes(self, gate: RequestGate) -> list[Route]:
        """The endpoints' routes, behind the engine's own gate (its key check and body reader)."""
        self.gate = gate
        return [
            Route("/v1/webhook_endpoints", self.create, methods=["POST"]),
            Route("/v1/webhook_endpoints", self.list, methods=["GET"]),
            Route("/v1/webhook_endpoints/{endpoint_id}", self.retrieve, methods=["GET"]),
            Route("/v1/webhook_endpoints/{endpoint_id}", self.update, methods=["POST"]),
            Route("/v1/webhook_endpoints/{endpoint_id}", self.delete, methods=["DELETE"]),
            Route("/v1/webhook_endpoints/{endpoint_id}/rotate_secret", self.rotate_secret, methods=["POST"]),
            Route("/v1/webhook_endpoints/{endpoint_id}/test", self.test, methods=["POST"]),
            Route("/v1/webhook_event_types", self.event_types, methods=["GET"]),
        ]

    async def create(self, request: Request) -> Response:
        await self.gate.guard(request, faults=False)
        body = await self.gate.body(request)
        url, name, types = _url(body.get("url")), _name(body.get("name")), _event_types(body.get("event_types"))
        now = int(time.time())
        with self._lock:
            if len(self._endpoints) >= MAX_ENDPOINTS:
                raise APIError(400, f"At most {MAX_ENDPOINTS} webhook endpoints; delete one first.",
                               code="too_many_endpoints")
            endpoint = Endpoint("whep_" + secrets.token_hex(12), url, name, types, now, now, new_secret())
            self._endpoints[endpoint.id] = endpoint
            self._save()
        return JSONResponse({**endpoint.public(), "signing_secret": endpoint.secret})

    async def list(self, request: Request) -> Response:
        await self.gate.guard(request, faults=False)
        try:
            limit = int(request.query_params.get("limit") or 20)
        except ValueError:
            limit = -1
        if not 1 <= limit <= 100:
            raise APIError(400, "limit must be a whole number from 1 to 100.", param="limit")
        after = request.query_params.get("after")
        with self._lock:
            ordered = list(reversed(self._endpoints.values()))  # kept in creation order: newest first
        if after:
            ids = [e.id for e in ordered]
            ordered = ordered[ids.index(after) + 1:] if after in ids else []
        page = ordered[:limit]
        return JSONResponse({"object": "list", "data": [e.public() for e in page], "has_more": len(ordered) > limit,
                             "first_id": page[0].id if page else None, "last_id": page[-1].id if page else None})

    def _endpoint(self, request: Request) -> Endpoint:
        endpoint_id = request.path_params["endpoint_id"]
        endpoint = self._endpoints.get(endpoint_id)
        if endpoint is None:
            raise APIError(404, f"No webhook endpoint found with id '{endpoint_id}'.", code="not_found",
                           param="webhook_endpoint_id")
        return endpoint

    async def retrieve(self, request: Request) -> Response:
        await self.gate.guard(request, faults=False)
        return JSONResponse(self._endpoint(request).public())

    async def update(self, request: Request) -> Response:
        await self.gate.guard(request, faults=False)
        body = await self.gate.body(request)
        with self._lock:
            endpoint = self._endpoint(request)
            changes = {}
            if "url" in body:
                changes["url"] = _url(body["url"])
            if "name" in body:
                changes["name"] = _name(body["name"])
            if "event_types" in body:
                changes["event_types"] = _event_types(body["event_types"])
            if any(getattr(endpoint, k) != v for k, v in changes.items()):
                for key, value in changes.items():
                    setattr(endpoint, key, value)
                endpoint.updated_at = int(time.time())
                self._save()
        return JSONResponse(endpoint.public())

    async def delete(self, request: Request) -> Response:
        await self.gate.guard(request, faults=False)
        with self._lock:
            endpoint = self._endpoint(request)
            del self._endpoints[endpoint.id]
            self._save()
        return JSONResponse({"id": endpoint.id, "object": "webhook_endpoint.deleted", "deleted": True})

    async def rotate_secret(self, request: Request) -> Response:
        await self.gate.guard(request, faults=False)
        body = await self.gate.body(request)
        keep = body.get("keep_old_secret_active_for_24_hours") in (True, "true", "True", "1")
        with self._lock:
            endpoint = self._endpoint(request)
            endpoint.old_secret = endpoint.secret if keep else None
            endpoint.old_secret_until = time.time() + OLD_SECRET_GRACE_S if keep else 0.0
            endpoint.secret = new_secret()
            endpoint.updated_at = int(time.time())
            self._save()
        return JSONResponse({**endpoint.public(), "signing_secret": endpoint.secret})

    async def test(self, request: Request) -> Response:
        """Send one sample event now (one attempt, no faults) and say what the endpoint answered."""
        await self.gate.guard(request, faults=False)
        body = await self.gate.body(request)
        event_type = str(body.get("event_type") or "")
        if event_type not in EVENT_TYPES:
            raise APIError(400, f"Invalid event_type '{event_type}'. Supported: {', '.join(EVENT_TYPES)}.",
                           param="event_type", code="invalid_event_type")
        endpoint = self._endpoint(request)
        event_id = "evt_test_" + secrets.token_hex(12)
        payload = json.dumps({"id": event_id, "object": "event", "created_at": int(time.time()),
                              "type": event_type, "data": {"id": "video_test_" + secrets.token_hex(6)}})
        with httpx.Client(timeout=self.policy.timeout_s, follow_redirects=False) as client:
            status, error = await run_in_threadpool(self._send, client, endpoint, event_id, payload)
        with self._lock:
            self.log.append(DeliveryRecord(endpoint.id, event_id, event_type, 1, status, error, time.time()))
        if status is None:
            raise APIError(400, f"The endpoint {endpoint.url} could not be reached: {error}",
                           code="endpoint_unreachable", param="webhook_endpoint_id")
        return JSONResponse({"object": "webhook_endpoint.test", "webhook_endpoint_id": endpoint.id,
                             "event_type": event_type, "status_code": status, "success": True})

    async def event_types(self, request: Request) -> Response:
        await self.gate.guard(request, faults=False)
        return JSONResponse({"object": "list", "data": list(EVENT_TYPES)})


def _url(value: Any) -> str:
    url = str(value or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise APIError(400, f"Invalid url '{url}': give the http(s) URL that receives deliveries.", param="url",
                       code="invalid_url")
    if len(url) > 2048:
        raise APIError(400, "The url is over 2,048 characters.", param="url", code="invalid_url")
    return url


def _name(value: Any) -> str:
    name = str(value or "").strip()
    if not name or len(name) > 256:
        raise APIError(400, "A name of 1 to 256 characters is required.", param="name", code="invalid_name")
    return name


def _event_types(value: Any) -> list[str]:
    if isinstance(value, dict):  # multipart `event_types[0]`, `event_types[1]`
        value = [value[k] for k in sorted(value, key=lambda k: int(k) if str(k).isdigit() else 0)]
    if isinstance(value, str):
        value = [value]
    types = [str(t) for t in value or []]
    unknown = [t for t in types if t not in EVENT_TYPES]
    if not types or unknown:
        raise APIError(400, f"event_types must list one or more of: {', '.join(EVENT_TYPES)}"
                            + (f" (unknown: {', '.join(unknown)})" if unknown else "") + ".",
                       param="event_types", code="invalid_event_types")
    return list(dict.fromkeys(types))
