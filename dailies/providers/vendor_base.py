"""What every native vendor provider is: `VendorProvider`, built from its catalogue and its official SDK.

A vendor module (fal, replicate, runway, google) subclasses it, names its catalogue (`catalog`), builds its
SDK client as `sdk` and implements `submit`, `refresh`, `download`, `delete` and `health`. What vendors have
the same way is here once: name, label and models; capabilities from the catalogue; no moderation, no list of
videos, no webhook endpoints (each raising `NotSupported` in the catalogue's words); closing the SDK; and
building one from a provider's definition (`from_settings`), which the registry calls.

Imports no SDK (the registry imports this to build any vendor); may import `base`, `_vendor`, `catalog`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import httpx

from dailies.errors import NotSupported, ValidationError
from dailies.jobs import JobKind, JobRequest
from dailies.providers._vendor import (
    ImageLimit,
    ModelSpec,
    capabilities_of,
    check_subject_references,
    image_input,
    key_from,
    spec_for,
)
from dailies.providers.base import CallbackSigning, Capabilities, ModelInfo, ModerationVerdict, WebhookLookup
from dailies.providers.catalog import VendorCatalog

KeyLookup = Callable[[str], str | None]


def setting(settings: Any, name: str, default: Any = None) -> Any:
    """One field of a provider's definition: a mapping (a test's, a form's) or a dataclass (`ServerProvider`,
    `ProviderSettings`)."""
    fields = settings if isinstance(settings, Mapping) else vars(settings)
    return fields.get(name, default)


def text_setting(settings: Any, name: str) -> str:
    return str(setting(settings, name) or "").strip()


class VendorProvider:
    """A vendor reached through its SDK (`sdk`), offering its catalogue's models. Thread-safe when the SDK is
    (every vendor here shares one SDK client)."""

    catalog: ClassVar[VendorCatalog]
    image_limit: ClassVar[ImageLimit]
    """The largest reference image sent inline (a data URI) as it is."""
    upload_limit: ClassVar[ImageLimit]
    """What the vendor's own upload takes, once an image is fitted under it."""
    sdk: Any

    def __init__(self, name: str, *, label: str, models: Mapping[str, ModelSpec], base_url: str | None) -> None:
        self.name = name
        self.label = label
        self.models = dict(models)
        self.base_url = base_url or ""

    @classmethod
    def from_settings(cls, name: str, settings: Any, key_lookup: KeyLookup, *,
                      webhook_url: WebhookLookup | None = None,
                      transport: httpx.BaseTransport | None = None) -> VendorProvider:
        """A provider as its definition describes it: its key read now from the catalogue's variables, its
        `base_url` (a proxy, or a local fake in tests) in place of the vendor's API, and, for a vendor that
        takes callbacks, where its creates ask for them (`webhook_url`)."""
        catalog = cls.catalog
        if variable := text_setting(settings, "key_from"):
            own = " or ".join(catalog.key_variables)
            raise ValidationError(f"A {catalog.label} provider reads its key from {own}, not {variable}: remove "
                                  "key_from from its definition.", field="key_from")
        if transport is not None:
            raise NotSupported(f"A {catalog.label} provider is reached through its SDK, not an httpx transport: "
                               "point its base_url at a local fake instead.")
        key = key_from(catalog.key_variables, catalog.label, key_lookup)
        callbacks = {"webhook_url": webhook_url, "key_lookup": key_lookup} if catalog.callbacks else {}
        return cls(name, api_key=key, label=str(setting(settings, "label") or catalog.label),
                   base_url=text_setting(settings, "base_url") or None, **callbacks)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    # -- what it can do ----------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        catalog = self.catalog
        return capabilities_of(self.models.values(), delete=catalog.delete, unsupported=catalog.unsupported,
                               extend=any(spec.extend for spec in self.models.values()),
                               callbacks=catalog.callbacks, extend_source=catalog.extend_source)

    def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(model, self.catalog.kind) for model in self.models]

    def moderate(self, text: str) -> ModerationVerdict | None:
        return None

    def drop_variant(self, variant: str) -> None:
        """Nothing to drop: a vendor serves only the video (thumbnails are made locally)."""

    def _refusal(self, operation: str) -> NotSupported:
        return NotSupported(self.catalog.unsupported.get(operation, f"{self.catalog.label} has no {operation}."))

    def list_videos(self) -> Iterator[dict[str, Any]]:
        raise self._refusal("list")

    def create_webhook_endpoint(self, *, url: str, name: str, event_types: list[str]) -> dict[str, Any]:
        raise self._webhook_refusal()

    def delete_webhook_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        raise self._webhook_refusal()

    def test_webhook_endpoint(self, endpoint_id: str) -> dict[str, Any]:
        raise self._webhook_refusal()

    def _webhook_refusal(self) -> NotSupported:
        how = "it takes a callback URL with each create" if self.catalog.callbacks else "it sends no webhooks"
        return NotSupported(f"{self.label} has no webhook endpoints to register: {how}.")

    def callback_signing(self) -> CallbackSigning:
        raise NotSupported(f"{self.label} sends no callbacks.")

    def closer(self) -> Callable[[], None]:
        return self.sdk.close

    def close(self) -> None:
        self.closer()()

    # -- what the vendors' operations share ----------------------------------------------------------

    def _spec_to_generate(self, request: JobRequest) -> ModelSpec:
        """The model a create asks for, or a refusal before sending: only creates are offered, of a model in
        the catalogue, with no more subject references than it takes."""
        if request.kind is not JobKind.GENERATE:
            raise NotSupported(self.catalog.unsupported.get(str(request.kind),
                                                            f"{self.catalog.label} cannot do {request.kind}."))
        spec = spec_for(self.models, request.model, self.label)
        check_subject_references(spec, request.reference_images, self.label)
        return spec

    def _only_video(self, variant: str) -> None:
        if variant != "video":
            raise NotSupported(f"{self.label} serves only the video; thumbnails are made locally.")

    def _image_input(self, path: str) -> str:
        """A reference image inline under `image_limit`, else through the vendor's own upload (the subclass's
        `_upload(data, content type, file name) -> URL`)."""
        return image_input(path, self.image_limit, self.upload_limit, self._upload, self.label)
