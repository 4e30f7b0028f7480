"""The native vendors' catalogues as data: kinds, labels, key variables, models and prices.

Kept apart from the provider modules so the registry, Settings and the pages can list kinds, name
key variables and show price tables without importing four SDKs (about 1.3 s together); a vendor's
SDK is imported only when a provider of that kind is built. Each provider module re-exports its
catalogue as `KIND`, `LABEL`, `KEY_VARIABLES`, `MODELS` and `DEFAULT_RATES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dailies.pricing import Rate
from dailies.providers._vendor import ModelSpec, rates_of


@dataclass(frozen=True)
class VendorCatalog:
    kind: str
    label: str
    key_variables: tuple[str, ...]
    """Checked in order; the first one set is the key."""
    models: Mapping[str, ModelSpec]
    note: str = ""
    """Where the models and prices come from, and how sure we are."""

    @property
    def default_rates(self) -> tuple[Rate, ...]:
        """Dollars per second per model, as `PriceList` takes them and Settings edits them."""
        return rates_of(self.models.values())


# -- fal ---------------------------------------------------------------------------------------------
# Read 2026-12-05, with no network on the machine that wrote this: endpoint ids and inputs from fal's
# model API reference pages as indexed (https://fal.ai/docs/model-api-reference/video-generation-api/...),
# prices "unverified" unless a figure says otherwise. Check them in Settings before a large run.

_FAL_WIDE_TALL = {"1280x720": "16:9", "720x1280": "9:16"}
_FAL_WIDE_TALL_SQUARE = {**_FAL_WIDE_TALL, "960x960": "1:1"}
_AT_720P = {"1280x720": "720p", "720x1280": "720p", "960x960": "720p"}
"""Seedance renders 1080p unless told otherwise (fal and Replicate both default `resolution` to 1080p):
every size we offer for it is a 720p one, so `resolution: 720p` is always sent."""
_FAL_MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec("fal-ai/kling-video/v2.1/master", _FAL_WIDE_TALL_SQUARE, (5, 10), 0.28, image=True,
                  options={"text": "text-to-video", "image": "image-to-video", "seconds": "{}"},
                  source="older model, superseded by Kling 2.5 Turbo Pro; price unverified (fal.ai/models)"),
        ModelSpec("fal-ai/veo3", _FAL_WIDE_TALL, (8,), 0.40, image=True, audio=True, audio_input="generate_audio",
                  options={"text": "", "image": "image-to-video", "seconds": "{}s"},
                  source="audio on; price unverified (fal.ai/models/fal-ai/veo3)"),
        ModelSpec("fal-ai/bytedance/seedance/v1/pro", _FAL_WIDE_TALL_SQUARE, (5, 10), 0.12, image=True,
                  options={"text": "text-to-video", "image": "image-to-video", "seconds": "{}"},
                  resolutions=_AT_720P,
                  source="older model, superseded by Seedance 1.5 Pro; 720p price unverified"),
        ModelSpec("fal-ai/kling-video/v2.5-turbo/pro", _FAL_WIDE_TALL_SQUARE, (5, 10), 0.07, image=True,
                  options={"text": "text-to-video", "image": "image-to-video", "seconds": "{}"},
                  source="unverified: ~$0.07/s as third-party catalogues report it (no audio), read 2026-12-05"),
        ModelSpec("fal-ai/bytedance/seedance/v1.5/pro", _FAL_WIDE_TALL_SQUARE, tuple(range(4, 13)), 0.05,
                  image=True, audio=True, audio_input="generate_audio",
                  options={"text": "text-to-video", "image": "image-to-video", "seconds": "{}"},
                  resolutions=_AT_720P,
                  source="endpoint read 2026-12-05 from https://fal.ai/docs/model-api-reference/video-generation-"
                         "api/bytedance-seedance-v1.5-pro.md; 720p with audio price unverified"),
    )
}

FAL = VendorCatalog(
    "fal",
    "fal",
    ("FAL_KEY",),
    _FAL_MODELS,
    """fal endpoints by model family: `options["text"]`/`["image"]` are the endpoint's sub-path for each
kind of create, `["seconds"]` how the endpoint spells a duration ("5" or "8s"), `resolutions` the
`resolution` sent per size (Seedance defaults to 1080p). Prices per second as read on 2026-12-05 with no
network (each model's `source` says how sure): check and edit them in Settings.""",
)

# -- replicate ---------------------------------------------------------------------------------------
# Read 2026-12-05 with no network: input names from the models' pages as last seen (each model's
# version carries its `openapi_schema`, which the provider reads at connection-test time and checks
# creates against); prices unverified unless said.

_REPLICATE_WIDE_TALL = {"1280x720": "16:9", "720x1280": "9:16"}
_REPLICATE_WIDE_TALL_SQUARE = {**_REPLICATE_WIDE_TALL, "960x960": "1:1"}
_REPLICATE_MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec("google/veo-3", _REPLICATE_WIDE_TALL, (8,), 0.40, image=True, audio=True,
                  options={"image": "image", "ratio": "aspect_ratio", "seconds": None},
                  source="audio on; $0.40/s after Google's 2025 Veo 3 price cut (was $0.75), unverified on "
                         "replicate.com/google/veo-3"),
        ModelSpec("bytedance/seedance-1-pro", _REPLICATE_WIDE_TALL_SQUARE, (5, 10), 0.06, image=True,
                  options={"image": "image", "ratio": "aspect_ratio", "seconds": "duration",
                           "resolution": "resolution"},
                  resolutions=_AT_720P,
                  source="720p price unverified (1080p is the model's default and costs more)"),
        ModelSpec("kwaivgi/kling-v2.1", _REPLICATE_WIDE_TALL_SQUARE, (5, 10), 0.05, text=False, image=True,
                  options={"image": "start_image", "ratio": None, "seconds": "duration"},
                  source="older model, superseded by Kling 2.5 Turbo Pro; price unverified"),
        ModelSpec("kwaivgi/kling-v2.5-turbo-pro", _REPLICATE_WIDE_TALL_SQUARE, (5, 10), 0.07, image=True,
                  options={"image": "start_image", "ratio": "aspect_ratio", "seconds": "duration"},
                  source="unverified: id and price as last seen on replicate.com/kwaivgi"),
        ModelSpec("minimax/video-01", {"1280x720": "16:9"}, (6,), 0.08, image=True,
                  options={"image": "first_frame_image", "ratio": None, "seconds": None},
                  source="older MiniMax model (Hailuo 02 and later are live); price unverified"),
    )
}

REPLICATE = VendorCatalog(
    "replicate",
    "Replicate",
    ("REPLICATE_API_TOKEN",),
    _REPLICATE_MODELS,
    """Replicate video models with each one's input names. The ids, inputs and per-second prices come from
their model pages as last read (2026-12-05, no network: see each model's `source`), not from an invoice
(Replicate prices some models per clip or per GPU second): check and edit them in Settings. A model
whose `ratio` input is None renders the size named and takes no aspect-ratio input; one whose `seconds`
input is None has a fixed length; `resolution` names the input that takes `resolutions`.""",
)

# -- runway ------------------------------------------------------------------------------------------
# Models, ratios, durations and the `audio` flag from the SDK's own create types
# (runwayml 5.24.0: types/text_to_video_create_params.py, types/image_to_video_create_params.py),
# read 2026-12-05. Credits per second at $0.01 a credit, from Runway's pricing page as recalled:
# unverified here (https://docs.dev.runwayml.com/guides/pricing/).

_RUNWAY_LANDSCAPE_PORTRAIT = {"1280x720": "1280:720", "720x1280": "720:1280"}
_RUNWAY_MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec("gen4.5", _RUNWAY_LANDSCAPE_PORTRAIT, tuple(range(2, 11)), 0.12, image=True,
                  source="12 credits/s, unverified"),
        ModelSpec(
            "gen4_turbo",
            {**_RUNWAY_LANDSCAPE_PORTRAIT, "1104x832": "1104:832", "832x1104": "832:1104", "960x960": "960:960",
             "1584x672": "1584:672"},
            (5, 10),
            0.05,
            text=False,
            image=True,
            source="5 credits/s, unverified",
        ),
        ModelSpec(
            "veo3.1",
            {**_RUNWAY_LANDSCAPE_PORTRAIT, "1920x1080": "1920:1080", "1080x1920": "1080:1920"},
            (4, 6, 8),
            0.40,
            image=True,
            audio=True,
            audio_input="audio",
            source="40 credits/s with audio on (the adapter sends audio: true), unverified",
        ),
        ModelSpec("veo3.1_fast", {**_RUNWAY_LANDSCAPE_PORTRAIT, "1920x1080": "1920:1080", "1080x1920": "1080:1920"},
                  (4, 6, 8), 0.15, image=True, audio=True, audio_input="audio",
                  source="15 credits/s with audio on (the adapter sends audio: true), unverified"),
        ModelSpec("kling2.5_turbo_pro",
                  {**_RUNWAY_LANDSCAPE_PORTRAIT, "1920x1080": "1920:1080", "1080x1920": "1080:1920"},
                  (5, 10), 0.07, source="text-to-video only here (its image-to-video takes no ratio: the "
                  "output follows the image); price unverified"),
    )
}

RUNWAY = VendorCatalog(
    "runway",
    "Runway",
    ("RUNWAYML_API_SECRET",),
    _RUNWAY_MODELS,
    """Runway models with their ratios and durations as the SDK's create types name them (runwayml 5.24.0,
read 2026-12-05). Prices are Runway credits per second at $0.01 a credit, from Runway's pricing page as
recalled (unverified here, no network): edit them in Settings. Veo 3.1's `audio` is sent as the take chooses;
its silent price is not known here, so a silent take is estimated at the sound price (add `veo3.1@silent` in
Settings).
Aleph (gen4_aleph) is video-to-video, which this app does not offer for Runway yet.""",
)

# -- google ------------------------------------------------------------------------------------------

_GOOGLE_720_1080 = {"1280x720": "16:9", "720x1280": "9:16", "1920x1080": "16:9", "1080x1920": "9:16"}
_GOOGLE_MODELS: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        ModelSpec("veo-3.1-generate-001", _GOOGLE_720_1080, (4, 6, 8), 0.40, image=True, audio=True, extend=True,
                  extend_seconds=(7,), silent_usd_per_second=0.20, audio_input="generate_audio",
                  subject_references=3),
        ModelSpec("veo-3.1-fast-generate-001", _GOOGLE_720_1080, (4, 6, 8), 0.15, image=True, audio=True, extend=True,
                  extend_seconds=(7,), silent_usd_per_second=0.10, audio_input="generate_audio"),
    )
}

GOOGLE_RETIRED: dict[str, str] = {
    "veo-3.0-generate-001": "2026-06-30",
    "veo-2.0-generate-001": "2026-06-30",
}
"""Veo models Google has retired, with the day: no longer offered, and refused by name before anything is sent."""

GOOGLE_PRICES_AS_OF = "2025-11"
GOOGLE_PRICES_SOURCE = "https://cloud.google.com/vertex-ai/generative-ai/pricing (Veo section)"

GOOGLE = VendorCatalog(
    "google",
    "Google Veo",
    (),
    _GOOGLE_MODELS,
    f"""Veo 3.1 and Veo 3.1 Fast on Vertex AI, in a Google Cloud project (the only mode google-genai 3.3.0
creates videos in). Dollars per second as {GOOGLE_PRICES_SOURCE} published them in {GOOGLE_PRICES_AS_OF}, the
same at 720p and 1080p: Veo 3.1 $0.40 with audio ($0.20 without), Veo 3.1 Fast $0.15 with audio ($0.10
without). Sound is the take's choice (`generate_audio` is sent either way) and the silent price is the rate of
a silent take. Veo 3.1 takes up to 3 subject reference images ("asset" references; the SDK's
`GenerateVideosConfig.reference_images`: not with an opening frame); Veo 3.1 Fast is not offered them here
(Google's model pages name only Veo 3.1 for reference-to-video: unverified for Fast). Not re-read from this
machine (no network when written): check the page before budgeting and edit the rates in Settings. 1080p
sizes ask for `resolution: 1080p`, the rest for 720p.
Retired models (`GOOGLE_RETIRED`) are not offered.""",
)
