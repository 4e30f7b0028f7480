"""Webhooks from providers: registering our endpoint with them, and receiving what they send.

Polling learns of a finished video late or at a cost; a provider that signs its events tells us at
once. Every delivery arrives at `/hooks/<provider name>` and goes through `WebhookReceiver.receive`,
which checks it with the scheme the provider's registration names (`dailies.webhooks.schemes`):
OpenAI-style events and Replicate's predictions the Standard Webhooks way (`standardwebhooks`, the
same scheme the OpenAI SDK's `webhooks.unwrap` checks), fal's results with Ed25519 against fal's
published keys. A bad signature, a timestamp more than 5 minutes off and a delivery id already seen are
refused (the ids are claimed in the job store, `REPLAY_MEMORY_S` long, so a replay is refused by every
process on the data folder and after a restart), and only then is the tracker told (`Tracker.nudge`).
Events only hasten: the tracker asks the provider about that job at once, and the provider's answer,
never the event, says whether it is finished (an early or reordered `video.completed` changes nothing).
Polling stays as the safety net: while deliveries arrive the tracker asks about that provider's jobs
about once a minute, and on its normal schedule when they stop (or when a poll finds a finished job no
event announced). A lost, duplicated or early event thus changes only when a job is seen finished, never
what happens to it.

Two ways of registering:

- `register`: a provider that speaks the OpenAI API's `/webhook_endpoints` creates an endpoint for our
  URL and returns its signing secret.
- `register_vendor`: a native vendor that takes a callback URL with each request (Replicate's
  `webhook`, fal's `fal_webhook`). Nothing is created there; the registration is our note that its
  requests carry `<public url>/hooks/<name>` from now on, with what checking them needs: Replicate's
  account secret (fetched through its SDK) or fal's key URL (no secret at all).

Registrations (kind, endpoint id, URL, and the signing secret or key URL per provider) and the last
delivery are kept in `$DAILIES_HOME/webhooks.json`, readable by its user only: the secret never goes
to the store, logs or pages.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from dailies.config import is_loopback_host
from dailies.errors import APIError, NotFoundError, ValidationError
from dailies.files import write_text
from dailies.store import Store
from dailies.webhooks.schemes import (
    TOLERANCE_S,
    VIDEO_EVENTS,
    FalKeys,
    FalResults,
    OpenAIEvents,
    Refused,
    ReplicatePredictions,
    Scheme,
)

log = logging.getLogger(__name__)

HOOKS_PREFIX = "/hooks"
"""Where the app receives deliveries: `/hooks/<provider name>`, beside `/engine/v1`."""
MAX_BODY = 64 * 1024
SEEN_TABLE = "webhook_ids"
"""The store's claims of delivery ids already received (`provider:id`)."""
REPLAY_MEMORY_S = 2 * TOLERANCE_S + 60.0
"""How long a delivery id is remembered: longer than a signed delivery can be accepted (its timestamp may be
up to `TOLERANCE_S` ahead of our clock and is refused once `TOLERANCE_S` behind), so a replay is always
caught."""
_PROVIDER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass
class Registration:
    """Our endpoint as registered with one provider.

    `kind` is how its deliveries are checked and read (`openai`, `replicate`, `fal`: see
    `dailies.webhooks.schemes`); a file written before vendors had webhooks has only `openai` ones.
    """

    provider: str
    endpoint_id: str
    url: str
    secret: str = field(repr=False)
    registered_at: float = 0.0
    kind: str = "openai"
    keys_url: str = ""
    """Where the provider publishes the public keys it signs with (fal), when it has no shared secret."""


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
    """`$DAILIES_HOME/webhooks.json`: registrations and last deliveries, and the ids of deliveries received
    (in the job store). Thread-safe; re-read when it changes."""

    def __init__(self, home: Path, store: Store | None = None) -> None:
        """`store`: the data folder's job store, where delivery ids are claimed (the app passes its own; without
        one, the folder's store is opened when the first delivery is checked)."""
        self.path = Path(home) / "webhooks.json"
        self._store = store
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
        write_text(self.path, json.dumps({"registrations": {k: asdict(v) for k, v in self._registrations.items()},
                                          "deliveries": {k: asdict(v) for k, v in self._deliveries.items()}}))
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

    def first_time(self, provider: str, delivery_id: str) -> bool:
        """Claim a delivery id (`REPLAY_MEMORY_S` long) in the store; False when it was received already,
        by this process or any other on the data folder, before or after a restart."""
        with self._lock:
            if self._store is None:
                from dailies.config import Environment
                from dailies.store import open_store

                self._store = open_store(self.path.parent, Environment.load().database_url, follow=False)
            store = self._store
        return store.claims(SEEN_TABLE).claim(f"{provider}:{delivery_id}", {"at": time.time()},
                                              REPLAY_MEMORY_S).claimed

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
    """Verifies deliveries and hands them to the tracker. One per process; thread-safe.

    The one entry point for every provider's webhooks: it finds the provider's registration, checks the
    delivery with the scheme the registration's `kind` names, ignores a replay, and tells the tracker.
    """

    def __init__(self, book: WebhookBook, tracker: NudgeTarget, *, clock: Any = time.time,
                 fal_keys: FalKeys | None = None) -> None:
        """`fal_keys`: where fal's public keys are fetched and kept (one is made when none is given)."""
        self.book = book
        self.tracker = tracker
        self.clock = clock
        self.fal_keys = fal_keys or FalKeys()
        self.schemes: dict[str, Scheme] = {
            "openai": OpenAIEvents(),
            "replicate": ReplicatePredictions(),
            "fal": FalResults(self.fal_keys, clock),
        }

    def receive(self, provider: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        """Check one delivery from `provider` and act on it; the outcome says what to answer."""
        registration = self.book.registration(provider) if _PROVIDER_NAME.match(provider) else None
        if registration is None:
            return Outcome(404, f"No webhook is registered for the provider {provider!r}.")
        if len(body) > MAX_BODY:
            return Outcome(413, "The delivery is too large.")
        scheme = self.schemes.get(registration.kind)
        if scheme is None:
            return Outcome(404, f"The webhook registered for {provider!r} is of an unknown kind.")
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            delivery = scheme.check(registration, body, lowered)
        except Refused as exc:
            log.warning("webhook from %s refused: %s", provider, exc.reason)
            return Outcome(exc.status, f"The delivery was refused: {exc.reason}.")
        if not self.book.first_time(provider, delivery.id):
            return Outcome(200, "Already received; ignored.")  # 2xx so the sender stops resending it
        self.tracker.delivery_arrived(provider)
        job_id = None
        if delivery.status and delivery.remote_id:
            job_id = self.tracker.nudge(provider, delivery.remote_id, delivery.status)
            outcome = (f"{delivery.event_type} for {job_id}" if job_id
                       else f"{delivery.event_type} for a video not followed here")
        else:
            outcome = f"{delivery.event_type or 'an event'} (nothing to do)"
        self.book.delivered(provider, LastDelivery(self.clock(), delivery.event_type, delivery.id, outcome, job_id))
        return Outcome(200, outcome, job_id)


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


def register_vendor(book: WebhookBook, provider_name: str, provider: Any, base_url: str, *,
                    clock: Any = time.time) -> Registration:
    """Switch on callbacks for a vendor that takes a callback URL per request (`provider.callback_signing`).

    Nothing is created at the vendor: what checking its deliveries needs (Replicate's account secret,
    fetched now through its SDK; fal's key URL) is kept here, and from now on the provider's creates ask
    for callbacks to `<base_url>/hooks/<provider_name>` (the provider reads the registration at each one).
    """
    url = receiver_url(check_public_url(base_url), provider_name)
    signing = provider.callback_signing()
    if signing.kind == "replicate" and not signing.secret:
        raise ValidationError(f"{provider_name} sent no webhook signing secret.")
    registration = Registration(provider_name, "", url, signing.secret, clock(), kind=signing.kind,
                                keys_url=signing.keys_url)  # no endpoint id: nothing exists at the vendor
    book.put(registration)
    return registration


def registered_url(book: WebhookBook, provider_name: str) -> str | None:
    """The callback URL a vendor's creates should carry: its registration's, or None when it has none."""
    registration = book.registration(provider_name)
    return registration.url if registration is not None and registration.kind != "openai" else None


def unregister(book: WebhookBook, provider_name: str, client: Any) -> Registration | None:
    """Remove our endpoint at the provider and forget it here (forgotten even if the provider is gone)."""
    registration = book.remove(provider_name)
    if registration is not None and registration.kind == "openai":  # a vendor's is only our own note
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
