"""The provider seam: what the workbench needs from anyone who renders videos.

Kept as small as httpx's transport seam. A provider declares what it can do as plain flags
(`Capabilities`), so a page can hide an action instead of failing on it, and an operation it lacks
raises `NotSupported` with a sentence a person can read. Every optional operation (listing videos,
webhook endpoints, callbacks) is part of the interface and has its flag: callers read the flag or catch
`NotSupported`, never probe an object for attributes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from dailies.jobs import FileRecord, JobError, JobKind, JobRequest, JobStatus
from dailies.videos_spec import (
    DEFAULT_MODEL,
    DEFAULT_SECONDS,
    DEFAULT_SIZE,
    EXTEND_SECONDS,
    MAX_PROMPT_CHARS,
    SECONDS,
)

LOCAL_PREVIEW_OWNER = "dailies-local-preview"
"""The `owned_by` the embedded engine lists its models with (dailies.engine.api.OWNER)."""


@dataclass(frozen=True)
class Capabilities:
    """What a provider accepts; validation and the pages read only this."""

    models: tuple[str, ...]
    sizes: Mapping[str, tuple[str, ...]]
    """Sizes per model."""
    seconds: tuple[int, ...] = SECONDS
    extend_seconds: tuple[int, ...] = EXTEND_SECONDS
    default_model: str = DEFAULT_MODEL
    default_size: str = DEFAULT_SIZE
    default_seconds: int = DEFAULT_SECONDS
    max_prompt_chars: int = MAX_PROMPT_CHARS
    reference_image: bool = True
    remix: bool = True
    extend: bool = True
    extend_source: str = "file"
    """Where an extension's source video must be: "file" (uploaded, or the provider's own id) or
    "cloud_storage" (Veo on Vertex: only a gs:// URI, which the studio gives when the take is in a team
    bucket on Google Cloud Storage)."""
    edit: bool = True
    characters: bool = True
    moderation: bool = False
    """The provider has a moderation endpoint we can ask before submitting."""
    variants: tuple[str, ...] = ("video", "thumbnail", "spritesheet")
    """Content variants it serves; the video is required, the others are fetched when offered."""
    models_listed: bool = True
    """False when the provider did not list its video models and `models` is the configured fallback."""
    delete: bool = True
    """Videos can be deleted at the provider."""
    list_videos: bool = True
    """The provider lists its videos (how a job whose create answer was lost is found again)."""
    webhook_endpoints: bool = False
    """Our receiver is registered at the provider the OpenAI way (`/webhook_endpoints`, with a test event)."""
    callbacks: bool = False
    """Each create can carry a callback URL (fal, Replicate); `callback_signing` says how deliveries are signed."""
    unsupported: Mapping[str, str] = field(default_factory=dict)
    """What the provider said when it turned an operation away, by operation, for the pages to show."""
    seconds_by_model: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    """Durations per model where models differ (native vendors); empty means `seconds` for every model."""
    size_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per model, our size -> the vendor's word for it (`"1280x720"` -> `"16:9"`), to show the mapping."""
    image_models: tuple[str, ...] | None = None
    """Models that take a reference image; None means every model does when `reference_image` is set."""
    text_models: tuple[str, ...] | None = None
    """Models that take a text-only prompt; None means every model."""
    audio_models: tuple[str, ...] = ()
    """Models that render sound with the picture."""
    silent_models: tuple[str, ...] = ()
    """Of `audio_models`, those that can be told to stay silent (`JobRequest.audio = False`), priced so."""
    max_reference_images: int = 1
    """How many reference images a model that takes one is sent: every adapter today sends one opening frame
    (`input_reference`, a vendor's image-to-video input), so a library asset of several images sends its first.
    A vendor whose SDK takes several (Veo 3.1's reference images, Kling's elements) raises this when its
    adapter sends them."""
    reference_images_by_model: Mapping[str, int] = field(default_factory=dict)
    """Per model, how many subject references (`JobRequest.reference_images`) it takes; absent means none."""
    preview_models: tuple[str, ...] = ()
    """Models the server lists as local previews (the embedded engine's, even under Sora's names): what they
    render is a procedural preview, not the vendor's model, so wherever a person chooses one it says so."""

    def model_label(self, model: str) -> str:
        """The model's name as a person choosing it should read it: a local preview says it is one."""
        return f"{model} (local preview renderer)" if model in self.preview_models else model

    def sizes_for(self, model: str) -> tuple[str, ...]:
        return tuple(self.sizes.get(model) or ())

    def seconds_for(self, model: str) -> tuple[int, ...]:
        return tuple(self.seconds_by_model.get(model) or self.seconds)

    def takes_image(self, model: str) -> bool:
        return self.reference_image and (self.image_models is None or model in self.image_models)

    def can_be_silent(self, model: str) -> bool:
        """A take of `model` may ask for no sound: the model renders none, or can be told not to."""
        return model not in self.audio_models or model in self.silent_models

    def subject_references(self, model: str) -> int:
        """How many subject reference images (beyond an opening frame) this model is sent; 0: it takes none."""
        return int(self.reference_images_by_model.get(model, 0))

    def supports(self, kind: JobKind) -> bool:
        flags = {JobKind.GENERATE: True, JobKind.REMIX: self.remix, JobKind.EXTEND: self.extend,
                 JobKind.EDIT: self.edit}
        return flags.get(kind, False)


@dataclass(frozen=True)
class RemoteVideo:
    """A provider's answer about one video, in our words, with its own words kept in `raw`."""

    remote_id: str
    status: JobStatus
    progress: int = 0
    error: JobError | None = None
    model: str | None = None
    size: str | None = None
    seconds: int | None = None
    created_at: float | None = None
    completed_at: float | None = None
    expires_at: float | None = None
    poll_after: float | None = None
    """Seconds the server asked us to wait before asking again."""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelInfo:
    id: str
    owned_by: str = ""
    is_video: bool = True


@dataclass(frozen=True)
class ModerationVerdict:
    allowed: bool
    reasons: tuple[str, ...] = ()
    source: str = "local rules"


@dataclass(frozen=True)
class Health:
    ok: bool
    message: str
    latency_ms: float | None = None


ProgressCallback = Callable[[int, int | None], None]

WebhookLookup = Callable[[], str | None]
"""Where a vendor that takes a callback URL per request should send it now (`<public>/hooks/<name>`), or
None while no webhook is registered for that provider. Asked at every create, so registering or removing
one takes effect at the next take without rebuilding the provider."""


@dataclass(frozen=True)
class CallbackSigning:
    """How a vendor signs the callbacks it sends, and what checking them needs (kept in `webhooks.json`).

    `kind` names the scheme the receiver checks: `replicate` (Standard Webhooks, HMAC with the account's
    `secret`) or `fal` (Ed25519, with the public keys published at `keys_url`).
    """

    kind: str
    secret: str = field(default="", repr=False)
    keys_url: str = ""


@runtime_checkable
class VideoProvider(Protocol):
    """Anyone who turns a `JobRequest` into a video. Implementations must be thread-safe.

    An operation a provider lacks raises `NotSupported`, in agreement with its `Capabilities` flag
    (`list_videos`, `webhook_endpoints`, `callbacks`, `delete`...).
    """

    name: str
    label: str
    base_url: str
    """Where its requests go, for a person (and the webhook form) to read; "" on a vendor's own API."""

    def capabilities(self) -> Capabilities: ...

    def submit(self, request: JobRequest, *, source_remote_id: str | None = None) -> RemoteVideo:
        """Send a create, remix, extend or edit (by `request.kind`). Never retried after it may have
        reached the server, so a call that raises may still have created a job."""
        ...

    def refresh(self, remote_id: str) -> RemoteVideo: ...

    def download(
        self, remote_id: str, variant: str, dest: str | os.PathLike[str], on_progress: ProgressCallback | None = None
    ) -> FileRecord: ...

    def delete(self, remote_id: str) -> None: ...

    def list_models(self) -> list[ModelInfo]: ...

    def moderate(self, text: str) -> ModerationVerdict | None:
        """The provider's own verdict, or None when it offers no moderation endpoint."""
        ...

    def health(self) -> Health: ...

    def list_videos(self) -> Iterator[dict[str, Any]]:
        """Every video it holds, newest first, as the OpenAI Videos API lists them (`Capabilities.list_videos`)."""
        ...

    def drop_variant(self, variant: str) -> None:
        """Stop offering `variant` (the server answered it with something else); the video is always kept."""
        ...

    def create_webhook_endpoint(self, *, url: str, name: str, event_types: list[str]) -> dict[str, Any]:
        """Register `url` (`Capabilities.webhook_endpoints`); the answer holds its `id` and `signing_secret`."""
        ...

    def delete_webhook_endpoint(self, endpoint_id: str) -> dict[str, Any]: ...

    def test_webhook_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        """Have the provider send one sample event now; its answer says what our receiver replied."""
        ...

    def callback_signing(self) -> CallbackSigning:
        """How its callbacks are signed (`Capabilities.callbacks`)."""
        ...

    def closer(self) -> Callable[[], None]:
        """A function closing its connections that does not hold the provider (for `weakref.finalize`)."""
        ...

    def close(self) -> None: ...
