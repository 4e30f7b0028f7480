"""Hand-kept input schemas for each catalogue model, as the vendors publish them (read 2026-12-05).

The fakes check every create against these and refuse what the real service would refuse (an unknown
enum value, a missing required input), in that vendor's error shape; the per-model tests check that
what the adapters send for every size and duration in the catalogue fits. Where a vendor's default
differs from what we want (Seedance renders 1080p unless told), the schema says so in `defaults`, so a
test can check that the adapter never relies on it.

Sources:
- fal: each endpoint's API reference (https://fal.ai/docs/model-api-reference/video-generation-api/...,
  e.g. bytedance-seedance-v1.5-pro.md) and its OpenAPI at
  https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=<endpoint>. Read from the docs index with no
  network here; enums for Kling 2.1/2.5 and Veo 3 as last seen: unverified. Read 2026-12-06 from stored
  copies of the model pages' llms.txt: Kling 2.6 Pro text-to-video (prompt, duration "5"/"10", aspect_ratio
  16:9/9:16/1:1, negative_prompt, cfg_scale, generate_audio) and Veo 3.1 (aspect_ratio 16:9/9:16, duration
  "4s"/"6s"/"8s"; 720p or 1080p, and 4k). Unverified: Veo 3.1's `resolution` default (720p here), Veo 3.1
  Fast's inputs (as Veo 3.1's), Wan 2.5 preview's (as Venice lists the model: 480p/720p/1080p, 5 or 10 s,
  16:9/9:16/1:1; the 1080p default is assumed, so `resolution` is always sent).
- Replicate: each model's page and its latest version's `openapi_schema` (the `Input` component),
  https://replicate.com/<owner>/<name>/api/schema. Unverified here (no network). Hailuo 02's inputs as
  MiniMax's API names them (prompt, first_frame_image, duration 6/10, resolution 512p/768p/1080p,
  prompt_optimizer; docs.comfy.org MinimaxHailuoVideoNode); Veo 3.1's as Google's (aspect_ratio, duration
  4/6/8, resolution 720p/1080p, generate_audio); Seedance 1.5 Pro's as Seedance 1 Pro's; Wan 2.5's `size`
  as "W*H". The 1080p `resolution` defaults are assumed, which is why the adapters always send one.
- Runway: the SDK's create types, runwayml 5.24.0 `types/text_to_video_create_params.py` and
  `types/image_to_video_create_params.py` (the source of truth its own docs are generated from), Kling 3.0
  Pro's (`Kling3_0Pro`: ratio 1920:1080/1080:1920/1440:1440 required, audio, cfgScale, duration int) included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Schema:
    required: tuple[str, ...]
    enums: dict[str, tuple[Any, ...]]
    """Inputs that take only these values."""
    types: dict[str, type | tuple[type, ...]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    """What the service does when an input is left out (where it matters for size or price)."""

    @property
    def known(self) -> set[str]:
        return set(self.required) | set(self.enums) | set(self.types)

    def problems(self, body: dict[str, Any]) -> list[tuple[str, str, str]]:
        """`(input, message, type)` for each thing the service would refuse, FastAPI-style."""
        found = [(name, "field required", "missing") for name in self.required if name not in body]
        for name, allowed in self.enums.items():
            if name in body and body[name] not in allowed:
                found.append((name, f"unexpected value; permitted: {', '.join(map(str, allowed))}", "enum"))
        for name, kind in self.types.items():
            if name in body and not isinstance(body[name], kind):
                found.append((name, "wrong type", "type_error"))
        extra = [name for name in body if name not in self.known]
        found += [(name, "extra inputs are not permitted", "extra_forbidden") for name in extra]
        return found


_JSON_TYPES = {str: "string", int: "integer", bool: "boolean", float: "number", list: "array"}


def openapi_input(schema: Schema, *, enum_refs: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """`schema` as an OpenAPI `Input` object schema and the `components.schemas` it refers to.

    `enum_refs`: enums behind `allOf: [{"$ref": ...}]` as Cog writes Replicate's schemas; otherwise inline,
    as fal's per-endpoint OpenAPI has them.
    """
    properties: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for name in sorted(schema.known):
        if name in schema.enums:
            values = list(schema.enums[name])
            if enum_refs:
                components[name] = {"title": name, "enum": values, "description": "An enumeration."}
                properties[name] = {"allOf": [{"$ref": f"#/components/schemas/{name}"}]}
            else:
                properties[name] = {"enum": values}
        else:
            kind = schema.types.get(name, str)
            first = kind[0] if isinstance(kind, tuple) else kind
            properties[name] = {"type": _JSON_TYPES.get(first, "string")}
        if name in schema.defaults:
            properties[name]["default"] = schema.defaults[name]
    return {"type": "object", "title": "Input", "required": list(schema.required), "properties": properties}, components


_TEXT = {"prompt": str, "seed": int}
_RATIO3 = ("16:9", "9:16", "1:1")
_SEEDANCE_RES = ("480p", "720p", "1080p")

FAL: dict[str, Schema] = {}
for _family, _ratios, _durations, _extra, _defaults in (
    ("fal-ai/kling-video/v2.1/master", _RATIO3, ("5", "10"), {}, {}),
    ("fal-ai/kling-video/v2.5-turbo/pro", _RATIO3, ("5", "10"), {}, {}),
    ("fal-ai/bytedance/seedance/v1/pro", ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16", "auto"),
     tuple(str(n) for n in range(3, 13)), {"resolution": _SEEDANCE_RES}, {"resolution": "1080p"}),
    ("fal-ai/bytedance/seedance/v1.5/pro", ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16", "auto"),
     tuple(str(n) for n in range(4, 13)), {"resolution": _SEEDANCE_RES}, {"resolution": "1080p"}),
):
    _audio = {"generate_audio": bool} if "v1.5" in _family else {}
    FAL[f"{_family}/text-to-video"] = Schema(("prompt",), {"aspect_ratio": _ratios, "duration": _durations, **_extra},
                                             {**_TEXT, **_audio}, _defaults)
    FAL[f"{_family}/image-to-video"] = Schema(("prompt", "image_url"), {"aspect_ratio": _ratios, "duration": _durations,
                                              **_extra}, {**_TEXT, **_audio, "image_url": str}, _defaults)
FAL["fal-ai/kling-video/v2.6/pro/text-to-video"] = Schema(
    ("prompt",), {"aspect_ratio": _RATIO3, "duration": ("5", "10")},
    {"prompt": str, "negative_prompt": str, "cfg_scale": float, "generate_audio": bool}, {"generate_audio": True})
_VEO31 = {"aspect_ratio": ("16:9", "9:16"), "duration": ("4s", "6s", "8s"), "resolution": ("720p", "1080p", "4k")}
_VEO31_TYPES = {**_TEXT, "negative_prompt": str, "generate_audio": bool}
for _family in ("fal-ai/veo3.1", "fal-ai/veo3.1/fast"):
    FAL[_family] = Schema(("prompt",), _VEO31, _VEO31_TYPES, {"generate_audio": True, "resolution": "720p"})
    FAL[f"{_family}/image-to-video"] = Schema(("prompt", "image_url"), _VEO31, {**_VEO31_TYPES, "image_url": str},
                                              {"generate_audio": True, "resolution": "720p"})
FAL["fal-ai/wan-25-preview/text-to-video"] = Schema(
    ("prompt",), {"aspect_ratio": _RATIO3, "resolution": _SEEDANCE_RES, "duration": ("5", "10")},
    {**_TEXT, "negative_prompt": str, "audio_url": str, "enable_prompt_expansion": bool}, {"resolution": "1080p"})
FAL["fal-ai/veo3"] = Schema(("prompt",), {"aspect_ratio": ("16:9", "9:16"), "duration": ("8s",)},
                            {**_TEXT, "generate_audio": bool}, {"generate_audio": True})
FAL["fal-ai/veo3/image-to-video"] = Schema(("prompt", "image_url"), {"aspect_ratio": ("16:9", "9:16"),
                                           "duration": ("8s",)}, {**_TEXT, "generate_audio": bool, "image_url": str},
                                           {"generate_audio": True})

FAL_REFERENCE_CAP = 7
"""Kling O1 reference-to-video on fal: reference images and elements together, at most 7 (the endpoint's API
reference as last read: https://fal.ai/models/fal-ai/kling-video/o1/reference-to-video/api; unverified here)."""
FAL["fal-ai/kling-video/o1/reference-to-video"] = Schema(
    ("prompt",), {"aspect_ratio": _RATIO3, "duration": ("5", "10")},
    {**_TEXT, "image_urls": list, "elements": list}, {"aspect_ratio": "16:9"})

REPLICATE: dict[str, Schema] = {
    "google/veo-3": Schema(("prompt",), {"aspect_ratio": ("16:9", "9:16")}, {**_TEXT, "image": str}),
    "bytedance/seedance-1-pro": Schema(
        ("prompt",), {"aspect_ratio": ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21"),
                      "duration": tuple(range(2, 13)), "resolution": _SEEDANCE_RES},
        {**_TEXT, "image": str}, {"resolution": "1080p"}),
    "kwaivgi/kling-v2.1": Schema(("prompt", "start_image"), {"duration": (5, 10)}, {**_TEXT, "start_image": str}),
    "kwaivgi/kling-v2.5-turbo-pro": Schema(("prompt",), {"aspect_ratio": _RATIO3, "duration": (5, 10)},
                                           {**_TEXT, "start_image": str}),
    "minimax/video-01": Schema(("prompt",), {}, {**_TEXT, "first_frame_image": str}),
    "bytedance/seedance-1.5-pro": Schema(
        ("prompt",), {"aspect_ratio": ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21"),
                      "duration": tuple(range(2, 13)), "resolution": _SEEDANCE_RES},
        {**_TEXT, "image": str}, {"resolution": "1080p"}),
    "minimax/hailuo-02": Schema(("prompt",), {"duration": (6, 10), "resolution": ("512p", "768p", "1080p")},
                                {"prompt": str, "first_frame_image": str, "last_frame_image": str,
                                 "prompt_optimizer": bool}, {"resolution": "1080p"}),
    "wan-video/wan-2.5-t2v": Schema(
        ("prompt",), {"size": ("832*480", "480*832", "1280*720", "720*1280", "1920*1080", "1080*1920"),
                      "duration": (5, 10)},
        {**_TEXT, "negative_prompt": str, "audio": str, "enable_prompt_expansion": bool}),
    "kwaivgi/kling-v1.6-standard": Schema(("prompt",), {"aspect_ratio": _RATIO3, "duration": (5, 10)},
                                          {**_TEXT, "start_image": str, "reference_images": list}),
}
REPLICATE_REFERENCE_CAP = 4
"""Kling 1.6's `reference_images` on Replicate: up to 4 (https://replicate.com/kwaivgi/kling-v1.6-standard, as last
read; unverified here)."""
for _model in ("google/veo-3.1", "google/veo-3.1-fast"):
    REPLICATE[_model] = Schema(
        ("prompt",), {"aspect_ratio": ("16:9", "9:16"), "duration": (4, 6, 8), "resolution": ("720p", "1080p")},
        {**_TEXT, "image": str, "last_frame": str, "negative_prompt": str, "generate_audio": bool},
        {"resolution": "1080p", "generate_audio": True})

_RW_TEXT = {"promptText": str, "seed": int, "model": str}
_RW_VEO = {"ratio": ("1280:720", "720:1280", "1080:1920", "1920:1080"), "duration": (4, 6, 8)}
RUNWAY_TEXT: dict[str, Schema] = {
    "gen4.5": Schema(("model", "promptText", "ratio", "duration"), {"ratio": ("1280:720", "720:1280")}, _RW_TEXT),
    "veo3.1": Schema(("model", "promptText", "ratio"), _RW_VEO, {**_RW_TEXT, "audio": bool}, {"audio": True}),
    "veo3.1_fast": Schema(("model", "promptText", "ratio"), _RW_VEO, {**_RW_TEXT, "audio": bool}, {"audio": True}),
    "kling3.0_pro": Schema(("model", "ratio"), {"ratio": ("1920:1080", "1080:1920", "1440:1440")},
                           {**_RW_TEXT, "audio": bool, "cfgScale": float}),
    "kling2.5_turbo_pro": Schema(("model", "promptText"), {"ratio": ("1920:1080", "1440:1440", "1080:1920",
                                 "1280:720", "720:720", "720:1280"), "duration": (5, 10)}, _RW_TEXT),
}
RUNWAY_TEXT["seedance2"] = Schema(
    ("model", "promptText"), {"ratio": ("1280:720", "720:1280", "960:960", "1920:1080", "1080:1920")},
    {**_RW_TEXT, "audio": bool, "references": list})
RUNWAY_REFERENCE_CAP = {"seedance2": 9}
"""References per model, as the SDK's create types say ("An optional array of image references (up to 9)")."""
_RW_IMAGE = {**_RW_TEXT, "promptImage": str}
_GEN4_RATIOS = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
RUNWAY_IMAGE: dict[str, Schema] = {
    "gen4.5": Schema(("model", "promptImage", "ratio", "duration"), {"ratio": _GEN4_RATIOS}, _RW_IMAGE),
    "gen4_turbo": Schema(("model", "promptImage", "ratio"), {"ratio": _GEN4_RATIOS}, {**_RW_IMAGE, "duration": int}),
    "veo3.1": Schema(("model", "promptImage", "ratio"), _RW_VEO, {**_RW_IMAGE, "audio": bool}, {"audio": True}),
    "veo3.1_fast": Schema(("model", "promptImage", "ratio"), _RW_VEO, {**_RW_IMAGE, "audio": bool}, {"audio": True}),
}
for _schemas in (RUNWAY_TEXT, RUNWAY_IMAGE):
    for _schema in _schemas.values():
        _schema.types.setdefault("duration", int)
