"""The pipeline API's rules: takes ordered by scripts and CMS hooks, under the same rules as the pages.

A take ordered here is checked, moderated, priced and budgeted by the same `Studio` as the Generate
page (nothing is sent while a problem stands), and followed by the same tracker. An `Idempotency-Key`
makes a retried order return the first take, never a second paid one: the key is claimed in the store
(`JobStore.claims`, a compare-and-set across processes), so of two app processes on one data folder one
sends, and a restart knows the key for `KEY_LIFE_S`. A take ordered with a `callback_url` is
announced there when it ends, signed the Standard Webhooks way with `DAILIES_CALLBACK_SECRET` and
retried with backoff until the receiver answers 2xx (a `RetryQueue` over the store's `api_callbacks` table: a
restart or another process carries on where this one stopped, and one process sends each); only public https
hosts, or hosts the team names in `DAILIES_CALLBACK_ALLOW_HOSTS`, are sent to (`dailies/pipeline/callbacks.py`,
checked at order and at send).

The HTTP side (routes, bearer token, Host checks) is `dailies/web/api.py`; this module
imports neither Streamlit nor Starlette.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from dailies.backoff import Backoff
from dailies.errors import RequestRefused, ValidationError
from dailies.jobs import Job, JobRequest, JobStatus
from dailies.pipeline.callbacks import CallbackPolicy, CallbackRefused, Target, post, why_not_public
from dailies.retry_queue import RetryQueue, RetrySchedule
from dailies.store import StoreOpenError
from dailies.studio import Studio
from dailies.validation import MAX_REFERENCE_BYTES, check_reference_image

log = logging.getLogger(__name__)

TOKEN_VAR = "DAILIES_API_TOKEN"
CALLBACK_SECRET_VAR = "DAILIES_CALLBACK_SECRET"
IDEMPOTENCY_TABLE = "api_idempotency"
CALLBACK_TABLE = "api_callbacks"
CALLBACK_SCHEDULE = RetrySchedule(attempts=8, waits=Backoff(first=1.0, cap=60.0))
"""How hard a callback is tried: 8 attempts in all, the waits growing from a second to a minute."""
FIELDS = {"prompt", "model", "size", "seconds", "provider", "tags", "reference_url", "callback_url", "audio"}
FINISHED = {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.NEEDS_LOOK}
"""A take in one of these is announced to its callback (a needs-look one needs a person: said so)."""
KEY_LIFE_S = 24 * 3600.0
"""How long an `Idempotency-Key` holds: a retry within a day returns the first take."""
IN_FLIGHT_S = 300.0
"""A key whose first request began sending this long ago and never said how it ended is in doubt (409)."""
PENDING_REREAD_S = 30.0
"""How often the callbacks thread reads the orders table again, for orders other processes took."""


class Conflict(RequestRefused):
    """An `Idempotency-Key` reused with another body, or while its first request is still being sent."""


class Refusal(RequestRefused):
    """What the pages would refuse (validation, moderation, budget), every reason at once, with the price."""

    def __init__(self, problems: tuple[str, ...], cost: float) -> None:
        super().__init__(" ".join(problems))
        self.problems, self.cost = problems, cost


@dataclass(frozen=True)
class Order:
    """A checked order: what to render, where, and whom to tell."""

    request: JobRequest
    provider: str
    callback_url: str | None


def token_matches(header: str | None, token: str | None) -> bool:
    """Whether `Authorization: Bearer <token>` carries the API token (constant time; no token, no access)."""
    given = (header or "")[7:] if (header or "").lower().startswith("bearer ") else ""
    return bool(token and given) and hmac.compare_digest(given.encode(), str(token).encode())


class Pipeline:
    """Orders, looks and callbacks over one studio. Thread-safe; `start`/`close` run the callback sender."""

    def __init__(self, studio: Studio, *, callback_secret: str | None = None,
                 fetch: Callable[[str], bytes] | None = None, callback_policy: CallbackPolicy | None = None,
                 callback_schedule: RetrySchedule = CALLBACK_SCHEDULE) -> None:
        self.studio = studio
        self.callback_secret = callback_secret
        self.callback_policy = callback_policy or CallbackPolicy.from_values(studio.env.values)
        """Where callbacks may go (`DAILIES_CALLBACK_ALLOW_HOSTS` from the studio's environment by default)."""
        self._fetch = fetch or fetch_public_image
        self._keys = studio.store.claims(IDEMPOTENCY_TABLE)
        self.callbacks = RetryQueue(studio.store.table(CALLBACK_TABLE), callback_schedule,
                                    claims=studio.store.claims(CALLBACK_TABLE + "_sending"),
                                    reread_every=PENDING_REREAD_S)
        """Each take's callback (`url`, `event_id`) until it is sent, given up or refused, keyed by the take."""
        self._stop = threading.Event()
        self._wake = threading.Event()  # a new order, or stopping
        self._thread: threading.Thread | None = None

    # -- ordering ----------------------------------------------------------------------------------

    def parse(self, fields: Mapping[str, Any], upload: tuple[str, bytes] | None = None) -> Order:
        """Read and check an order's fields (JSON or form) into a request; ValidationError says what is wrong."""
        unknown = sorted(set(fields) - FIELDS - {"reference"})
        if unknown:
            raise ValidationError(f"Unknown field(s): {', '.join(unknown)}. Known: {', '.join(sorted(FIELDS))}.")
        prompt = fields.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValidationError("prompt is required: the text of the take.", field="prompt")
        provider = str(fields.get("provider") or self.studio.active_provider_name)
        names = self.studio.providers.names()
        if provider not in names:
            raise ValidationError(f"Unknown provider {provider!r}. Configured: {', '.join(names)}.", field="provider")
        caps = self.studio.capabilities(provider)
        settings = self.studio.settings
        model = str(fields.get("model") or caps.default_model)
        size = str(fields.get("size") or settings.default_size)
        seconds = _whole_number(fields.get("seconds"), settings.default_seconds)
        tags = _tags(fields.get("tags"))
        callback = fields.get("callback_url")
        if callback and not self.callback_secret:
            raise ValidationError(f"callback_url needs {CALLBACK_SECRET_VAR} (a whsec_... secret) set on the server, "
                                  "to sign the callbacks with.", field="callback_url")
        callback_url = self.callback_policy.check(str(callback)).url if callback else None
        reference_path = None
        if upload is not None or fields.get("reference_url"):
            name, data = upload if upload is not None else self._reference_from_url(str(fields["reference_url"]))
            reference_path = self._save_reference(name, data)
        request = JobRequest(prompt=prompt, model=model, size=size, seconds=seconds, tags=tags,
                             reference_path=reference_path, audio=_sound(fields.get("audio")))
        return Order(request, provider, callback_url)

    def _reference_from_url(self, url: str) -> tuple[str, bytes]:
        if url.startswith("data:"):
            try:
                header, encoded = url.split(",", 1)
                if ";base64" not in header:
                    raise ValueError
                data = base64.b64decode(encoded, validate=True)
            except (ValueError, binascii.Error):
                raise ValidationError("reference_url is a data: URL that is not base64.", field="reference_url") \
                    from None
            return "reference", data
        return urlsplit(url).path.rsplit("/", 1)[-1] or "reference", self._fetch(url)

    def _save_reference(self, name: str, data: bytes) -> str:
        if len(data) > MAX_REFERENCE_BYTES:
            raise ValidationError(f"The reference image is {len(data) / 2**20:.1f} MB; the limit is "
                                  f"{MAX_REFERENCE_BYTES / 2**20:.0f} MB.", field="reference")
        folder = self.studio.home / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"ref_{uuid.uuid4().hex}"
        path.write_bytes(data)
        try:
            content_type = check_reference_image(path, shown_name=name)
        except ValidationError:
            path.unlink(missing_ok=True)
            raise
        final = path.with_suffix({"image/png": ".png", "image/webp": ".webp"}.get(content_type, ".jpg"))
        path.replace(final)
        return str(final)

    def estimate(self, order: Order) -> tuple[float, tuple[str, ...]]:
        """The price, and every reason the pages would refuse it (validation, moderation, budget)."""
        preflight = self.studio.preflight(order.request, order.provider)
        return preflight.cost, preflight.problems

    def order(self, order: Order, idempotency_key: str | None, body_digest: str) -> tuple[Job, float, bool]:
        """Submit once per key: (the take, its estimate, whether it was made by this call).

        The order's uploaded reference image is kept only when this call recorded a take with it: a
        refused order (validation, moderation, budget, the provider), a conflict or a replay of an earlier
        order leaves nothing in `uploads/`. Raises as `_order_once`.
        """
        try:
            job, cost, made = self._order_once(order, idempotency_key, body_digest)
        except Exception:  # nothing was recorded (an interrupt, a BaseException, may have made the take: kept)
            self.discard_reference(order)
            raise
        if not made:  # an earlier order's take, made with that order's own copy of the image
            self.discard_reference(order)
        return job, cost, made

    def discard_reference(self, order: Order) -> None:
        """Remove the reference image saved for an order that made no take (only a file in `uploads/`)."""
        path = order.request.reference_path
        if path and Path(path).parent == self.studio.home / "uploads":
            Path(path).unlink(missing_ok=True)

    def _order_once(self, order: Order, idempotency_key: str | None, body_digest: str) -> tuple[Job, float, bool]:
        """Submit once per key: (the take, its estimate, whether it was made by this call).

        Raises RequestRefused (nothing sent) with every problem, Conflict for a reused key, APIError when
        the provider refused the send.
        """
        key = hashlib.sha256(idempotency_key.encode()).hexdigest() if idempotency_key else None
        if key:
            claim = self._keys.claim(key, {"state": "sending", "digest": body_digest, "at": time.time()}, KEY_LIFE_S)
            if not claim.claimed:  # another request (this process's or another's) holds the key
                return self._replay(claim.record, body_digest)
        try:
            cost, problems = self.estimate(order)
            if problems:
                raise Refusal(problems, cost)
            job = self.studio.submit(order.request, order.provider)
        except Exception:
            # The studio raises only when nothing was made (a send that may have arrived comes back as an
            # unconfirmed take instead): the same key may be sent again once the problem is fixed.
            if key:
                self._keys.release(key)
            raise
        except BaseException as exc:  # an interrupt midway: the take may exist
            if key:
                self._keys.update(key, state="unknown", error=type(exc).__name__)
            raise
        if key:
            self._keys.update(key, state="made", job_id=job.id)
        if order.callback_url:
            self.callbacks.put(job.id, url=order.callback_url, event_id="evt_" + secrets.token_hex(16))
            self._wake.set()
        return job, cost, True

    def _replay(self, known: dict[str, Any], body_digest: str) -> tuple[Job, float, bool]:
        if known.get("digest") != body_digest:
            raise Conflict("This Idempotency-Key was used with another body; use a new key for a new take.")
        if known.get("state") == "made":
            job = self.studio.store.require(str(known["job_id"]))
            return job, job.cost_estimate, False
        if known.get("state") == "sending" and time.time() - float(known.get("at") or 0) < IN_FLIGHT_S:
            raise Conflict("The first request with this Idempotency-Key is still being sent; ask again shortly.")
        raise Conflict("The first request with this Idempotency-Key may or may not have made a take "
                       f"({known.get('error')}); look in History before ordering it again with a new key.")

    # -- looking -----------------------------------------------------------------------------------

    def takes(self, *, tag: str | None = None, status: str | None = None, limit: int = 100) -> list[Job]:
        jobs = [j for j in self.studio.store.all() if (not tag or tag in j.tags) and (not status or j.status == status)]
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)[:limit]

    def view(self, job: Job, file_url: Callable[[Job, str], str], cost: float | None = None) -> dict[str, Any]:
        """A take as the API shows it: status, progress, file URLs, price, and what went wrong."""
        body: dict[str, Any] = {
            "id": job.id, "object": "take", "status": str(job.status), "progress": job.progress,
            "prompt": job.prompt, "model": job.model, "size": job.size, "seconds": job.seconds,
            "provider": job.provider, "provider_video_id": job.remote_id, "tags": list(job.tags),
            "created_at": job.created_at, "completed_at": job.completed_at,
            "estimate_usd": round(job.cost_estimate if cost is None else cost, 4),
            "files": {variant: file_url(job, variant) for variant in job.files} if job.status == "completed" else {},
            "error": {"message": job.error.message, "code": job.error.code} if job.error else None,
        }
        callback = self.callbacks.entry(job.id)
        if callback:
            body["callback"] = {"state": callback.get("state"), "attempts": callback.get("attempts"),
                                "last_status": callback.get("last_status")}
            if callback.get("state") == "refused":
                body["callback"]["reason"] = callback.get("reason")
        return body

    # -- callbacks ---------------------------------------------------------------------------------

    def start(self, file_url: Callable[[Job, str], str]) -> None:
        """Send callbacks in the background: each take with a `callback_url`, once it has ended."""
        self._file_url = file_url
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="dailies-callbacks", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        # No proxies from the environment: a callback connects to the address that was checked, nowhere else;
        # and no kept connections, one of which (to the same address, for another host's TLS name) could be
        # reused for a host it was not made for.
        with httpx.Client(timeout=10.0, follow_redirects=False, trust_env=False,
                          limits=httpx.Limits(max_keepalive_connections=0)) as client:
            while True:
                self._wake.wait(self._time_to_next())
                self._wake.clear()
                if self._stop.is_set():
                    return
                if not self.studio.store.ready:  # the app's store opens once its first page is drawn
                    continue
                try:
                    self.send_due(client)
                except StoreOpenError:  # no store, no callbacks: said once (every page says it too)
                    log.exception("callbacks stop: the job store could not be opened")
                    return
                except Exception:  # one bad record must not stop every later callback
                    log.exception("sending callbacks failed")

    def _time_to_next(self) -> float | None:
        """Until the next callback's time or the next look at other processes' orders, and a second at least: a
        callback whose take has not ended waits for it, and goes out within a second of its end; this process's
        own orders wake the thread at once, so an idle server is not woken for nothing."""
        next_at = self.callbacks.next_due()
        return None if next_at is None else max(1.0, next_at - time.time())

    def send_due(self, client: httpx.Client) -> int:
        """Send every callback whose take has ended and whose time has come; returns how many were tried."""
        tried = 0
        due = self.callbacks.due(time.time(), ready=self._ended)
        try:
            for job_id, record in due:
                job = self.studio.store.get(job_id)
                if job is not None:
                    tried += 1
                    self._send(client, job, record)
        finally:
            for job_id, _ in due:  # those whose outcome went unsaid (deleted meanwhile, or a send raised)
                self.callbacks.release(job_id)
        return tried

    def _ended(self, job_id: str, record: dict[str, Any]) -> bool:
        job = self.studio.store.get(job_id)
        return job is not None and job.status in FINISHED

    def _send(self, client: httpx.Client, job: Job, record: dict[str, Any]) -> None:
        assert self.callback_secret
        event_type = "take.completed" if job.status is JobStatus.COMPLETED else "take.failed"
        payload = json.dumps({"id": record["event_id"], "object": "event", "type": event_type,
                              "created_at": int(time.time()), "data": self.view(job, self._file_url)})
        stamp = datetime.fromtimestamp(int(time.time()), tz=UTC)
        headers = {"webhook-id": record["event_id"], "webhook-timestamp": str(int(stamp.timestamp())),
                   "webhook-signature": Webhook(self.callback_secret).sign(record["event_id"], stamp, payload),
                   "content-type": "application/json", "user-agent": "dailies-callbacks/1"}
        try:  # checked again now: the host may resolve elsewhere than when the take was ordered
            target: Target = self.callback_policy.check(record["url"])
        except CallbackRefused as exc:
            log.warning("callback for %s refused: %s", job.id, exc)
            self.callbacks.refused(job.id, str(exc))
            return
        error = None
        try:
            status: int | None = post(client, target, payload.encode(), headers).status_code
        except httpx.HTTPError as exc:
            status, error = None, str(exc)
            log.info("callback for %s to %s failed: %s", job.id, record["url"], exc)
        if status is not None and 200 <= status < 300:
            self.callbacks.succeeded(job.id, last_status=status)
        else:
            self.callbacks.failed(job.id, status=status, error=error)


def body_digest(fields: Mapping[str, Any], upload: tuple[str, bytes] | None) -> str:
    """What makes two orders the same order (for `Idempotency-Key`): their fields and uploaded bytes."""
    digest = hashlib.sha256(json.dumps(dict(fields), sort_keys=True, default=str).encode())
    if upload is not None:
        digest.update(upload[1])
    return digest.hexdigest()


def fetch_public_image(url: str) -> bytes:
    """Fetch a reference image from a public https URL (never this machine or a private network)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationError("reference_url must be an https URL or a data: URL.", field="reference_url")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError as exc:
        raise ValidationError(f"reference_url's host {parts.hostname!r} could not be found.",
                              field="reference_url") from exc
    if any(why_not_public(a) for a in addresses):  # the callbacks' rule (multicast, IPv4 in IPv6 included)
        raise ValidationError("reference_url points at this machine or a private network; send the image "
                              "itself instead.", field="reference_url")
    try:
        with httpx.stream("GET", url, timeout=20.0, follow_redirects=False) as answer:
            if answer.status_code != 200:
                raise ValidationError(f"reference_url answered {answer.status_code}.", field="reference_url")
            data = b""
            for chunk in answer.iter_bytes():
                data += chunk
                if len(data) > MAX_REFERENCE_BYTES:
                    raise ValidationError("The reference image is over the size limit.", field="reference")
            return data
    except httpx.HTTPError as exc:
        raise ValidationError(f"reference_url could not be fetched: {exc}", field="reference_url") from exc


def _whole_number(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise ValidationError(f"seconds must be a whole number, not {value!r}.", field="seconds") from None
    return number


def _sound(value: Any) -> bool:
    """The `audio` field, JSON's true/false or a form's word for it; left out, sound is on (as priced)."""
    if value is None or value == "" or value is True or value is False:
        return value is not False
    word = str(value).strip().lower()
    if word in ("true", "on", "yes", "1"):
        return True
    if word in ("false", "off", "no", "0"):
        return False
    raise ValidationError(f"audio is true or false (sound on or off), not {value!r}.", field="audio")


def _tags(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [t for t in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ValidationError("tags must be a list of strings (or one comma-separated string).", field="tags")
    return list(dict.fromkeys(t.strip() for t in value if t.strip()))
