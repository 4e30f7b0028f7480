"""What every native vendor provider is: `VendorProvider`, built from its catalogue and its official SDK.

A vendor module (fal, replicate, runway, google) subclasses it, names its catalogue (`catalog`), builds its
SDK client as `sdk` and implements `submit`, `refresh`, `download`, `delete` and `health`. What vendors have
the same way is here once: name, label and models; capabilities from the catalogue; no moderation, no list of
videos, no webhook endpoints (each raising `NotSupported` in the catalogue's words); closing the SDK; a create's
checked terms (`CreateTerms`); and building one from a provider's definition (`from_settings`), which the
registry calls. A vendor whose SDK is made from an API key (fal, Replicate, Runway) builds on
`KeyedVendorProvider`, which reads the key and leaves the vendor only `_connect`; Veo, keyless, builds its own.
One whose models publish their input schemas (fal, Replicate) builds on `SchemaCheckedProvider`.

Imports no SDK (the registry imports this to build any vendor); may import `base`, `_vendor`, `catalog`.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypedDict, Unpack

import httpx

from dailies.errors import NotSupported, ValidationError
from dailies.jobs import JobKind, JobRequest
from dailies.providers._vendor import (
    ImageLimit,
    ModelSpec,
    audio_choice,
    capabilities_of,
    check_published_schema,
    check_seconds,
    check_subject_references,
    image_input,
    key_from,
    spec_for,
    vendor_resolution,
    vendor_size,
)
from dailies.providers.base import CallbackSigning, Capabilities, Health, ModelInfo, ModerationVerdict, WebhookLookup
from dailies.providers.catalog import VendorCatalog

KeyLookup = Callable[[str], str | None]

SCHEMA_RETRY_S = 600.0
"""How long a connection test waits before asking again for schemas it could not read (health runs often)."""


def setting(settings: Any, name: str, default: Any = None) -> Any:
    """One field of a provider's definition: a mapping (a test's, a form's) or a dataclass (`ServerProvider`,
    `ProviderSettings`)."""
    fields = settings if isinstance(settings, Mapping) else vars(settings)
    return fields.get(name, default)


def text_setting(settings: Any, name: str) -> str:
    return str(setting(settings, name) or "").strip()


@dataclass(frozen=True)
class CreateTerms:
    """A create's size, length and sound in the vendor's terms, each checked against the catalogue."""

    ratio: str
    """The vendor's aspect ratio for the take's size."""
    seconds: int
    resolution: str | None
    """The vendor's resolution for the size, when the model takes one."""
    audio: dict[str, bool]
    """The audio input as the take chose it (empty when the model has no choice)."""


class VendorArgs(TypedDict, total=False):
    """What every keyed vendor is built with (each defaulting to its catalogue's), beside its own options."""

    api_key: str | None
    base_url: str | None
    """The vendor's API replaced (a proxy, or a local fake in tests)."""
    label: str
    key_lookup: KeyLookup | None
    """Where the key is read from the catalogue's variables when `api_key` is not given (the environment)."""
    models: Mapping[str, ModelSpec]


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

    def _create_terms(self, spec: ModelSpec, request: JobRequest) -> CreateTerms:
        """The create's terms, or a refusal before sending (the size first, then the length, then the sound)."""
        return CreateTerms(ratio=vendor_size(spec, request.size, self.label),
                           seconds=check_seconds(spec, request.seconds, self.label),
                           resolution=vendor_resolution(spec, request.size),
                           audio=audio_choice(spec, request.audio, self.label))

    def _only_video(self, variant: str) -> None:
        if variant != "video":
            raise NotSupported(f"{self.label} serves only the video; thumbnails are made locally.")

    def _image_input(self, path: str) -> str:
        """A reference image inline under `image_limit`, else through the vendor's own upload (the subclass's
        `_upload(data, content type, file name) -> URL`)."""
        return image_input(path, self.image_limit, self.upload_limit, self._upload, self.label)


class KeyedVendorProvider(VendorProvider, abc.ABC):
    """A vendor whose SDK client is made from an API key (fal, Replicate, Runway): given, or read from the
    catalogue's variables through `key_lookup`."""

    def __init__(self, name: str | None = None, **given: Unpack[VendorArgs]) -> None:
        catalog = self.catalog
        label = given.get("label", catalog.label)
        super().__init__(catalog.kind if name is None else name, label=label,
                         models=given.get("models", catalog.models), base_url=given.get("base_url"))
        key = given.get("api_key") or key_from(catalog.key_variables, label, given.get("key_lookup"))
        self.sdk = self._connect(key)

    @abc.abstractmethod
    def _connect(self, key: str) -> Any:
        """The vendor's SDK client, authenticated with `key`, at `base_url` when one is set."""


class SchemaCheckedProvider(KeyedVendorProvider):
    """A keyed vendor whose models publish their input schemas (fal, Replicate): read at the connection test,
    asked again for what could not be read only after `SCHEMA_RETRY_S`, and each create checked against them
    before it is sent (a schema never read lets the create go as the catalogue says)."""

    def __init__(self, name: str | None = None, **given: Unpack[VendorArgs]) -> None:
        super().__init__(name, **given)
        self.published: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        """Endpoint or model -> (its input schema, the whole OpenAPI document), as read at the connection test."""
        self.clock: Callable[[], float] = time.monotonic
        self._schemas_retry_at = 0.0

    @abc.abstractmethod
    def _schema_keys(self) -> list[str]:
        """What publishes a schema: each endpoint or model of the catalogue."""

    @abc.abstractmethod
    def _read_published(self, missing: list[str]) -> list[str]:
        """Read the `missing` schemas into `published`; the keys whose schema could not be read."""

    def _read_schemas(self) -> list[str]:
        """Each schema, read once; the keys whose schema could not be read."""
        missing = [key for key in self._schema_keys() if key not in self.published]
        if not missing or self.clock() < self._schemas_retry_at:
            return missing
        unread = self._read_published(missing)
        if unread:
            self._schemas_retry_at = self.clock() + SCHEMA_RETRY_S
        return unread

    def _answers(self, started: float) -> Health:
        """The connection test once the vendor answered, naming the schemas that could not be read."""
        unread = self._read_schemas()
        said = f"{self.label} answers" + (f"; no published input schema for {', '.join(unread)}" if unread else "")
        return Health(True, said, (time.perf_counter() - started) * 1000)

    def _check_published(self, key: str, arguments: Mapping[str, Any]) -> None:
        check_published_schema(self.published, key, arguments, self.label)
