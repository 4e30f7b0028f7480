"""Google Veo through its official SDK, `google-genai` 3.3.0, in Vertex mode.

In 3.3.0 `generate_videos` works only with a Vertex client (`Client(vertexai=True, ...)`): with an API
key that is Vertex "express mode", or with a project, location and credentials (ADC). The Gemini
Developer API client refuses to create videos. So this provider always builds a Vertex client.

Veo's long-running operation: `POST .../models/{m}:predictLongRunning` answers an operation `{name}`;
`POST .../models/{m}:fetchPredictOperation {"operationName"}` answers `{name, done, error?,
response: {videos: [{bytesBase64Encoded | gcsUri, mimeType}], raiMediaFilteredCount}}`. There is no
progress, no cancel and no delete in the SDK, and the SDK sends no retries unless asked, so a create
goes out once. A finished video comes back inline (bytes, written to the media folder at once) unless
an output bucket was set, in which case it is a `gs://` object: reading those needs a Cloud Storage
reader this app does not have, so such a job fails with a sentence saying so. Veo 3.1 extends a
finished video (the source video goes back in as bytes) by about seven seconds.
"""

from __future__ import annotations

import mimetypes
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from dailies.errors import APIError, NotSupported
from dailies.jobs import FileRecord, JobError, JobKind, JobRequest, JobStatus
from dailies.providers._vendor import (
    TRANSPORT_ERRORS,
    ModelSpec,
    capabilities_of,
    check_request_shape,
    check_seconds,
    http_error,
    key_from,
    spec_for,
    transport_error,
    vendor_size,
    write_bytes,
)
from dailies.providers.base import Capabilities, Health, ModelInfo, ModerationVerdict, ProgressCallback, RemoteVideo
from dailies.providers.catalog import GOOGLE

KIND, LABEL, KEY_VARIABLES = GOOGLE.kind, GOOGLE.label, GOOGLE.key_variables
MODELS = GOOGLE.models
"""The models this provider offers, with sizes, durations and prices (sources in `catalog.GOOGLE.note`)."""
DEFAULT_RATES = GOOGLE.default_rates

_UNSUPPORTED = {
    "remix": "Veo has no remix of a finished video.",
    "edit": "Veo's mask edits are not offered here yet.",
    "delete": "Veo's API has no cancel or delete of an operation.",
    "list": "Veo's API does not list operations.",
}


class GoogleVeoProvider:
    """Veo through `google.genai.Client(vertexai=True)`. Thread-safe (one SDK client, shared)."""

    def __init__(
        self,
        name: str = KIND,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        label: str = LABEL,
        key_lookup: Callable[[str], str | None] | None = None,
        models: Mapping[str, ModelSpec] = MODELS,
    ) -> None:
        """An API key means Vertex express mode; a `project` (with `location`, and `credentials` or ADC)
        means a Google Cloud project. `base_url` points the SDK elsewhere (tests: a local fake)."""
        self.name = name
        self.label = label
        self.models = dict(models)
        options = types.HttpOptions(base_url=base_url) if base_url else None
        if project:
            self.sdk = genai.Client(vertexai=True, project=project, location=location or "us-central1",
                                       credentials=credentials, http_options=options)
        else:
            key = api_key or key_from(KEY_VARIABLES, label, key_lookup)
            self.sdk = genai.Client(vertexai=True, api_key=key, http_options=options)

    def __repr__(self) -> str:
        return f"GoogleVeoProvider(name={self.name!r})"

    def close(self) -> None:
        self.sdk.close()

    def capabilities(self) -> Capabilities:
        return capabilities_of(self.models.values(), delete=False, unsupported=_UNSUPPORTED,
                               extend=any(spec.extend for spec in self.models.values()))

    def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(model, "google") for model in self.models]

    def moderate(self, text: str) -> ModerationVerdict | None:
        return None

    def health(self) -> Health:
        """Ask for an operation that does not exist: a 404 means Vertex answered and took the key."""
        started = time.perf_counter()
        model = next(iter(self.models))
        try:
            self._operation(f"publishers/google/models/{model}/operations/health-check")
        except APIError as exc:
            if exc.status_code != 404:
                return Health(False, f"{self.label} does not answer: {exc}")
        return Health(True, f"{self.label} answers", (time.perf_counter() - started) * 1000)

    # -- the operations ----------------------------------------------------------------------------

    def submit(self, request: JobRequest, *, source_remote_id: str | None = None) -> RemoteVideo:
        spec = spec_for(self.models, request.model, self.label)
        ratio = vendor_size(spec, request.size, self.label)
        config: dict[str, Any] = {
            "number_of_videos": 1,
            "aspect_ratio": ratio,
            "resolution": "1080p" if "1080" in request.size else "720p",
        }
        if spec.audio:
            config["generate_audio"] = True
        if request.seed is not None:
            config["seed"] = request.seed
        source = types.GenerateVideosSource(prompt=request.prompt)
        if request.kind is JobKind.EXTEND:
            if not spec.extend:
                raise NotSupported(f"{self.label} {spec.id} cannot extend a video; Veo 3.1 models can.")
            config["duration_seconds"] = check_seconds(spec, request.seconds, self.label, extend=True)
            source.video = self._source_video(request, source_remote_id)
        elif request.kind is JobKind.GENERATE:
            check_request_shape(spec, has_image=bool(request.reference_path), label=self.label)
            config["duration_seconds"] = check_seconds(spec, request.seconds, self.label)
            if request.reference_path:
                path = Path(request.reference_path)
                kind = mimetypes.guess_type(path.name)[0] or "image/png"
                source.image = types.Image(image_bytes=path.read_bytes(), mime_type=kind)
        else:
            raise NotSupported(_UNSUPPORTED.get(str(request.kind), f"Veo cannot do {request.kind}."))
        operation = self._call(self.sdk.models.generate_videos, model=spec.id, source=source,
                               config=types.GenerateVideosConfig(**config))
        return RemoteVideo(str(operation.name), JobStatus.QUEUED, model=spec.id, size=request.size,
                           seconds=request.seconds, created_at=time.time(), raw={"name": operation.name})

    def refresh(self, remote_id: str) -> RemoteVideo:
        operation = self._operation(remote_id)
        raw: dict[str, Any] = {"name": operation.name, "done": bool(operation.done)}
        if not operation.done:
            return RemoteVideo(remote_id, JobStatus.IN_PROGRESS, raw=raw)
        if operation.error:
            error = operation.error
            return RemoteVideo(remote_id, JobStatus.FAILED, raw={**raw, "error": error},
                               error=JobError(str(error.get("message") or error), str(error.get("code") or "failed")))
        videos = _videos(operation)
        if not videos:
            result = operation.result
            reasons = "; ".join((result.rai_media_filtered_reasons or []) if result else []) or "no reason given"
            return RemoteVideo(remote_id, JobStatus.FAILED, raw=raw,
                               error=JobError(f"Veo returned no video (filtered: {reasons})", "filtered"))
        video = videos[0]
        if not video.video_bytes:
            where = video.uri or "an unknown place"
            return RemoteVideo(remote_id, JobStatus.FAILED, raw={**raw, "uri": video.uri}, error=JobError(
                f"Veo stored the video at {where}; reading gs:// objects needs a Cloud Storage reader this app "
                "does not have. Leave the output bucket unset to get the video inline.", "gs_uri"))
        return RemoteVideo(remote_id, JobStatus.COMPLETED, progress=100, completed_at=time.time(), raw=raw)

    def download(
        self, remote_id: str, variant: str, dest: str | os.PathLike[str], on_progress: ProgressCallback | None = None
    ) -> FileRecord:
        if variant != "video":
            raise NotSupported(f"{self.label} serves only the video; thumbnails are made locally.")
        video = self._finished_video(remote_id)
        record = write_bytes(video.video_bytes or b"", dest, video.mime_type or "video/mp4")
        if on_progress:
            on_progress(record.size, record.size)
        return record

    def delete(self, remote_id: str) -> None:
        raise NotSupported(_UNSUPPORTED["delete"])

    def _source_video(self, request: JobRequest, source_remote_id: str | None) -> types.Video:
        """What an extension continues: a finished Veo job's video, or an uploaded file."""
        if source_remote_id:
            video = self._finished_video(source_remote_id)
            return types.Video(video_bytes=video.video_bytes, mime_type=video.mime_type or "video/mp4")
        if request.reference_path:
            return types.Video(video_bytes=Path(request.reference_path).read_bytes(), mime_type="video/mp4")
        raise NotSupported("an extension needs a source video: a finished Veo job or an uploaded file")

    def _finished_video(self, remote_id: str) -> types.Video:
        videos = _videos(self._operation(remote_id))
        if not videos or not videos[0].video_bytes:
            raise NotSupported(f"{self.label} operation {remote_id} has no inline video to read.")
        return videos[0]

    def _operation(self, remote_id: str) -> types.GenerateVideosOperation:
        return self._call(self.sdk.operations.get, types.GenerateVideosOperation(name=remote_id))

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except genai_errors.APIError as exc:
            raise http_error(int(exc.code or 500), str(exc.message or exc), code=exc.status, body=exc.details) from exc
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc) from exc


def _videos(operation: types.GenerateVideosOperation) -> list[types.Video]:
    result = operation.result or operation.response
    return [g.video for g in (result.generated_videos or []) if g.video] if result else []
