"""Runway through its official SDK, `runwayml` 5.24.0.

Runway's tasks: `POST /v1/text_to_video` or `/v1/image_to_video` answers `{id}`; `GET /v1/tasks/{id}`
says PENDING/THROTTLED (queued), RUNNING (with `progress`), SUCCEEDED (`output: [url]`, signed,
expiring in a day or two), FAILED (`failure`) or CANCELLED; `DELETE /v1/tasks/{id}` cancels a running
task and deletes a finished one. There is no list of tasks and no extension, remix or edit here.

The SDK retries any request, POSTs included, on 408/409/429/5xx without an idempotency key, so a
create would be sent twice when its answer is lost. Creates therefore go out with `max_retries=0`
(`with_options`); a lost answer is reported as an error the studio treats as "may have arrived".

Subject references: a model whose `subject_references` is above 0 is sent `references: [{uri}]` (the SDK's
create types: Seedance 2 and Hailuo 3 take up to 9 on text_to_video, Kling O3 up to 7 on image_to_video),
each inline or uploaded as an opening frame is. No catalogue model takes them yet.

THROTTLED is Runway's own queue (the task exists and will start when a concurrency slot frees:
https://docs.dev.runwayml.com/usage/tiers/): it is tracked as queued, never resent. A 429 on a create
(too many at once, or the tier's daily cap) is our `RateLimitError`, with `Retry-After` when Runway
sends one, so the studio can hold the take and send it later; nothing was created.

Reference images go inline as data URIs when they are under Runway's 5 MB cap for data URIs as they are
(the SDK's `prompt_image` docstring, runwayml 5.24.0 types/image_to_video_create_params.py), else through
Runway's own ephemeral upload (`uploads.create_ephemeral`) as a `runway://` URI; one that cannot fit
`UPLOAD_LIMIT` even shrunk is refused before anything is sent. Veo 3.1 is sent `audio` as the take chose it.
"""

from __future__ import annotations

import os
import time
from typing import Any

import runwayml

from dailies.errors import APIError, NotSupported
from dailies.jobs import FileRecord, JobError, JobRequest, JobStatus
from dailies.providers._vendor import ImageLimit, check_request_shape, download_url, http_error, transport_error
from dailies.providers.base import Health, ProgressCallback, RemoteVideo
from dailies.providers.catalog import RUNWAY
from dailies.providers.vendor_base import KeyedVendorProvider

IMAGE_LIMIT = ImageLimit(5_000_000, "Runway's cap for data URIs, runwayml 5.24.0 image_to_video_create_params")
UPLOAD_LIMIT = ImageLimit(
    16_000_000, "kept under 16 MB uploaded: Runway's cap for image URLs as its input docs were last read "
    "(https://docs.dev.runwayml.com/assets/inputs, unverified here)", max_side=4096,
)

_STATUS = {
    "PENDING": JobStatus.QUEUED,
    "THROTTLED": JobStatus.QUEUED,
    "RUNNING": JobStatus.IN_PROGRESS,
    "SUCCEEDED": JobStatus.COMPLETED,
    "FAILED": JobStatus.FAILED,
    "CANCELLED": JobStatus.FAILED,
}


class RunwayProvider(KeyedVendorProvider):
    """Runway's task API through `runwayml.RunwayML`. Thread-safe (one SDK client, shared)."""

    catalog = RUNWAY
    image_limit = IMAGE_LIMIT
    upload_limit = UPLOAD_LIMIT

    def _connect(self, key: str) -> runwayml.RunwayML:
        return runwayml.RunwayML(api_key=key, base_url=self.base_url or None)

    def health(self) -> Health:
        """Runway has no free read besides an organisation query; ask for it, with no retries."""
        started = time.perf_counter()
        try:
            self.sdk.with_options(max_retries=0, timeout=5.0).organization.retrieve()
        except (runwayml.APIError, APIError) as exc:
            return Health(False, f"{self.label} does not answer: {_ours(exc)}")
        return Health(True, f"{self.label} answers", (time.perf_counter() - started) * 1000)

    # -- the operations ----------------------------------------------------------------------------

    def submit(self, request: JobRequest, *, source_remote_id: str | None = None) -> RemoteVideo:
        spec = self._spec_to_generate(request)
        check_request_shape(spec, has_image=bool(request.reference_path), label=self.label)
        terms = self._create_terms(spec, request)
        args: dict[str, Any] = {"model": spec.id, "ratio": terms.ratio, "duration": terms.seconds,
                                "prompt_text": request.prompt}
        args.update(terms.audio)  # as chosen and priced, never Runway's default
        if request.seed is not None:
            args["seed"] = request.seed
        once = self.sdk.with_options(max_retries=0)  # a create is never sent twice
        try:
            if request.reference_images:  # Seedance 2 / Hailuo 3 / Kling O3: `references: [{uri}]`
                args["references"] = [{"uri": self._image_input(path)} for path in request.reference_images]
            if request.reference_path:
                image = self._image_input(request.reference_path)
                created = once.image_to_video.create(prompt_image=image, **args)
            else:
                created = once.text_to_video.create(**args)
        except runwayml.APIError as exc:
            raise _ours(exc) from exc
        return RemoteVideo(
            str(created.id), JobStatus.QUEUED, model=spec.id, size=request.size, seconds=request.seconds,
            created_at=time.time(), raw=created.to_dict(),
        )

    def _upload(self, data: bytes, kind: str, name: str) -> str:
        """The SDK's `uploads.create_ephemeral` (`POST /v1/uploads`, then a form POST to the storage URL Runway
        names): the `runway://` URI a create may name."""
        return str(self.sdk.uploads.create_ephemeral(file=(name, data, kind)).uri)

    def refresh(self, remote_id: str) -> RemoteVideo:
        task = self._task(remote_id)
        status = _STATUS.get(str(task.get("status")), JobStatus.IN_PROGRESS)
        error = None
        if str(task.get("status")) == "FAILED":
            error = JobError(str(task.get("failure") or "Runway says the task failed"), task.get("failureCode"))
        elif str(task.get("status")) == "CANCELLED":
            error = JobError("The task was cancelled at Runway.", "cancelled")
        progress = task.get("progress")
        return RemoteVideo(
            remote_id,
            status,
            progress=100 if status is JobStatus.COMPLETED else _percent(progress),
            error=error,
            raw=task,
        )

    def download(
        self, remote_id: str, variant: str, dest: str | os.PathLike[str], on_progress: ProgressCallback | None = None
    ) -> FileRecord:
        self._only_video(variant)
        # The output URLs expire: fetch the task again for fresh ones, as Runway advises.
        output = self._task(remote_id).get("output") or []
        if not output:
            raise NotSupported(f"{self.label} task {remote_id} has no output to download yet.")
        return download_url(str(output[0]), dest, on_progress=on_progress)

    def delete(self, remote_id: str) -> None:
        """Cancel a running task, or delete a finished one, at Runway (`DELETE /v1/tasks/{id}`)."""
        try:
            self.sdk.tasks.delete(remote_id)
        except runwayml.APIError as exc:
            raise _ours(exc) from exc

    def _task(self, remote_id: str) -> dict[str, Any]:
        try:
            return self.sdk.tasks.retrieve(remote_id).to_dict()
        except runwayml.APIError as exc:
            raise _ours(exc) from exc


def _percent(progress: Any) -> int:
    """Runway's `progress` is a fraction (0-1); a value above 1 is read as a percentage."""
    try:
        value = float(progress)
    except (TypeError, ValueError):
        return 0
    return max(0, min(100, int(value * 100 if value <= 1 else value)))


def _ours(exc: BaseException) -> APIError:
    """A `runwayml` error as ours: status errors by status, connection loss as "may have arrived"."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, runwayml.APIStatusError):
        said = exc.body.get("error") if isinstance(exc.body, dict) else None
        issues = exc.body.get("issues") if isinstance(exc.body, dict) else None
        if isinstance(issues, list) and issues:  # a refused input: say which (Runway's `issues` list)
            said = f"{said or 'refused'}: " + "; ".join(
                f"{'.'.join(map(str, i.get('path') or ()))}: {i.get('message')}" if isinstance(i, dict) else str(i)
                for i in issues
            )
        return http_error(exc.status_code, str(said or exc.message), body=exc.body, headers=exc.response.headers)
    if isinstance(exc, runwayml.APIConnectionError):
        cause = exc.__cause__ or exc
        return transport_error(cause)
    return APIError(str(exc))
