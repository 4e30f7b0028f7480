"""What the native vendor providers share: model catalogues, keys, errors in our words, and downloads.

Each vendor module (`fal`, `replicate`, `runway`, `google`) talks to its vendor only through the
vendor's official SDK. What they have in common lives here once:

- `ModelSpec`: one model's honest abilities (sizes as the vendor names them, durations, image input,
  audio, extension) and its price, from which `Capabilities` and a `PriceList` table are built.
- `key_from`: the vendor's key from the environment (or a lookup), never stored; a missing key is a
  `MissingKey` refusal that names the variable to set.
- `api_error`: an SDK's exception as our `APIError` of the right class, so the studio can tell "the
  server refused" from "the create may have arrived" (a dropped connection, a timeout, a 5xx).
- `download_url`: the finished video into the media folder at once (vendor URLs expire), whole or not
  at all (`dailies.files`).

What each vendor provider is built from and says about itself (its catalogue, its SDK, what it
cannot do) is `vendor_base.VendorProvider`.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

try:  # google-genai's transport
    import httpx2
except ImportError:  # pragma: no cover - installed with google-genai
    httpx2 = None

from dailies.client import error_from_transport
from dailies.errors import APIConnectionError, APIError, NotSupported, RequestRefused, error_for_status
from dailies.files import write_chunks
from dailies.jobs import FileRecord
from dailies.pricing import Rate
from dailies.providers.base import Capabilities, ProgressCallback

DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class MissingKey(RequestRefused):
    """A provider's key is not set: nothing was sent. The message names the variable to set."""

    def __init__(self, label: str, variables: tuple[str, ...]) -> None:
        names = " or ".join(variables)
        super().__init__(f"{label} needs its API key: set {names} in the environment the app runs in.")
        self.variables = variables


def key_from(
    variables: tuple[str, ...], label: str, key_lookup: Callable[[str], str | None] | None = None
) -> str:
    """The first of `variables` that is set (in `key_lookup`, else the environment), or `MissingKey`."""
    lookup = key_lookup or os.environ.get
    for name in variables:
        value = (lookup(name) or "").strip()
        if value:
            return value
    raise MissingKey(label, variables)


@dataclass(frozen=True)
class ModelSpec:
    """One vendor model, as honestly as its documentation and SDK allow us to say.

    `sizes` maps our `WxH` sizes to what the vendor calls them (`"1280x720"` -> `"16:9"`), so a page
    can show the mapping and a request is refused before sending when the model has no such shape.
    """

    id: str
    sizes: Mapping[str, str]
    seconds: tuple[int, ...]
    usd_per_second: float
    text: bool = True
    """Takes a text-only prompt."""
    image: bool = False
    """Takes a reference image (image→video)."""
    audio: bool = False
    """Renders sound with the picture."""
    silent_usd_per_second: float | None = None
    """The price with sound turned off, where the vendor publishes one and the model can be told to stay
    silent (`audio_input`); None: unknown, and a silent take is estimated at the sound price."""
    audio_input: str | None = None
    """The input that turns sound on or off (`generate_audio`, Runway's `audio`), sent with every create as
    the take chose (`JobRequest.audio`); None: the model cannot be told (it renders sound, or none, always)."""
    subject_references: int = 0
    """How many subject reference images (`JobRequest.reference_images`) the model takes; 0: none."""
    extend: bool = False
    extend_seconds: tuple[int, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    """Vendor specifics (fal endpoint ids, Replicate input names, ...)."""
    resolutions: Mapping[str, str] = field(default_factory=dict)
    """Our sizes as the vendor's `resolution` input (`"1280x720"` -> `"720p"`), for a model whose default
    resolution is not the one we ask for: sent with every create so the clip (and the bill) is the size
    chosen. Empty: the model takes no resolution input (its ratio alone fixes the size)."""
    source: str = ""
    """Where the price and abilities come from and when they were read, or "unverified"."""


def capabilities_of(
    specs: Iterable[ModelSpec], *, delete: bool, unsupported: Mapping[str, str], extend: bool = False,
    callbacks: bool = False, extend_source: str = "file",
) -> Capabilities:
    """Capabilities from a model catalogue: sizes and seconds per model, image/audio models named."""
    specs = list(specs)
    seconds = tuple(sorted({s for spec in specs for s in spec.seconds}))
    extend_seconds = tuple(sorted({s for spec in specs for s in spec.extend_seconds}))
    first = specs[0]
    return Capabilities(
        models=tuple(spec.id for spec in specs),
        sizes={spec.id: tuple(spec.sizes) for spec in specs},
        seconds=seconds,
        extend_seconds=extend_seconds or seconds,
        default_model=first.id,
        default_size=next(iter(first.sizes)),
        default_seconds=first.seconds[0],
        reference_image=any(spec.image for spec in specs),
        remix=False,
        extend=extend,
        extend_source=extend_source,
        edit=False,
        characters=False,
        variants=("video",),
        delete=delete,
        list_videos=False,
        callbacks=callbacks,
        unsupported=dict(unsupported),
        seconds_by_model={spec.id: spec.seconds for spec in specs},
        size_names={spec.id: dict(spec.sizes) for spec in specs},
        image_models=tuple(spec.id for spec in specs if spec.image),
        text_models=tuple(spec.id for spec in specs if spec.text),
        audio_models=tuple(spec.id for spec in specs if spec.audio),
        silent_models=tuple(spec.id for spec in specs if spec.audio and spec.audio_input),
        reference_images_by_model={spec.id: spec.subject_references for spec in specs if spec.subject_references},
    )


def rates_of(specs: Iterable[ModelSpec]) -> tuple[Rate, ...]:
    """Dollars per second per model, as a `PriceList` takes them (Settings edits the same table); a model
    with a published silent price has it as a second rate that only a silent take matches."""
    rates: list[Rate] = []
    for spec in specs:
        if spec.silent_usd_per_second is not None:
            rates.append(Rate(spec.id, spec.silent_usd_per_second, audio=False))
        rates.append(Rate(spec.id, spec.usd_per_second))
    return tuple(rates)


def audio_choice(spec: ModelSpec, audio: bool, label: str) -> dict[str, bool]:
    """The model's sound input as the take chose it (sent explicitly, never left to the vendor's default),
    or a refusal when sound off was asked of a model that cannot be told to stay silent."""
    if spec.audio and spec.audio_input:
        return {spec.audio_input: bool(audio)}
    if spec.audio and not audio:
        raise NotSupported(f"{label} {spec.id} always renders sound; it cannot be asked for a silent take.")
    return {}


def check_subject_references(spec: ModelSpec, images: list[str], label: str) -> None:
    """Refuse, before sending, more subject references than the model takes (naming the model and its limit)."""
    if len(images) > spec.subject_references:
        if not spec.subject_references:
            raise NotSupported(f"{label} {spec.id} takes no subject reference images; take them off or choose a "
                               "model that takes them.")
        raise NotSupported(f"{label} {spec.id} takes up to {spec.subject_references} subject reference images, "
                           f"not {len(images)}.")


def spec_for(specs: Mapping[str, ModelSpec], model: str, label: str) -> ModelSpec:
    spec = specs.get(model)
    if spec is None:
        raise NotSupported(f"{label} has no model {model!r} here; choose one of: {', '.join(specs)}.")
    return spec


def vendor_size(spec: ModelSpec, size: str, label: str) -> str:
    """Our size in the vendor's words, or a refusal naming the sizes this model has."""
    named = spec.sizes.get(size)
    if named is None:
        raise NotSupported(
            f"{label} {spec.id} does not render {size}; it renders "
            + ", ".join(f"{ours} (as {theirs})" for ours, theirs in spec.sizes.items())
            + "."
        )
    return named


def vendor_resolution(spec: ModelSpec, size: str) -> str | None:
    """The vendor's `resolution` value for `size`, when the model takes one (see `ModelSpec.resolutions`)."""
    return spec.resolutions.get(size) if spec.resolutions else None


def check_seconds(spec: ModelSpec, seconds: int, label: str, *, extend: bool = False) -> int:
    allowed = spec.extend_seconds if extend else spec.seconds
    if seconds not in allowed:
        raise NotSupported(
            f"{label} {spec.id} makes clips of {', '.join(map(str, allowed))} seconds, not {seconds}."
        )
    return seconds


def check_request_shape(spec: ModelSpec, *, has_image: bool, label: str) -> None:
    if has_image and not spec.image:
        raise NotSupported(f"{label} {spec.id} does not take a reference image; choose an image-to-video model.")
    if not has_image and not spec.text:
        raise NotSupported(f"{label} {spec.id} needs a reference image (it is an image-to-video model).")


@dataclass(frozen=True)
class ImageLimit:
    """What a vendor takes as an inline reference image, and where it says so.

    `max_bytes` caps the decoded image (what the vendor's "up to 5MB" counts); `max_side` the longest
    edge we send (a bigger picture costs upload time and buys nothing: the video is at most 1080p).
    """

    max_bytes: int
    source: str
    max_side: int = 2048


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


def fitted_image(path: str | os.PathLike[str], limit: ImageLimit, label: str) -> tuple[bytes, str]:
    """The reference image as bytes and content type that fit `limit`, or a refusal naming the limit.

    A PNG or JPEG already under the cap and the side limit goes as it is. Otherwise Pillow shrinks its
    longest side to `limit.max_side` and re-encodes it as JPEG, stepping the quality (then the size)
    down until it fits. A file Pillow cannot read, or one that cannot be brought under the cap, is
    refused before anything is sent (`NotSupported`), with the vendor's limit in the message.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError  # Pillow is only needed with a reference image

    as_is = image_as_is(path, limit)
    if as_is is not None:
        return as_is
    try:
        with Image.open(path) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        name = Path(path).name
        raise NotSupported(f"{label} needs a reference image it can read (PNG or JPEG); {name} is not one.") from exc
    side = limit.max_side
    while side >= 256:
        scaled = picture.copy()
        scaled.thumbnail((side, side))
        for quality in (90, 80, 70, 60):
            buffer = io.BytesIO()
            scaled.save(buffer, "JPEG", quality=quality, optimize=True)
            if buffer.tell() <= limit.max_bytes:
                return buffer.getvalue(), "image/jpeg"
        side = side * 3 // 4
    raise NotSupported(
        f"{label} takes reference images up to {_megabytes(limit.max_bytes)} ({limit.source}); "
        f"{Path(path).name} could not be brought under that even shrunk to 256 px."
    )


def image_as_is(path: str | os.PathLike[str], limit: ImageLimit) -> tuple[bytes, str] | None:
    """The file's bytes and content type when it already fits `limit` as it is (a PNG or JPEG under the cap
    and the side limit), else None: the choice between sending a picture inline and uploading it."""
    from PIL import Image, UnidentifiedImageError

    raw = Path(path).read_bytes()
    if len(raw) > limit.max_bytes:
        return None
    try:
        with Image.open(io.BytesIO(raw)) as opened:
            kind = (opened.format or "").upper()
            if kind in ("PNG", "JPEG") and max(opened.size) <= limit.max_side:
                return raw, "image/png" if kind == "PNG" else "image/jpeg"
    except (UnidentifiedImageError, OSError):
        return None
    return None


Upload = Callable[[bytes, str, str], str]
"""A vendor's own file upload: (bytes, content type, file name) -> the URL or URI a create may name."""


def image_input(path: str | os.PathLike[str], inline: ImageLimit, uploaded: ImageLimit, upload: Upload,
                label: str) -> str:
    """A reference image as a vendor takes it: inline as a data URI when it fits `inline` as it is (a PNG
    or JPEG under the vendor's data-URI cap), else through the vendor's own file API (`upload`), fitted
    under `uploaded` first, as the URL it answers. One that cannot fit even that is refused (`NotSupported`,
    naming the limit) before anything is sent: nothing is uploaded either."""
    as_is = image_as_is(path, inline)
    if as_is is not None:
        data, kind = as_is
        return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
    data, kind = fitted_image(path, uploaded, label)
    return upload(data, kind, Path(path).stem + (".png" if kind == "image/png" else ".jpg"))


# -- published input schemas -----------------------------------------------------------------------


def _resolved(prop: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """A property with its `$ref` / `allOf` references folded in (Cog puts enums behind `allOf: [$ref]`)."""
    merged: dict[str, Any] = {}
    for part in [prop, *prop.get("allOf", ())]:
        ref = part.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = document
            for key in ref[2:].split("/"):
                target = target.get(key, {}) if isinstance(target, Mapping) else {}
            merged.update(_resolved(target, document) if isinstance(target, Mapping) else {})
        merged.update({k: v for k, v in part.items() if k not in ("$ref", "allOf")})
    return merged


def schema_problems(schema: Mapping[str, Any], document: Mapping[str, Any], body: Mapping[str, Any]) -> list[str]:
    """What a vendor's published input schema (an OpenAPI object schema) says is wrong with `body`:
    inputs it does not have, values outside an enum or a minimum/maximum, required inputs left out."""
    schema = _resolved(schema, document)
    properties = schema.get("properties") or {}
    found = [f"{name}: required" for name in schema.get("required") or () if name not in body]
    for name, value in body.items():
        if name not in properties:
            found.append(f"{name}: not an input of this model")
            continue
        prop = _resolved(properties[name], document)
        if "enum" in prop and value not in prop["enum"]:
            found.append(f"{name}: {value!r} is not one of {', '.join(map(repr, prop['enum']))}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in prop and value < prop["minimum"]:
                found.append(f"{name}: {value} is below {prop['minimum']}")
            if "maximum" in prop and value > prop["maximum"]:
                found.append(f"{name}: {value} is above {prop['maximum']}")
    return found


def check_published_schema(
    published: Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any]]], key: str, body: Mapping[str, Any],
    label: str,
) -> None:
    """Refuse `body` before sending when the schema the vendor published for `key` (read at the connection
    test) says it will be refused; a model whose schema was not read is sent as the catalogue says."""
    if key not in published:
        return
    schema, document = published[key]
    problems = schema_problems(schema, document, body)
    if problems:
        raise NotSupported(f"{label} {key} would refuse this ({'; '.join(problems)}), as its published schema says.")


# -- errors -----------------------------------------------------------------------------------------


def http_error(
    status: int, message: str, *, code: str | None = None, body: Any = None, headers: Mapping[str, str] | None = None
) -> APIError:
    """An HTTP error answer as our typed error, by status (a 5xx is a `ServerError`, which may have
    created a job); the vendor's own body is kept in `body` as it sent it."""
    error = error_for_status(status, {"error": {"message": message, "code": code}}, headers or {})
    error.body = body
    return error


def transport_error(exc: BaseException) -> APIError:
    """A transport failure in our words; a refused connection (`connect_failed`) surely created nothing.

    google-genai sends through `httpx2` (pydantic's fork of httpx, under its own names), so its
    exceptions are read the same way as httpx's.
    """
    http = httpx2 if httpx2 is not None and isinstance(exc, httpx2.HTTPError) else httpx
    return error_from_transport(exc, http)


TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.HTTPError,) + ((httpx2.HTTPError,) if httpx2 else ())
"""What an SDK raises when the connection, not the server, failed."""


# -- files ------------------------------------------------------------------------------------------


def download_url(
    url: str,
    dest: str | os.PathLike[str],
    *,
    headers: Mapping[str, str] | None = None,
    on_progress: ProgressCallback | None = None,
    http: httpx.Client | None = None,
) -> FileRecord:
    """Fetch a vendor's (expiring) output URL into `dest` atomically; an HTTP or transport failure is
    an `APIError` the tracker retries. Only http(s) URLs are fetched."""
    if not url.startswith(("https://", "http://")):
        raise NotSupported(f"cannot fetch {url[:40]!r}: only http(s) output URLs are downloaded here")
    client = http or httpx.Client(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True)
    try:
        with client.stream("GET", url, headers=dict(headers or {})) as response:
            if response.status_code >= 400:
                response.read()
                raise http_error(response.status_code, response.text[:300] or f"HTTP {response.status_code}")
            length = response.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
            return write_chunks(dest, _checked(response.iter_bytes(), on_progress, total),
                                content_type=response.headers.get("content-type", ""))
    except httpx.HTTPError as exc:
        raise transport_error(exc) from exc
    finally:
        if http is None:
            client.close()


def _checked(chunks: Iterable[bytes], on_progress: ProgressCallback | None, total: int | None) -> Iterator[bytes]:
    """The body's chunks, told to `on_progress`; a body that ends short of its Content-Length is an error
    (raised before the file is renamed into place, so nothing half-downloaded is kept)."""
    written = 0
    for chunk in chunks:
        yield chunk
        written += len(chunk)
        if on_progress:
            on_progress(written, total)
    if total is not None and written != total:
        raise APIConnectionError(f"download ended at {written} of {total} bytes", code="incomplete_body")
