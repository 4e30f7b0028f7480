"""Replicate through its official SDK, `replicate` 1.0.7.

A Replicate prediction: `POST /v1/models/{owner}/{name}/predictions {"input": {...}}` answers the
prediction; `GET /v1/predictions/{id}` says `starting` (queued), `processing`, `succeeded` (with
`output`: one URL, or a list of them), `failed` (with `error`) or `canceled`; `POST
/v1/predictions/{id}/cancel` stops it. Outputs are deleted by Replicate an hour after the prediction,
so the tracker downloads at once. Progress is only what the SDK can read from tqdm lines in `logs`.

The SDK never retries a POST (its retry transport covers GET/PUT/DELETE only), so a create is sent
once as it stands. Every model names its inputs its own way (`aspect_ratio`, `duration`,
`start_image`, ...): the catalogue below records each model's names, and a model with a
`resolution` input (Seedance: default 1080p) is always told the one asked for.

Reference images go inline as data URIs when they are under `IMAGE_LIMIT` as they are: Replicate
recommends data URLs only for files under 1 MB (https://replicate.com/docs/topics/predictions/input-files).
A larger one is uploaded through Replicate's files API (`Client.files.create`, `POST /v1/files`) and sent
as the file's URL; one that cannot fit `UPLOAD_LIMIT` even shrunk is refused before anything is sent.

Subject references: a model whose `subject_references` is above 0 names its list input in
`options["references"]` (Kling 1.6's `reference_images` on Replicate: pictures of a subject, a character or
clothing, up to 4, as its page was last read); each goes inline or uploaded as an opening frame does. No
catalogue model takes them yet.

1.0.7's pydantic model rejects status words it does not know (`aborted`, which the API documents:
https://replicate.com/docs/topics/predictions/lifecycle): `refresh` reads such an answer as plain JSON,
`delete` takes the answer to its cancel as done, and `health` as the key accepted. A 429 ("Request was
throttled. Expected available in N seconds.") is our `RateLimitError`, `retry_after` read from that
sentence, since the SDK's `ReplicateError` keeps no headers.

Published schemas: the connection test (`health`) also reads each catalogue model's latest version's
`openapi_schema` (`models.get`), once per provider, and `submit` then refuses an input the model does
not have or a value out of its range before sending, naming it. A model whose schema cannot be read is
named in the health message and sent as the catalogue says.

Callbacks: once a webhook is registered for this provider (Settings → Webhooks), every create also
sends `webhook=<public url>/hooks/<name>` and `webhook_events_filter=["completed"]`, so Replicate posts
the finished prediction to the app, signed the Standard Webhooks way with the account's secret
(`callback_signing` fetches it through the SDK: `GET /v1/webhooks/default/secret`).
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Callable
from typing import Any, Unpack

import httpx
import replicate
from pydantic import v1 as pydantic_v1
from replicate.exceptions import ReplicateError

from dailies.errors import APIError, NotSupported
from dailies.jobs import FileRecord, JobError, JobRequest, JobStatus
from dailies.providers._vendor import ImageLimit, check_request_shape, download_url, http_error, transport_error
from dailies.providers.base import CallbackSigning, Health, ModelInfo, ProgressCallback, RemoteVideo, WebhookLookup
from dailies.providers.catalog import REPLICATE
from dailies.providers.vendor_base import SchemaCheckedProvider, VendorArgs

IMAGE_LIMIT = ImageLimit(
    1_000_000, "Replicate's advice for data URLs, https://replicate.com/docs/topics/predictions/input-files"
)
UPLOAD_LIMIT = ImageLimit(
    100 * 2**20, "Replicate's files API, up to 100 MiB a file (https://replicate.com/docs/topics/predictions/"
    "input-files)", max_side=4096,
)
"""What goes through `files.create` instead: the picture as it is when it fits (a 4032x3024 phone photo does),
else shrunk; the side limit only keeps an absurd picture from costing upload time for nothing."""

_STATUS = {
    "starting": JobStatus.QUEUED,
    "processing": JobStatus.IN_PROGRESS,
    "succeeded": JobStatus.COMPLETED,
    "failed": JobStatus.FAILED,
    "canceled": JobStatus.FAILED,
    "aborted": JobStatus.FAILED,
}


class ReplicateProvider(SchemaCheckedProvider):
    """Replicate's predictions through `replicate.Client`. Thread-safe (one SDK client, shared)."""

    catalog = REPLICATE
    image_limit = IMAGE_LIMIT
    upload_limit = UPLOAD_LIMIT

    def __init__(self, name: str | None = None, *, webhook_url: WebhookLookup | None = None,
                 **given: Unpack[VendorArgs]) -> None:
        """`webhook_url` says, at each create, where Replicate should post the finished prediction (None:
        nowhere, the tracker polls)."""
        super().__init__(name, **given)
        self.webhook_url: WebhookLookup = webhook_url or (lambda: None)

    def closer(self) -> Callable[[], None]:
        return self.sdk._client.close  # the SDK exposes no close; its httpx client holds the connections

    def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(model, model.partition("/")[0]) for model in self.models]

    def _connect(self, key: str) -> replicate.Client:
        return replicate.Client(api_token=key, base_url=self.base_url or None)

    def health(self) -> Health:
        """Ask for one page of predictions: a read that costs nothing and checks the token."""
        started = time.perf_counter()
        try:
            self._call(self.sdk.predictions.list)
        except pydantic_v1.ValidationError:
            pass  # the page held a status word 1.0.7 cannot parse (`aborted`): the key was accepted
        except APIError as exc:
            return Health(False, f"{self.label} does not answer: {exc}")
        return self._answers(started)

    def _schema_keys(self) -> list[str]:
        return list(self.models)

    def _read_published(self, missing: list[str]) -> list[str]:
        unread = []
        for model in missing:
            try:
                version = self._call(self.sdk.models.get, model).latest_version
                document = dict(version.openapi_schema) if version else {}
                self.published[model] = (document["components"]["schemas"]["Input"], document)
            except (APIError, KeyError, TypeError, pydantic_v1.ValidationError):
                unread.append(model)
        return unread

    def callback_signing(self) -> CallbackSigning:
        """The account's webhook signing secret (`whsec_...`), through the SDK, for the receiver to check with."""
        secret = self._call(self.sdk.webhooks.default.secret)
        return CallbackSigning("replicate", secret=str(secret.key or ""))

    # -- the operations ----------------------------------------------------------------------------

    def submit(self, request: JobRequest, *, source_remote_id: str | None = None) -> RemoteVideo:
        spec = self._spec_to_generate(request)
        check_request_shape(spec, has_image=bool(request.reference_path), label=self.label)
        terms = self._create_terms(spec, request)
        names = spec.options
        model_input: dict[str, Any] = {"prompt": request.prompt}
        if names.get("ratio"):
            model_input[names["ratio"]] = terms.ratio
        if names.get("seconds"):
            model_input[names["seconds"]] = terms.seconds
        if names.get("resolution") and terms.resolution:
            model_input[names["resolution"]] = terms.resolution
        if request.reference_path:
            model_input[names["image"]] = "data:"  # checked against the schema first, uploaded only then
        if request.reference_images:  # a model with subject references names its list input (Kling's)
            model_input[names["references"]] = ["data:"] * len(request.reference_images)
        if request.seed is not None:
            model_input["seed"] = request.seed
        model_input.update(terms.audio)
        self._check_published(spec.id, model_input)
        if request.reference_path:
            model_input[names["image"]] = self._image_input(request.reference_path)
        if request.reference_images:
            model_input[names["references"]] = [self._image_input(path) for path in request.reference_images]
        callback: dict[str, Any] = {}
        if url := self.webhook_url():
            callback = {"webhook": url, "webhook_events_filter": ["completed"]}
        prediction = self._call(self.sdk.predictions.create, model=spec.id, input=model_input, **callback)
        return self._remote(prediction.dict(), size=request.size, seconds=request.seconds)

    def _upload(self, data: bytes, kind: str, name: str) -> str:
        """Replicate's files API through the SDK (`files.create`, `POST /v1/files`): the file's `urls.get`."""
        uploaded = self._call(self.sdk.files.create, io.BytesIO(data), filename=name, content_type=kind)
        url = (uploaded.urls or {}).get("get")
        if not url:
            raise APIError(f"{self.label} took the upload of {name} but gave no URL for it.")
        return str(url)

    def refresh(self, remote_id: str) -> RemoteVideo:
        try:
            prediction = self._call(self.sdk.predictions.get, remote_id)
        except pydantic_v1.ValidationError:
            # 1.0.7's model rejects status words it does not know (`aborted`: the deadline passed before
            # the prediction started). Read the same answer as plain JSON through the SDK's client.
            data = self._call(self.sdk._request, "GET", f"/v1/predictions/{remote_id}").json()
            return self._remote(data)
        found = prediction.progress
        return self._remote(prediction.dict(), progress=round(found.percentage * 100) if found else None)

    def download(
        self, remote_id: str, variant: str, dest: str | os.PathLike[str], on_progress: ProgressCallback | None = None
    ) -> FileRecord:
        self._only_video(variant)
        output = self._call(self.sdk.predictions.get, remote_id).output
        url = output[0] if isinstance(output, list) and output else output
        if not isinstance(url, str):
            raise NotSupported(f"{self.label} prediction {remote_id} has no video URL in its output.")
        return download_url(url, dest, on_progress=on_progress)

    def delete(self, remote_id: str) -> None:
        """Cancel the prediction (Replicate deletes finished outputs itself after an hour).

        An `aborted` prediction's answer cannot be parsed by the SDK; the cancel was answered all the same.
        """
        try:
            self._call(self.sdk.predictions.cancel, remote_id)
        except pydantic_v1.ValidationError:
            return

    def _remote(
        self, data: dict[str, Any], *, size: str | None = None, seconds: int | None = None, progress: int | None = None
    ) -> RemoteVideo:
        status = _STATUS.get(str(data.get("status")), JobStatus.IN_PROGRESS)
        error = None
        if data.get("status") == "aborted":
            error = JobError("Replicate aborted the prediction before it started (its deadline passed).", "aborted")
        elif data.get("status") == "canceled":
            error = JobError("The prediction was cancelled at Replicate.", "canceled")
        elif status is JobStatus.FAILED:
            error = JobError(str(data.get("error") or "Replicate says the prediction failed"), str(data.get("status")))
        return RemoteVideo(
            str(data["id"]),
            status,
            progress=100 if status is JobStatus.COMPLETED else max(0, min(100, progress or 0)),
            error=error,
            model=data.get("model") or None,
            size=size,
            seconds=seconds,
            raw={k: v for k, v in data.items() if k != "input"},
        )

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ReplicateError as exc:
            raise http_error(exc.status or 500, str(exc.detail or exc.title or exc), code=exc.type,
                             body={"title": exc.title, "detail": exc.detail},
                             headers=_throttle_headers(exc)) from exc
        except httpx.HTTPError as exc:
            raise transport_error(exc) from exc


_THROTTLED = re.compile(r"available in (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)


def _throttle_headers(exc: ReplicateError) -> dict[str, str]:
    """A `Retry-After` read from Replicate's throttle sentence (its 429 problem detail), when it has one."""
    found = _THROTTLED.search(str(exc.detail or "")) if exc.status == 429 else None
    return {"retry-after": found.group(1)} if found else {}
