"""Webhooks from providers: registering our endpoint with them, and receiving what they send.

Polling learns of a finished video late or at a cost; a provider that signs its events tells us at
once. Each delivery is verified the Standard Webhooks way (`standardwebhooks`, the same scheme the
OpenAI SDK's `webhooks.unwrap` checks): a bad signature, a timestamp more than 5 minutes off and a
`webhook-id` already seen are refused, and only then is the tracker told (`Tracker.nudge`), which
fetches the finished video at once. Polling stays as the safety net: while deliveries arrive the
tracker asks about that provider's jobs about once a minute, and on its normal schedule when they
stop (or when a poll finds a finished job no event announced). A lost or duplicated event thus
changes only when a job is seen finished, never what happens to it.

Registrations (endpoint id, URL and signing secret per provider) and the last delivery are kept in
`$DAILIES_HOME/webhooks.json`, readable by its user only: the secret never goes to the store, logs
or pages.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from standardwebhooks import Webhook, WebhookVerificationError
from standardwebhooks.webhooks import EmptyWebhookSecretError

from dailies.config import is_loopback_host
from dailies.errors import APIError, NotFoundError, ValidationError

log = logging.getLogger(__name__)

HOOKS_PREFIX = "/hooks"
"""Where the app receives deliveries: `/hooks/<provider name>`, beside `/engine/v1`."""
VIDEO_EVENTS = ["video.completed", "video.failed"]
TOLERANCE_S = 5 * 60
"""Standard Webhooks' window: a delivery stamped further from now than this is refused (and `standardwebhooks`
enforces the same), so remembering ids for a little longer catches every replay."""
MAX_BODY = 64 * 1024
_PROVIDER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass
class Registration:
    """Our endpoint as registered with one provider."""

    provider: str
    endpoint_id: str
    url: str
    secret: str = field(repr=False)
    registered_at: float = 0.0


@dataclass
class LastDelivery:
    """What the last delivery from a provider was and what became of it (shown in Settings)."""

    at: float
    event_type: str
    event_id: str
    outcome: str
    job_id: str | None = None


class NudgeTarget(Protocol):
    """What the receiver tells: the tracker."""

    def delivery_arrived(self, provider: str) -> None: ...

    def nudge(self, provider: str, remote_id: str, status: str) -> str | None: ...


class WebhookBook:
    """`$DAILIES_HOME/webhooks.json`: registrations and last deliveries. Thread-safe; re-read when it changes."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / "webhooks.json"
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._registrations: dict[str, Registration] = {}
        self._deliveries: dict[str, LastDelivery] = {}

    def _fresh(self) -> None:
        """Re-read the file when another process (a second app, a script) changed it. Call with the lock held."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._registrations, self._deliveries = None, {}, {}
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            data = json.loads(self.path.read_text())
            self._registrations = {k: Registration(**v) for k, v in data.get("registrations", {}).items()}
            self._deliveries = {k: LastDelivery(**v) for k, v in data.get("deliveries", {}).items()}
        except (OSError, ValueError, TypeError) as exc:
            log.warning("%s could not be read (%s); no webhook registrations are known", self.path, exc)
        self._stamp = stamp

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".webhooks.", dir=self.path.parent)  # mode 0600: it holds secrets
        with os.fdopen(fd, "w") as out:
            json.dump({"registrations": {k: asdict(v) for k, v in self._registrations.items()},
                       "deliveries": {k: asdict(v) for k, v in self._deliveries.items()}}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        stat = self.path.stat()
        self._stamp = (stat.st_mtime_ns, stat.st_size)

    def registration(self, provider: str) -> Registration | None:
        with self._lock:
            self._fresh()
            return self._registrations.get(provider)

    def registrations(self) -> dict[str, Registration]:
        with self._lock:
            self._fresh()
            return dict(self._registrations)

    def last_delivery(self, provider: str) -> LastDelivery | None:
        with self._lock:
            self._fresh()
            return self._deliveries.get(provider)

    def put(self, registration: Registration) -> None:
        with self._lock:
            self._fresh()
            self._registrations[registration.provider] = registration
            self._save()

    def remove(self, provider: str) -> Registration | None:
        with self._lock:
            self._fresh()
            gone = self._registrations.pop(provider, None)
            self._deliveries.pop(provider, None)
            self._save()
            return gone

    def delivered(self, provider: str, delivery: LastDelivery) -> None:
        with self._lock:
            self._fresh()
            self._deliveries[provider] = delivery
            self._save()


@dataclass(frozen=True)
class Outcome:
    """The answer to one delivery: an HTTP status and what to say (never a secret)."""

    status: int
    message: str
    job_id: str | None = None


class WebhookReceiver:
    """Verifies deliveries and hands them to the tracker. One per process; thread-safe."""

    def __init__(self, book: WebhookBook, tracker: NudgeTarget, *, clock: Any = time.time) -> None:
        self.book = book
        self.tracker = tracker
        self.clock = clock
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def receive(self, provider: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        """Check one delivery from `provider` and act on it; the outcome says what to answer."""
        registration = self.book.registration(provider) if _PROVIDER_NAME.match(provider) else None
        if registration is None:
            return Outcome(404, f"No webhook is registered for the provider {provider!r}.")
        if len(body) > MAX_BODY:
            return Outcome(413, "The delivery is too large.")
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            event = Webhook(registration.secret).verify(body, lowered)
        except (WebhookVerificationError, EmptyWebhookSecretError, ValueError) as exc:
            # ValueError: a malformed signature header or body (bad base64, not JSON); refused alike.
            reason = str(exc) if isinstance(exc, WebhookVerificationError) else "malformed signature or body"
            log.warning("webhook from %s refused: %s", provider, reason)
            return Outcome(401, f"The delivery was refused: {reason}.")
        msg_id = lowered["webhook-id"]
        if not self._first_time(provider, msg_id):
            return Outcome(200, "Already received; ignored.")  # 2xx so the sender stops resending it
        event_type = str(event.get("type") or "") if isinstance(event, dict) else ""
        data = event.get("data") if isinstance(event, dict) else None
        video_id = str(data.get("id") or "") if isinstance(data, dict) else ""
        self.tracker.delivery_arrived(provider)
        job_id = None
        if event_type in VIDEO_EVENTS and video_id:
            job_id = self.tracker.nudge(provider, video_id, event_type.split(".", 1)[1])
            outcome = f"{event_type} for {job_id}" if job_id else f"{event_type} for a video not followed here"
        else:
            outcome = f"{event_type or 'an event'} (nothing to do)"
        self.book.delivered(provider, LastDelivery(self.clock(), event_type, msg_id, outcome, job_id))
        return Outcome(200, outcome, job_id)

    def _first_time(self, provider: str, msg_id: str) -> bool:
        """Remember a `webhook-id` for longer than the timestamp window; False when it was seen already."""
        now = self.clock()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - 2 * TOLERANCE_S:
                self._seen.popitem(last=False)
            key = (provider, msg_id)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


def receiver_url(base: str, provider: str) -> str:
    """The URL a provider delivers to: `<base>/hooks/<provider>`, `base` being where the app is reached."""
    return f"{base.rstrip('/')}{HOOKS_PREFIX}/{provider}"


def check_public_url(url: str) -> str:
    """The base URL providers reach the app at: https, or http only on this machine (a local provider)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"{url!r} is not a URL: give where providers reach this app, such as "
                              "https://dailies.example.com (a tunnel or a reverse proxy).")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ValidationError("A public webhook URL must use https (a tunnel or a reverse proxy with TLS).")
    return url.strip().rstrip("/")


def register(book: WebhookBook, provider_name: str, client: Any, base_url: str, *, clock: Any = time.time
             ) -> Registration:
    """Register our receiver with a provider (`client`: its `VideosClient`), replacing an earlier one.

    The provider's answer holds the signing secret, which only `webhooks.json` keeps.
    """
    url = receiver_url(check_public_url(base_url), provider_name)
    previous = book.registration(provider_name)
    answer = client.create_webhook_endpoint(url=url, name=f"Dailies ({provider_name})", event_types=VIDEO_EVENTS)
    secret = str(answer.get("signing_secret") or "")
    if not secret:
        raise ValidationError(f"{provider_name} registered the endpoint but sent no signing secret.")
    registration = Registration(provider_name, str(answer["id"]), url, secret, clock())
    book.put(registration)
    if previous is not None:
        unregister_remote(client, previous)
    return registration


def unregister(book: WebhookBook, provider_name: str, client: Any) -> Registration | None:
    """Remove our endpoint at the provider and forget it here (forgotten even if the provider is gone)."""
    registration = book.remove(provider_name)
    if registration is not None:
        unregister_remote(client, registration)
    return registration


def unregister_remote(client: Any, registration: Registration) -> None:
    """Delete our endpoint at the provider; one it no longer has is fine, any other failure is logged."""
    try:
        client.delete_webhook_endpoint(registration.endpoint_id)
    except NotFoundError:
        pass  # already gone there
    except APIError as exc:
        log.warning("the endpoint %s could not be removed at %s: %s", registration.endpoint_id,
                    registration.provider, exc)
