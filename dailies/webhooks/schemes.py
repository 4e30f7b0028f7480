"""How each provider signs its webhooks, and what a verified delivery says: one small check per scheme.

`WebhookReceiver` (in `dailies.webhooks`) is the one entry point; it looks up the provider's
registration and hands the delivery to the scheme its `kind` names:

- `openai`: an OpenAI-style event (`{"type": "video.completed", "data": {"id": ...}}`), signed the
  Standard Webhooks way with the secret the provider returned when our endpoint was registered.
- `replicate`: the prediction itself (`{"id", "status", ...}`), signed the same Standard Webhooks way
  with the account's secret (`GET /v1/webhooks/default/secret`). The `replicate` SDK's own
  `Webhooks.validate` checks the same HMAC but puts the secret in one of its error messages, so the
  same `standardwebhooks` check as for `openai` is used.
- `fal`: `{"request_id", "status": "OK"|"ERROR", "payload", "error"?}`, signed with Ed25519 over
  `request_id \\n user_id \\n timestamp \\n sha256(body)`; fal publishes its public keys as a JWKS, so
  there is no secret: the keys are fetched (`FalKeys`), kept for an hour, and fetched again once when a
  signature matches none of them (fal rotated its keys).

Every scheme refuses a bad signature and a timestamp more than `TOLERANCE_S` from now, and names the
delivery by an id the receiver remembers, so a replay is ignored. A check raises `Refused`; it never
puts a secret or key in what it says.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks import Webhook, WebhookVerificationError
from standardwebhooks.webhooks import EmptyWebhookSecretError

log = logging.getLogger(__name__)

TOLERANCE_S = 5 * 60
"""A delivery stamped further from now than this is refused (Standard Webhooks' window, which
`standardwebhooks` enforces, and fal's advice), so remembering ids for a little longer catches every replay."""
FAL_JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
"""Where fal publishes the public keys its webhooks are signed with (fal's documentation)."""
VIDEO_EVENTS = ["video.completed", "video.failed"]


class Refused(Exception):
    """A delivery that is not believed. `status` is the answer: 401, or 503 when it cannot be checked now
    (fal's keys could not be fetched), so the sender tries again later."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Delivery:
    """A verified delivery in the receiver's words."""

    id: str
    """What names this delivery (`webhook-id`, fal's request id): seen twice, it is a replay."""
    event_type: str
    remote_id: str = ""
    """The provider's id of the video it is about, or "" when it is about none."""
    status: str | None = None
    """`completed` or `failed` when the video is finished, else None (nothing to do)."""


class Signed(Protocol):
    """What a scheme reads of a registration."""

    secret: str
    keys_url: str


class Scheme(Protocol):
    def check(self, registration: Signed, body: bytes, headers: Mapping[str, str]) -> Delivery:
        """Verify a delivery (`headers` lower-cased) and read it, or raise `Refused`."""
        ...


def _standard(secret: str, body: bytes, headers: Mapping[str, str]) -> tuple[str, Any]:
    """Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (HMAC-SHA256)."""
    try:
        event = Webhook(secret).verify(body, dict(headers))
    except WebhookVerificationError as exc:
        raise Refused(str(exc)) from exc
    except (EmptyWebhookSecretError, ValueError) as exc:
        # A malformed signature header or body (bad base64, not JSON): refused alike, saying nothing more.
        raise Refused("malformed signature or body") from exc
    return headers["webhook-id"], event


class OpenAIEvents:
    """OpenAI-style `video.completed` / `video.failed` events, Standard Webhooks signed."""

    def check(self, registration: Signed, body: bytes, headers: Mapping[str, str]) -> Delivery:
        msg_id, event = _standard(registration.secret, body, headers)
        event_type = str(event.get("type") or "") if isinstance(event, dict) else ""
        data = event.get("data") if isinstance(event, dict) else None
        video_id = str(data.get("id") or "") if isinstance(data, dict) else ""
        if event_type in VIDEO_EVENTS and video_id:
            return Delivery(msg_id, event_type, video_id, event_type.split(".", 1)[1])
        return Delivery(msg_id, event_type)


REPLICATE_FINISHED = {"succeeded": "completed", "failed": "failed", "canceled": "failed", "aborted": "failed"}


class ReplicatePredictions:
    """Replicate's callbacks: the prediction object, Standard Webhooks signed with the account's secret."""

    def check(self, registration: Signed, body: bytes, headers: Mapping[str, str]) -> Delivery:
        msg_id, prediction = _standard(registration.secret, body, headers)
        if not isinstance(prediction, dict):
            return Delivery(msg_id, "prediction")
        status = str(prediction.get("status") or "")
        return Delivery(msg_id, f"prediction.{status or 'unknown'}", str(prediction.get("id") or ""),
                        REPLICATE_FINISHED.get(status))


class FalKeys:
    """fal's public signing keys, by JWKS URL: fetched with httpx, kept for `ttl_s`. Thread-safe.

    A signature no known key verifies makes one fresh fetch (fal may have rotated its keys), but not more
    often than every `refetch_after_s`, so forged deliveries cannot make us hammer fal's key server.
    """

    def __init__(self, *, ttl_s: float = 3600.0, refetch_after_s: float = 30.0,
                 clock: Callable[[], float] = time.time, http: httpx.Client | None = None) -> None:
        self.ttl_s = ttl_s
        self.refetch_after_s = refetch_after_s
        self.clock = clock
        self._http = http or httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0))
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, list[Ed25519PublicKey]]] = {}
        self.fetches = 0
        """How many times keys were fetched (tests read it)."""

    def verify(self, url: str, signature: bytes, message: bytes) -> bool:
        """Whether one of the keys at `url` signed `message`; fetches them first when they are not fresh."""
        with self._lock:
            cached = self._keys.get(url)
        now = self.clock()
        if cached is None or now - cached[0] > self.ttl_s:
            cached = self._fetch(url)
        if _any_verifies(cached[1], signature, message):
            return True
        if now - cached[0] < self.refetch_after_s:
            return False
        return _any_verifies(self._fetch(url)[1], signature, message)

    def _fetch(self, url: str) -> tuple[float, list[Ed25519PublicKey]]:
        try:
            response = self._http.get(url)
            response.raise_for_status()
            found = [_ed25519(key) for key in response.json().get("keys", [])]
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.warning("fal's signing keys could not be fetched from %s: %s", url, exc)
            raise Refused("fal's signing keys could not be fetched; try again later", 503) from exc
        keys = [key for key in found if key is not None]
        fetched = (self.clock(), keys)
        with self._lock:
            self._keys[url] = fetched
            self.fetches += 1
        return fetched

    def close(self) -> None:
        self._http.close()


def _ed25519(jwk: Any) -> Ed25519PublicKey | None:
    """An OKP/Ed25519 key of a JWKS, or None for any other kind of key (skipped)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    x = str(jwk.get("x") or "")
    try:
        return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    except ValueError:
        return None


def _any_verifies(keys: list[Ed25519PublicKey], signature: bytes, message: bytes) -> bool:
    for key in keys:
        try:
            key.verify(signature, message)
            return True
        except InvalidSignature:
            continue
    return False


def fal_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    """What fal signs: request id, user id, timestamp and the body's sha256 (hex), one per line."""
    return f"{request_id}\n{user_id}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()


class FalResults:
    """fal's callbacks: `{"request_id", "status": "OK"|"ERROR", ...}`, Ed25519 signed with fal's public keys."""

    def __init__(self, keys: FalKeys, clock: Callable[[], float] = time.time) -> None:
        self.keys = keys
        self.clock = clock

    def check(self, registration: Signed, body: bytes, headers: Mapping[str, str]) -> Delivery:
        names = ("request-id", "user-id", "timestamp", "signature")
        request_id, user_id, stamp, signature = (headers.get(f"x-fal-webhook-{n}", "") for n in names)
        if not (request_id and user_id and stamp and signature):
            raise Refused("Missing required headers")
        try:
            at = int(stamp)
            raw = bytes.fromhex(signature)
        except ValueError as exc:
            raise Refused("malformed signature or timestamp") from exc
        now = self.clock()
        if at < now - TOLERANCE_S:
            raise Refused("Message timestamp too old")
        if at > now + TOLERANCE_S:
            raise Refused("Message timestamp too new")
        if not self.keys.verify(registration.keys_url or FAL_JWKS_URL, raw, fal_message(request_id, user_id,
                                                                                         stamp, body)):
            raise Refused("No matching signature found")
        try:
            result = json.loads(body)
        except ValueError as exc:
            raise Refused("malformed signature or body") from exc
        if not isinstance(result, dict) or str(result.get("request_id") or request_id) != request_id:
            raise Refused("the body is not about the signed request")
        status = str(result.get("status") or "")
        finished = {"OK": "completed", "ERROR": "failed"}.get(status)
        return Delivery(request_id, f"request.{status.lower() or 'unknown'}", request_id, finished)
