"""Google Veo through its official SDK, `google-genai` 3.3.0, on Vertex AI in a Google Cloud project.

Which mode makes a video (read from the installed SDK, `.venv/.../google/genai/`):

- A project and location, with a service-account key file or Application Default Credentials: the
  documented Veo path, and the only one this provider builds (`Client(enterprise=True, project=,
  location=, credentials=)`; `vertexai=` is the SDK's legacy name for `enterprise=`).
- The Gemini Developer API (an AI Studio key): refused by the SDK itself. Its README says "Currently,
  only Gemini Enterprise Agent Platform supports video generation", and `Models._generate_videos`
  raises `ValueError` in Gemini Developer API mode.
- Vertex express mode (an API key, no project): its REST reference lists only countTokens,
  generateContent and streamGenerateContent, and a Veo call that way has been reported to answer 400
  (googleapis/java-genai#570). Refused here with a sentence saying what to configure.

Veo's long-running operation: `POST v1beta1/projects/{p}/locations/{l}/publishers/google/models/{m}:
predictLongRunning` answers an operation `{name}` (the full `projects/...` resource); `POST
v1beta1/{name before /operations/}:fetchPredictOperation {"operationName"}` answers `{name, done,
error?, response: {videos: [{bytesBase64Encoded | gcsUri, mimeType}], raiMediaFilteredCount}}`. There is
no progress, cancel or delete, and the SDK sends no retries unless asked, so a create goes out once.

Quota: Veo allows 10 requests a minute per project (Veo 3.1 model page, "Maximum API requests per minute
per project: 10"). Creates are paced here (`RequestsPerMinute`), counted by every process on the data
folder together (a file-locked count under `DAILIES_HOME/quotas/`): the eleventh in a minute is refused
before sending, as a `RateLimitError` with `retry_after`. Vertex's own 429 RESOURCE_EXHAUSTED becomes
the same error: "not made, send later", never a failed or lost take. Vertex's 429 may carry no
Retry-After header (not documented either way): then the wait is read from a `google.rpc.RetryInfo`
detail if there is one, else it is the rest of the minute window.

Sound is the take's choice: `generate_audio` is sent on or off with every create (priced so: Veo 3.1 costs
half without sound). Subject references (Veo 3.1: up to 3 "asset" images, `reference_images` in the config)
go inline, fitted under `REFERENCE_LIMIT`.

A finished video comes back inline (bytes, written to the media folder at once). A `gs://` result (an
output bucket set at Google) needs a Cloud Storage reader this app does not have, so such a job fails
with a sentence saying so. Extension (Veo 3.1, +7 s, 720p): Vertex takes the source video only from
Cloud Storage ("Input video must be in GCS", the SDK's README), so an extension goes out only with a
`gs://` source: the studio gives one when the take is in the team's bucket on Google Cloud Storage
(`Capabilities.extend_source == "cloud_storage"`); otherwise it is refused before anything is sent.
"""

from __future__ import annotations

import collections
import json
import mimetypes
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from dailies.errors import (
    APIError,
    AuthenticationError,
    NotSupported,
    RateLimitError,
    ValidationError,
    retry_after_seconds,
)
from dailies.files import write_bytes
from dailies.jobs import FileRecord, JobError, JobKind, JobRequest, JobStatus
from dailies.providers._vendor import (
    TRANSPORT_ERRORS,
    ImageLimit,
    ModelSpec,
    audio_choice,
    check_request_shape,
    check_seconds,
    check_subject_references,
    fitted_image,
    http_error,
    transport_error,
    vendor_size,
)
from dailies.providers.base import Health, ProgressCallback, RemoteVideo, WebhookLookup
from dailies.providers.catalog import GOOGLE, GOOGLE_RETIRED
from dailies.providers.registry import google_problem, setup_of
from dailies.providers.vendor_base import KeyLookup, VendorProvider, setting, text_setting
from dailies.store.filelock import FileLock

DEFAULT_LOCATION = "us-central1"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
REQUESTS_PER_MINUTE = 10
"""Veo's published limit per project (Veo 3.1 model page on Vertex AI)."""
REFERENCE_LIMIT = ImageLimit(
    10_000_000, "kept under 10 MB each inline: Vertex's request limit for Veo images is not published where we "
    "could read it (unverified)")

EXPRESS_MODE_REFUSED = (
    "Google Veo does not make videos with an API key alone: google-genai 3.3.0 creates videos only on Vertex AI "
    "in a Google Cloud project (an AI Studio key is refused by the SDK, and Vertex express mode serves only "
    "generateContent and countTokens). Define the provider with project (and location, credentials_file) in "
    "[providers.<name>] of .streamlit/secrets.toml, then restart the app."
)
EXTEND_NEEDS_CLOUD_STORAGE = (
    "Veo on Vertex AI extends only a video in Cloud Storage (a gs:// URI), and this take is not in one. Point the "
    "team's bucket (Settings → Bucket) at Google Cloud Storage (endpoint https://storage.googleapis.com, with HMAC "
    "keys), let the take be copied there, then extend it. Nothing was sent."
)

@dataclass
class RequestsPerMinute:
    """Creates allowed per sliding minute (Veo's per-project quota), counted here so the eleventh waits
    at home rather than spending a request on a 429. Thread-safe.

    With a `path`, the count is shared by every process on the data folder (the app, a second app, the
    CLI, a batch): the times of the last minute's creates live in that small JSON file, read and rewritten
    under an exclusive file lock (`dailies.store.filelock`), so together they stay under the project's limit.
    The clock is then the wall clock, the one all processes share. Without a path the count is this
    process's own. `clock` is injectable for tests."""

    limit: int = REQUESTS_PER_MINUTE
    window_s: float = 60.0
    clock: Callable[[], float] = time.time
    path: Path | None = None
    _sent: collections.deque[float] = field(default_factory=collections.deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> float | None:
        """Count one create now and return None, or return the seconds until one may go (nothing counted)."""
        with self._lock:
            if self.path is None:
                return self._take(self._sent)
            with FileLock(self.path.with_name(self.path.name + ".lock")).hold():
                sent = collections.deque(sorted(_read_times(self.path)))
                wait = self._take(sent)
                if wait is None:
                    _write_times(self.path, list(sent))
                return wait

    def _take(self, sent: collections.deque[float]) -> float | None:
        now = self.clock()
        while sent and now - sent[0] >= self.window_s:
            sent.popleft()
        if len(sent) >= self.limit:
            return max(self.window_s - (now - sent[0]), 0.0)
        sent.append(now)
        return None


def _read_times(path: Path) -> list[float]:
    """The create times kept in `path` (none when it is missing or unreadable: a damaged count starts over)."""
    try:
        times = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [float(t) for t in times if isinstance(t, int | float)] if isinstance(times, list) else []


def _write_times(path: Path, times: list[float]) -> None:
    write_bytes(path, json.dumps(times).encode(), content_type="application/json")


_QUOTAS: dict[tuple[str, str], RequestsPerMinute] = {}
_QUOTAS_LOCK = threading.Lock()


def data_folder() -> Path:
    """The data folder processes share (`DAILIES_HOME`, as `dailies.config.Environment` reads it)."""
    return Path(os.environ.get("DAILIES_HOME") or ".dailies").expanduser().resolve()


def project_quota(project: str, folder: str | os.PathLike[str] | None = None) -> RequestsPerMinute:
    """The one counter for a project on a data folder: Veo's limit is per project, so two providers defined
    on the same project (or one rebuilt after a Settings change), in this process or another on the same
    folder, share it (`<folder>/quotas/veo-<project>.json`)."""
    where = Path(folder).expanduser().resolve() if folder else data_folder()
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", project)
    with _QUOTAS_LOCK:
        return _QUOTAS.setdefault((project, str(where)),
                                  RequestsPerMinute(path=where / "quotas" / f"veo-{safe}.json"))


def load_credentials(path: str | os.PathLike[str]) -> Any:
    """A service-account JSON key file as google-auth credentials for Vertex (cloud-platform scope).

    The token exchange goes to the file's own `token_uri`; a missing or unreadable file is a refusal
    naming the path, before anything is sent."""
    from google.oauth2 import service_account

    try:
        return service_account.Credentials.from_service_account_file(str(path), scopes=list(SCOPES))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"Google Veo cannot read its service-account key file {path}: {exc}",
                              field="credentials_file") from exc


class GoogleVeoProvider(VendorProvider):
    """Veo through `google.genai.Client(enterprise=True, project=..., location=...)`. Thread-safe (one SDK
    client and one quota counter, shared)."""

    catalog = GOOGLE

    def __init__(
        self,
        name: str = GOOGLE.kind,
        *,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        credentials_file: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        label: str = GOOGLE.label,
        models: Mapping[str, ModelSpec] = GOOGLE.models,
        quota: RequestsPerMinute | None = None,
        quota_folder: str | os.PathLike[str] | None = None,
    ) -> None:
        """`project` (and `location`, default us-central1) names the Google Cloud project; `credentials`
        (google-auth) or `credentials_file` (a service-account JSON key) authenticate, else Application
        Default Credentials. `api_key` alone (express mode) is refused with `EXPRESS_MODE_REFUSED`.
        `base_url` points the SDK elsewhere (tests: a local fake). `quota_folder` is the data folder whose
        processes share the project's requests-a-minute count (default `DAILIES_HOME`)."""
        if not project:
            raise NotSupported(EXPRESS_MODE_REFUSED if api_key else
                               "Google Veo needs a Google Cloud project: " + EXPRESS_MODE_REFUSED.split(". ", 1)[1])
        super().__init__(name, label=label, models=models, base_url=base_url)
        self.project = project
        self.location = location or DEFAULT_LOCATION
        self.quota = quota or project_quota(project, quota_folder)
        if credentials is None and credentials_file:
            credentials = load_credentials(credentials_file)
        options = types.HttpOptions(base_url=base_url) if base_url else None
        self.sdk = genai.Client(enterprise=True, project=project, location=self.location, credentials=credentials,
                                http_options=options)

    @classmethod
    def from_settings(cls, name: str, settings: Any, key_lookup: KeyLookup, *,
                      webhook_url: WebhookLookup | None = None,
                      transport: httpx.BaseTransport | None = None) -> GoogleVeoProvider:
        """A Veo provider in the Google Cloud project its definition names: no key, the project's credentials."""
        if variable := text_setting(settings, "key_from"):
            raise ValidationError(f"A Google Veo provider authenticates with Google Cloud credentials, not {variable}: "
                                  "remove key_from from its definition.", field="key_from")
        if why := google_problem(name, settings, key_lookup):
            raise ValidationError(why, field="project")
        if transport is not None:
            raise NotSupported("A Google Veo provider is reached through google-genai, not an httpx transport: "
                               "point its base_url at a local fake instead.")
        setup = setup_of(settings)
        return cls(name, project=setup["project"], location=setup.get("location"),
                   credentials_file=setup.get("credentials_file"), base_url=text_setting(settings, "base_url") or None,
                   label=str(setting(settings, "label") or GOOGLE.label),
                   quota_folder=key_lookup("DAILIES_HOME") or None)  # shared by the folder's processes

    def __repr__(self) -> str:
        return f"GoogleVeoProvider(name={self.name!r}, project={self.project!r}, location={self.location!r})"

    def health(self) -> Health:
        """Ask for an operation that does not exist, by its full `projects/...` name: a 404 means Vertex
        answered and took the credentials."""
        started = time.perf_counter()
        model = next(iter(self.models))
        try:
            self._operation(f"projects/{self.project}/locations/{self.location}/publishers/google/models/{model}"
                            "/operations/health-check")
        except APIError as exc:
            if exc.status_code != 404:
                return Health(False, f"{self.label} does not answer: {exc}")
        return Health(True, f"{self.label} answers", (time.perf_counter() - started) * 1000)

    # -- the operations ----------------------------------------------------------------------------

    def submit(self, request: JobRequest, *, source_remote_id: str | None = None) -> RemoteVideo:
        if request.model in GOOGLE_RETIRED:
            raise NotSupported(f"{request.model} was retired by Google on {GOOGLE_RETIRED[request.model]}; choose "
                               f"one of: {', '.join(self.models)}.")
        spec = self.models.get(request.model)
        if spec is None:
            raise NotSupported(f"{self.label} has no model {request.model!r} here; choose one of: "
                               f"{', '.join(self.models)}.")
        source, config = self._request_body(spec, request, source_remote_id)
        wait = self.quota.take()
        if wait is not None:
            raise RateLimitError(
                f"Veo allows {self.quota.limit} requests a minute per project; this one waits here, unsent, "
                f"for about {wait:.0f} s.", status_code=429, code="quota_per_minute",
                headers={"retry-after": f"{wait:.3f}"})
        operation = self._call(self.sdk.models.generate_videos, model=spec.id, source=source,
                               config=types.GenerateVideosConfig(**config))
        return RemoteVideo(str(operation.name), JobStatus.QUEUED, model=spec.id, size=request.size,
                           seconds=request.seconds, created_at=time.time(), raw={"name": operation.name})

    def _request_body(
        self, spec: ModelSpec, request: JobRequest, source_remote_id: str | None
    ) -> tuple[types.GenerateVideosSource, dict[str, Any]]:
        """What goes to Veo for this request, or a refusal before anything is sent."""
        ratio = vendor_size(spec, request.size, self.label)
        resolution = "1080p" if "1080" in request.size else "720p"
        config: dict[str, Any] = {"number_of_videos": 1, "aspect_ratio": ratio, "resolution": resolution}
        config.update(audio_choice(spec, request.audio, self.label))  # as chosen and priced, on or off
        if request.seed is not None:
            config["seed"] = request.seed
        source = types.GenerateVideosSource(prompt=request.prompt)
        if request.kind is JobKind.EXTEND:
            if not spec.extend:
                raise NotSupported(f"{self.label} {spec.id} cannot extend a video.")
            config["duration_seconds"] = check_seconds(spec, request.seconds, self.label, extend=True)
            if resolution != "720p":
                raise NotSupported(f"{self.label} extends videos at 720p only, not {request.size}.")
            source.video = self._source_video(request, source_remote_id)
        elif request.kind is JobKind.GENERATE:
            check_request_shape(spec, has_image=bool(request.reference_path), label=self.label)
            config["duration_seconds"] = check_seconds(spec, request.seconds, self.label)
            if request.reference_path:
                path = Path(request.reference_path)
                kind = mimetypes.guess_type(path.name)[0] or "image/png"
                source.image = types.Image(image_bytes=path.read_bytes(), mime_type=kind)
            if request.reference_images:
                config["reference_images"] = self._subject_references(spec, request)
        else:
            raise NotSupported(GOOGLE.unsupported.get(str(request.kind), f"Veo cannot do {request.kind}."))
        return source, config

    def _subject_references(self, spec: ModelSpec, request: JobRequest) -> list[types.VideoGenerationReferenceImage]:
        """Veo 3.1's "asset" reference images (a subject, a product, a character to keep), up to the model's
        limit, each fitted under `REFERENCE_LIMIT`. The SDK's `GenerateVideosConfig.reference_images`
        docstring: the prompt is required, and "the image, video, or last_frame field are not supported"
        with them, so an opening frame and references together are refused before anything is sent."""
        check_subject_references(spec, request.reference_images, self.label)
        if request.reference_path:
            raise NotSupported(f"{self.label} {spec.id} takes subject reference images or an opening frame, not both "
                               "(Veo refuses an image with reference images): take one of them off.")
        references = []
        for path in request.reference_images:
            data, kind = fitted_image(path, REFERENCE_LIMIT, self.label)
            references.append(types.VideoGenerationReferenceImage(
                image=types.Image(image_bytes=data, mime_type=kind), reference_type="asset"))
        return references

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
        self._only_video(variant)
        video = self._finished_video(remote_id)
        record = write_bytes(dest, video.video_bytes or b"", content_type=video.mime_type or "video/mp4")
        if on_progress:
            on_progress(record.size, record.size)
        return record

    def delete(self, remote_id: str) -> None:
        raise NotSupported(GOOGLE.unsupported["delete"])

    def _source_video(self, request: JobRequest, source_remote_id: str | None) -> types.Video:
        """What an extension continues: a video in Cloud Storage (`gs://`), which is all Vertex takes.

        A finished Veo job's own output counts when Google stored it in a bucket; a local file does not."""
        if request.reference_path and request.reference_path.startswith("gs://"):
            return types.Video(uri=request.reference_path, mime_type="video/mp4")
        if source_remote_id:
            videos = _videos(self._operation(source_remote_id))
            if videos and videos[0].uri and videos[0].uri.startswith("gs://"):
                return types.Video(uri=videos[0].uri, mime_type=videos[0].mime_type or "video/mp4")
        raise NotSupported(EXTEND_NEEDS_CLOUD_STORAGE)

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
            raise _api_error(exc) from exc
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc) from exc
        except _AUTH_ERRORS as exc:  # before sending: no token, so nothing went to Vertex
            raise AuthenticationError(f"{self.label} could not get a Google Cloud access token: {exc}",
                                      code="token_refused") from exc


try:  # google-auth's failures while refreshing a token (a bad key file, a refused exchange, no ADC)
    from google.auth import exceptions as _auth_exceptions

    _AUTH_ERRORS: tuple[type[BaseException], ...] = (_auth_exceptions.GoogleAuthError,)
except ImportError:  # pragma: no cover - google-auth comes with google-genai
    _AUTH_ERRORS = ()


def _api_error(exc: genai_errors.APIError) -> APIError:
    """The SDK's error (a `google.rpc.Status` body) as ours; a 429 carries how long to wait."""
    status = int(exc.code or 500)
    headers = dict(getattr(exc.response, "headers", None) or {})
    if status == 429:
        wait = _retry_after(headers, exc.details)
        headers = {**headers, "retry-after": f"{wait:.3f}"}
    return http_error(status, str(exc.message or exc), code=exc.status, body=exc.details, headers=headers)


def _retry_after(headers: Mapping[str, str], body: Any) -> float:
    """Seconds to wait after a 429: Retry-After, else a `google.rpc.RetryInfo` `retryDelay` ("12s"), else the
    rest of Veo's per-minute window (Vertex does not document which of these it sends)."""
    hinted = retry_after_seconds(headers)
    if hinted is not None:
        return hinted
    details = ((body or {}).get("error") or {}).get("details") if isinstance(body, dict) else None
    for detail in details or ():
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(float(delay[:-1]), 0.0)
            except ValueError:
                continue
    return 60.0


def _videos(operation: types.GenerateVideosOperation) -> list[types.Video]:
    result = operation.result or operation.response
    return [g.video for g in (result.generated_videos or []) if g.video] if result else []
