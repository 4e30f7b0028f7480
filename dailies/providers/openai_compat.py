"""Any server that speaks the OpenAI Videos API: the embedded engine, a LiteLLM proxy, a vendor clone.

Gateways route this API to other vendors with their own habits (status words like `processing`,
extra fields, model lists full of chat models), so everything read here is read leniently: unknown
fields are kept, unknown status words keep a job running, and only video-looking models are offered.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from dailies.client import RetryPolicy, VideosClient, upload_from_path
from dailies.errors import APIError, BadRequestError, NotSupported, plain_reason
from dailies.jobs import FileRecord, JobError, JobKind, JobRequest, status_from_provider
from dailies.providers.base import (
    LOCAL_PREVIEW_OWNER,
    CallbackSigning,
    Capabilities,
    Health,
    ModelInfo,
    ModerationVerdict,
    ProgressCallback,
    RemoteVideo,
)
from dailies.videos_spec import MODELS, sizes_for

_VIDEO_MODEL = re.compile(
    r"sora|veo|video|preview|gen-?[34]|runway|kling|luma|ray-?\d|hunyuan|wan-?\d|ltx|pika|seedance|hailuo",
    re.IGNORECASE,
)


def looks_like_video_model(model_id: str) -> bool:
    return bool(_VIDEO_MODEL.search(model_id))


PAGE_TIMEOUT_S = 4.0
"""What a page waits for the provider's model list or health: a slow server is reported, not waited on."""

@dataclass(frozen=True)
class OpenAICompatibleConfig:
    name: str
    base_url: str
    label: str = ""
    api_key: str | None = None
    moderation: bool = False
    """Ask the server's `/moderations` before each submit (OpenAI offers it; the engine does not)."""
    models: tuple[str, ...] = ()
    """Models to offer when the server's list has none that look like video models."""
    timeout_s: float = 60.0
    max_retries: int = 3

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleConfig(name={self.name!r}, base_url={self.base_url!r})"


class OpenAICompatibleProvider:
    """A provider for any base URL speaking the OpenAI Videos API. Thread-safe (one shared client)."""

    def __init__(self, config: OpenAICompatibleConfig, *, transport: httpx.BaseTransport | None = None) -> None:
        """`transport`: what the client sends through (`httpx.MockTransport` in a test, a counting one in a
        bench); by default httpx's own."""
        self.config = config
        self.name = config.name
        self.label = config.label or config.name
        self.client = VideosClient(
            config.base_url,
            config.api_key,
            timeout=config.timeout_s,
            retry=RetryPolicy(max_retries=config.max_retries),
            transport=transport,
        )
        self._models: tuple[str, ...] | None = None
        self._models_at = 0.0
        self._models_listed = False
        self._preview_models: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._refused: dict[str, str] = {}
        """Operations the server turned away as unsupported, with its words: learned once, never looped on."""
        self._variants: tuple[str, ...] = ("video", "thumbnail", "spritesheet")

    def __repr__(self) -> str:
        return f"OpenAICompatibleProvider(name={self.name!r}, base_url={self.config.base_url!r})"

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def closer(self) -> Callable[[], None]:
        return self.client.close

    def close(self) -> None:
        self.client.close()

    # -- what it can do ----------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        models = self._video_models()
        refused = self.refused()
        return Capabilities(
            models=models,
            models_listed=self._models_listed,
            sizes={m: sizes_for(m) for m in models},
            default_model=models[0],
            moderation=self.config.moderation,
            remix="remix" not in refused,
            extend="extend" not in refused,
            edit="edit" not in refused,
            delete="delete" not in refused,
            list_videos="list" not in refused,
            webhook_endpoints=True,
            variants=self._variants,
            unsupported=refused,
            preview_models=self._preview_models,
        )

    def refused(self) -> dict[str, str]:
        """What the server said when it turned an operation away, by operation."""
        with self._lock:
            return dict(self._refused)

    def _learn_refusal(self, operation: str, exc: APIError) -> NotSupported | None:
        """A `NotSupported` to raise instead of `exc` when `exc` says the route itself is not offered.

        A 405, or a 404 that names no video (FastAPI's bare `{"detail": "Not Found"}`), means there is
        no such route; a 400 to a list (which carries nothing of ours to be wrong) means the server
        cannot list. Either way, asking again would only get the same answer.
        """
        route_missing = exc.status_code == 405 or (exc.status_code == 404 and _bare_not_found(exc.body))
        cannot_list = operation == "list" and isinstance(exc, BadRequestError)
        if not (route_missing or cannot_list):
            return None
        offer = _OPERATION_WORDS[operation]
        said = f"{self.label} does not offer {offer} (it answered {exc.status_code}: {exc.message})"
        with self._lock:
            self._refused[operation] = said
        return NotSupported(said)

    def _check_offered(self, operation: str) -> None:
        said = self.refused().get(operation)
        if said:
            raise NotSupported(said)

    def drop_variant(self, variant: str) -> None:
        """The server answered `variant` with something else (LiteLLM sends the MP4 for every variant):
        stop asking for it; the tracker makes a thumbnail locally instead."""
        if variant == "video":
            return
        with self._lock:
            self._variants = tuple(v for v in self._variants if v != variant)

    def _video_models(self) -> tuple[str, ...]:
        """Video models the server lists, cached for a minute; the configured list when none answer."""
        fresh_for = 60 if self._models_listed else 5  # a failed listing is asked again soon
        if self._models is not None and time.monotonic() - self._models_at < fresh_for:
            return self._models
        try:
            infos = [m for m in self.list_models() if m.is_video]
        except APIError:
            infos = []
        listed = [m.id for m in infos]
        self._preview_models = tuple(m.id for m in infos if m.owned_by == LOCAL_PREVIEW_OWNER)
        models = tuple(listed) or self.config.models or MODELS
        self._models, self._models_at, self._models_listed = models, time.monotonic(), bool(listed)
        return models

    def list_models(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                id=str(m.get("id")),
                owned_by=str(m.get("owned_by") or ""),
                is_video=looks_like_video_model(str(m.get("id"))),
            )
            for m in self.client.list_models(timeout=PAGE_TIMEOUT_S, retry=False)
            if m.get("id")
        ]

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            self.client.list_models(timeout=PAGE_TIMEOUT_S, retry=False)
        except APIError as exc:
            return Health(False, f"{self.label} does not answer: {plain_reason(exc)}.")
        return Health(True, f"{self.label} answers", (time.perf_counter() - started) * 1000)

    def moderate(self, text: str) -> ModerationVerdict | None:
        if not self.config.moderation:
            return None
        result = (self.client.moderate(text).get("results") or [{}])[0]
        flagged = [name for name, hit in (result.get("categories") or {}).items() if hit]
        allowed = not result.get("flagged")
        return ModerationVerdict(
            allowed, tuple(flagged or ([] if allowed else ["flagged"])), f"{self.label} moderation"
        )

    # -- the operations ----------------------------------------------------------------------------

    def submit(self, request: JobRequest, *, source_remote_id: str | None = None) -> RemoteVideo:
        # /v1/videos has one `input_reference` and no subject references: refused unless this provider's own
        # capabilities say the model takes them (the one contract every adapter and `validate_request` read).
        if request.reference_images and not self.capabilities().subject_references(request.model):
            raise NotSupported("The OpenAI Videos API takes no subject reference images (only one opening frame); "
                               "take them off, or send to a vendor model that takes them.")
        extra = {"seed": request.seed} if request.seed is not None else None
        if request.kind is JobKind.GENERATE:
            reference = upload_from_path(request.reference_path) if request.reference_path else None
            video = self.client.create(
                prompt=request.prompt,
                model=request.model,
                size=request.size,
                seconds=request.seconds,
                input_reference=reference,
                extra=extra,
            )
        elif request.kind is JobKind.REMIX:
            video = self._offered("remix", self.client.remix, _need_source(source_remote_id, "remix"),
                                  prompt=request.prompt)
        elif request.kind is JobKind.EXTEND:
            video = self._offered("extend", self.client.extend, prompt=request.prompt, seconds=request.seconds,
                                  video=self._source(request, source_remote_id), model=request.model)
        elif request.kind is JobKind.EDIT:
            video = self._offered("edit", self.client.edit, prompt=request.prompt,
                                  video=self._source(request, source_remote_id), model=request.model)
        else:  # pragma: no cover - JobKind is closed
            raise NotSupported(f"{self.label} cannot do {request.kind}")
        return to_remote(video)

    @staticmethod
    def _source(request: JobRequest, source_remote_id: str | None) -> Any:
        if source_remote_id:
            return source_remote_id
        if request.reference_path:
            return upload_from_path(request.reference_path, "video/mp4")
        raise NotSupported(f"a {request.kind} needs a source video: a finished job or an uploaded file")

    def refresh(self, remote_id: str) -> RemoteVideo:
        polled = self.client.poll_once(remote_id)
        return to_remote(polled.video, poll_after=polled.poll_after)

    def download(
        self, remote_id: str, variant: str, dest: str | os.PathLike[str], on_progress: ProgressCallback | None = None
    ) -> FileRecord:
        return self.client.download(remote_id, variant, dest, on_progress=on_progress)

    def delete(self, remote_id: str) -> None:
        self._offered("delete", self.client.delete, remote_id)

    def list_videos(self) -> Iterator[dict[str, Any]]:
        """Every video the server lists, newest first; `NotSupported` when it lists none (LiteLLM)."""
        self._check_offered("list")
        try:
            yield from self.client.list_all(order="desc")
        except APIError as exc:
            raise (self._learn_refusal("list", exc) or exc) from exc

    # -- webhooks: our receiver registered at the server ------------------------------------------------

    def create_webhook_endpoint(self, *, url: str, name: str, event_types: list[str]) -> dict[str, Any]:
        return self.client.create_webhook_endpoint(url=url, name=name, event_types=event_types)

    def delete_webhook_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        return self.client.delete_webhook_endpoint(endpoint_id)

    def test_webhook_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        return self.client.test_webhook_endpoint(endpoint_id)

    def callback_signing(self) -> CallbackSigning:
        raise NotSupported(f"{self.label} takes no callback URL with a create: register an endpoint instead.")

    def _offered(self, operation: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Run `call` unless the server already refused `operation`; learn a refusal when it answers one."""
        self._check_offered(operation)
        try:
            return call(*args, **kwargs)
        except APIError as exc:
            refusal = self._learn_refusal(operation, exc)
            if refusal is not None:
                raise refusal from exc
            raise


_OPERATION_WORDS = {
    "list": "a list of its videos",
    "delete": "deleting videos",
    "remix": "remixes",
    "extend": "extensions",
    "edit": "edits",
}


def _bare_not_found(body: Any) -> bool:
    """FastAPI's answer for a path with no route, as opposed to the API's `{"error": ...}` for an unknown id."""
    return isinstance(body, dict) and "error" not in body and str(body.get("detail", "")).lower() == "not found"


def _need_source(remote_id: str | None, what: str) -> str:
    if not remote_id:
        raise NotSupported(f"a {what} needs a finished source job")
    return remote_id


def to_remote(video: Mapping[str, Any], *, poll_after: float | None = None) -> RemoteVideo:
    """Read a video object leniently: missing fields are None, unknown fields stay in `raw`."""
    status = status_from_provider(str(video.get("status") or ""))
    progress = video.get("progress")
    try:
        progress_value = max(0, min(100, int(float(progress)))) if progress is not None else 0
    except (TypeError, ValueError):
        progress_value = 0
    seconds = video.get("seconds")
    try:
        seconds_value = int(float(seconds)) if seconds not in (None, "") else None
    except (TypeError, ValueError):
        seconds_value = None
    error = video.get("error")
    return RemoteVideo(
        remote_id=str(video.get("id") or ""),
        status=status,
        progress=progress_value,
        error=JobError.from_dict(error if isinstance(error, dict) else ({"message": str(error)} if error else None)),
        model=video.get("model"),
        size=video.get("size"),
        seconds=seconds_value,
        created_at=_timestamp(video.get("created_at")),
        completed_at=_timestamp(video.get("completed_at")),
        expires_at=_timestamp(video.get("expires_at")),
        poll_after=poll_after,
        raw=dict(video),
    )


def _timestamp(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
