"""The team's library: saved prompts, style blocks and reference assets, reused from every page.

Each kind lives in a store table of its own (`library_prompts`, `library_styles`, `library_assets`), one
record per item under a generated id, so two people (or two processes) adding or editing items at once
never overwrite each other: a write changes only the fields it names of the one record it names.

An asset's images are checked as a reference upload is (`check_reference_image`) and copied under
`<DAILIES_HOME>/library/<asset id>/`, so the item keeps working after the upload is gone. A model gets an
asset the way it takes references (`asset_use`, applied to a request by `with_asset`): a model that takes
subject references (`Capabilities.subject_references(model)`: Veo 3.1's reference images, Kling's elements)
is sent the asset's images as `JobRequest.reference_images`, as many as it takes; any other model is sent the
first image as the opening frame (`reference_path`, an OpenAI-compatible server's `input_reference`). A model
that takes neither, or an asset beside an opening frame already chosen for a model without subject references,
is refused by the preflight's `validate_request` with a sentence saying what to change, before anything is
sent. The take records which asset and files it used (`library_asset`, kept in `job.params`).

Importable without Streamlit; the pages only compose these calls.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dailies.errors import ValidationError
from dailies.jobs import Job, JobKind, JobRequest
from dailies.providers.base import Capabilities
from dailies.store import Store
from dailies.validation import READABLE_FORMATS, REFERENCE_SUFFIXES, check_reference_image
from dailies.videos_spec import SIZES_720P

Kind = Literal["prompt", "style", "asset"]
TABLES: dict[str, str] = {"prompt": "library_prompts", "style": "library_styles", "asset": "library_assets"}
MAX_NAME_CHARS = 80
MAX_TEXT_CHARS = 4000
MAX_TAGS = 20
MAX_ASSET_IMAGES = 8
"""More than any model takes today (Veo 3.1 takes three reference images): a bound, not a promise."""
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Item:
    """One library item as the pages show it. `text` is a prompt's or style's words; `images` an asset's files."""

    id: str
    kind: Kind
    name: str
    tags: tuple[str, ...] = ()
    text: str = ""
    images: tuple[str, ...] = ()
    created_at: float = 0.0
    made_by: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        """The name with its tags, for a picker's options."""
        return f"{self.name} · {', '.join(self.tags)}" if self.tags else self.name


def clean_name(name: str | None, kind: Kind) -> str:
    text = _SPACES.sub(" ", name or "").strip()
    if not text:
        raise ValidationError(f"Give the {kind} a name: it is how the team finds it.", field="name")
    if len(text) > MAX_NAME_CHARS:
        raise ValidationError(f"The name is {len(text)} characters; the limit is {MAX_NAME_CHARS}.", field="name")
    return text


def clean_tags(tags: list[str] | tuple[str, ...] | str | None) -> tuple[str, ...]:
    """Tags as typed (a list, or one string with commas), without blanks or repeats, in order."""
    raw = tags.split(",") if isinstance(tags, str) else list(tags or ())
    kept: list[str] = []
    for tag in raw:
        tag = _SPACES.sub(" ", str(tag)).strip()
        if tag and tag not in kept:
            kept.append(tag)
    if len(kept) > MAX_TAGS:
        raise ValidationError(f"{len(kept)} tags; the limit is {MAX_TAGS}.", field="tags")
    if any(len(tag) > MAX_NAME_CHARS for tag in kept):
        raise ValidationError(f"A tag is longer than {MAX_NAME_CHARS} characters.", field="tags")
    return tuple(kept)


def clean_text(text: str | None, kind: Kind) -> str:
    words = (text or "").strip()
    if not words:
        raise ValidationError(f"The {kind} is empty: write its words.", field="text")
    if len(words) > MAX_TEXT_CHARS:
        raise ValidationError(f"The {kind} is {len(words):,} characters; the limit is {MAX_TEXT_CHARS:,}.",
                              field="text")
    return words


def with_style(prompt: str, style: str | None) -> str:
    """The prompt with a style block appended the way a preset is (", " between), once."""
    base = (prompt or "").rstrip().rstrip(",")
    block = (style or "").strip()
    if not block or block in base:
        return base
    return f"{base}, {block}" if base else block


@dataclass(frozen=True)
class AssetUse:
    """How one model is sent one asset: its first image as the opening frame, or images as subject references."""

    opening_frame: str | None = None
    references: tuple[str, ...] = ()

    @property
    def images(self) -> tuple[str, ...]:
        return (self.opening_frame,) if self.opening_frame else self.references


def asset_use(asset: Item, caps: Capabilities, model: str, *, frame_free: bool = True) -> AssetUse:
    """What of the asset this model is sent. `frame_free`: no opening frame is chosen yet (an upload, a chained
    shot's last frame); when one is, only a model that takes subject references can take the asset too."""
    most = caps.subject_references(model)
    if most:
        return AssetUse(references=asset.images[:most])
    if frame_free and caps.takes_image(model) and asset.images:
        return AssetUse(opening_frame=asset.images[0])
    return AssetUse()


def images_sent(asset: Item, caps: Capabilities, model: str) -> tuple[str, ...]:
    """The asset's images this model is sent (none: it cannot take the asset), first first."""
    return asset_use(asset, caps, model).images


def how_sent(asset: Item, caps: Capabilities, model: str, *, frame_free: bool = True) -> str:
    """What a person reads beside the asset before launch: which images go to this model, and as what."""
    use, count = asset_use(asset, caps, model, frame_free=frame_free), len(asset.images)
    if use.references:
        kept = f"{len(use.references)} of its {count} images" if len(use.references) < count else (
            "its image" if count == 1 else f"its {count} images")
        return f"{model} is sent {kept} as subject references."
    if use.opening_frame:
        rest = f" ({count - 1} more would go to a model that takes subject references)" if count > 1 else ""
        return f"{model} is sent its first image as the opening frame{rest}."
    return f"{model} cannot take this asset."


def references_said(reference_path: str | None, reference_images: list[str] | tuple[str, ...],
                    asset_name: str | None) -> str:
    """A take's references in words ("opening frame 1-beach.png, 2 subject reference images (the library asset
    Beach)"), for the lines and tables that say what a take is or will be sent."""
    parts = [f"opening frame {Path(reference_path).name}"] if reference_path else []
    if count := len(reference_images):
        parts.append(f"{count} subject reference image{'s' * (count != 1)}")
    said = ", ".join(parts)
    return f"{said} (the library asset {asset_name})" if said and asset_name else said


def with_asset(request: JobRequest, asset: Item | None, caps: Capabilities, *, frame_taken: bool = False) -> JobRequest:
    """The request with the asset sent the way its model takes it, and the asset named on it.

    Where the model cannot take it, the asset is still put on the request (as the opening frame, or as subject
    references beside a frame already chosen) so that `validate_request` refuses it, naming the model, before
    anything is sent: a choice the person made is never dropped without a word. `frame_taken`: an opening frame
    will be chosen though the request has none yet (a chained shot priced before its source is picked)."""
    if asset is None or request.kind is not JobKind.GENERATE:
        return request
    frame_free = request.reference_path is None and not frame_taken
    use = asset_use(asset, caps, request.model, frame_free=frame_free)
    named = {"id": asset.id, "name": asset.name}
    if use.references:
        return dataclasses.replace(request, reference_images=list(use.references), library_asset=named)
    if use.opening_frame:
        return dataclasses.replace(request, reference_path=use.opening_frame, reference_images=[],
                                   library_asset=named)
    if frame_free:  # a model that takes no image at all: refused as any reference is
        return dataclasses.replace(request, reference_path=asset.images[0], library_asset=named)
    return dataclasses.replace(request, reference_images=list(asset.images[:1]), library_asset=named)


def with_library(rows: list[tuple[int, dict[str, Any]]], prompt: Item | None,
                 style: Item | None) -> list[tuple[int, dict[str, Any]]]:
    """A batch's rows with the library's choices: a saved prompt where a row has none, a style on every row."""
    out = []
    for line, fields in rows:
        fields = dict(fields)
        text = str(fields.get("prompt") or "").strip() or (prompt.text if prompt else "")
        fields["prompt"] = with_style(text, style.text if style else None) if text else text
        out.append((line, fields))
    return out


def asset_record(asset: Item) -> dict[str, Any]:
    """An asset as a storyboard shot keeps it: its id, name and image paths (which stay on disk if the item is
    deleted), so the shot is sent it the way the board's model of the day takes it."""
    return {"id": asset.id, "name": asset.name, "images": list(asset.images)}


def asset_from_record(record: dict[str, Any] | None) -> Item | None:
    if not record or not record.get("images"):
        return None
    return Item(id=str(record.get("id") or ""), kind="asset", name=str(record.get("name") or ""),
                images=tuple(record["images"]))


def shot_from_library(picked: Any) -> dict[str, Any]:
    """A storyboard shot's fields from a picker's choices (`prompt`, `style`, `asset`): the prompt with the
    style, named after the prompt, and the asset, sent at launch the way the board's model takes it."""
    prompt = picked.prompt.text if picked.prompt else ""
    return {"prompt": with_style(prompt, picked.style.text if picked.style else None),
            "name": picked.prompt.name if picked.prompt else "",
            "asset": asset_record(picked.asset) if picked.asset else None}


def rerun_parameters(job: Job) -> dict[str, Any]:
    """A take's exact parameters, for "run again with changes": what Generate's form is filled with."""
    return {
        "job_id": job.id,
        "prompt": job.prompt,
        "model": job.model,
        "size": job.size,
        "seconds": int(job.seconds),
        "high_res": job.size not in SIZES_720P,
        "seed": job.params.get("seed"),
        "reference_path": job.params.get("reference_path"),
        "reference_images": list(job.params.get("reference_images") or []),
        "library_asset": {"id": job.params["library_asset_id"], "name": job.params.get("library_asset_name", "")}
        if job.params.get("library_asset_id") else {},
        "audio": bool(job.params.get("audio", True)),
        "provider": job.provider,
    }


class Library:
    """Saved prompts, styles and assets in a job store's tables; asset images under `home/library`.

    Thread-safe and process-safe as the store's tables are: every write is one record's fields.
    """

    def __init__(self, store: Store, home: Path) -> None:
        self.store = store
        self.folder = Path(home) / "library"

    # -- reading -----------------------------------------------------------------------------------

    def items(self, kind: Kind, tag: str | None = None) -> list[Item]:
        """Every item of a kind, by name (then age); only those carrying `tag` when given."""
        found = [_item(key, kind, doc) for key, doc in self.store.table(TABLES[kind]).all().items()]
        if tag:
            found = [item for item in found if tag in item.tags]
        return sorted(found, key=lambda item: (item.name.casefold(), item.created_at))

    def get(self, kind: Kind, item_id: str) -> Item | None:
        doc = self.store.table(TABLES[kind]).get(item_id)
        return _item(item_id, kind, doc) if doc is not None else None

    def require(self, kind: Kind, item_id: str) -> Item:
        item = self.get(kind, item_id)
        if item is None:
            raise ValidationError(f"That {kind} is no longer in the library (someone deleted it).")
        return item

    def tags(self) -> list[str]:
        return sorted({tag for kind in TABLES for item in self.items(kind) for tag in item.tags})  # type: ignore[arg-type]

    # -- writing -----------------------------------------------------------------------------------

    def add_prompt(self, name: str, text: str, tags: list[str] | str | None = None, *,
                   made_by: str | None = None) -> Item:
        return self._add("prompt", name, tags, made_by, text=clean_text(text, "prompt"))

    def add_style(self, name: str, text: str, tags: list[str] | str | None = None, *,
                  made_by: str | None = None) -> Item:
        return self._add("style", name, tags, made_by, text=clean_text(text, "style"))

    def add_asset(self, name: str, images: list[tuple[str, bytes]], tags: list[str] | str | None = None, *,
                  made_by: str | None = None) -> Item:
        """An asset from one or more images, each `(the name the person knows it by, its bytes)`.

        Every image is checked as a reference upload is; one that fails leaves nothing behind.
        """
        name = clean_name(name, "asset")
        tags = clean_tags(tags)
        if not images:
            raise ValidationError("An asset needs at least one image.", field="images")
        if len(images) > MAX_ASSET_IMAGES:
            raise ValidationError(f"{len(images)} images; an asset holds at most {MAX_ASSET_IMAGES}.",
                                  field="images")
        item_id = _new_id("asset")
        folder = self.folder / item_id
        folder.mkdir(parents=True, exist_ok=True)
        kept: list[str] = []
        try:
            for n, (shown, data) in enumerate(images, start=1):
                suffix = Path(shown).suffix.lower()
                if suffix.lstrip(".") not in REFERENCE_SUFFIXES:
                    raise ValidationError(f"An asset's images are {READABLE_FORMATS} images, not {shown!r}.",
                                          field="images")
                path = folder / f"{n}-{_file_stem(shown)}{suffix}"
                path.write_bytes(data)
                check_reference_image(path, shown_name=shown)
                kept.append(str(path))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return self._add("asset", name, tags, made_by, item_id=item_id, images=kept)

    def rename(self, kind: Kind, item_id: str, name: str) -> Item:
        self.require(kind, item_id)
        self.store.table(TABLES[kind]).set(item_id, name=clean_name(name, kind))
        return self.require(kind, item_id)

    def retag(self, kind: Kind, item_id: str, tags: list[str] | str | None) -> Item:
        self.require(kind, item_id)
        self.store.table(TABLES[kind]).set(item_id, tags=list(clean_tags(tags)))
        return self.require(kind, item_id)

    def rewrite(self, kind: Kind, item_id: str, text: str) -> Item:
        """A prompt's or style's new words."""
        if kind == "asset":
            raise ValidationError("An asset has images, not words.")
        self.require(kind, item_id)
        self.store.table(TABLES[kind]).set(item_id, text=clean_text(text, kind))
        return self.require(kind, item_id)

    def delete(self, kind: Kind, item_id: str) -> None:
        """Remove the item from the library. An asset's images stay on disk: takes sent with it name them as
        their reference, and "run again with changes" or a retry sends that very file again."""
        self.store.table(TABLES[kind]).delete(item_id)

    def _add(self, kind: Kind, name: str, tags: Any, made_by: str | None, *, item_id: str | None = None,
             **fields: Any) -> Item:
        fields = {"name": clean_name(name, kind), "tags": list(clean_tags(tags)), "created_at": time.time(),
                  "made_by": made_by, **fields}
        item_id = item_id or _new_id(kind)
        self.store.table(TABLES[kind]).set(item_id, **fields)
        return _item(item_id, kind, fields)


def _file_stem(shown: str) -> str:
    """The name a person gave an image, fit for a file name: what a take's record names as its reference."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", Path(shown).stem).strip("-")[:40] or "image"


def _new_id(kind: str) -> str:
    """Unique across processes (so two adding at once never share a record), sortable by time."""
    return f"{kind}_{time.time_ns():x}{uuid.uuid4().hex[:8]}"


def _item(key: str, kind: Kind, doc: dict[str, Any]) -> Item:
    known = {"name", "tags", "text", "images", "created_at", "made_by"}
    return Item(id=key, kind=kind, name=str(doc.get("name") or key), tags=tuple(doc.get("tags") or ()),
                text=str(doc.get("text") or ""), images=tuple(doc.get("images") or ()),
                created_at=float(doc.get("created_at") or 0.0), made_by=doc.get("made_by"),
                extra={k: v for k, v in doc.items() if k not in known})
