"""The native vendors as one declared table (`VENDORS`): kinds, labels, key variables, models, prices,
what each cannot do, and where its provider class is.

Kept apart from the provider modules so the registry, Settings and the pages can list kinds, name
key variables and show price tables without importing four SDKs (about 1.3 s together); a vendor's
SDK is imported only when a provider of that kind is built (`VendorCatalog.load`). Adding a vendor is
its catalogue here, its module (a `VendorProvider`), its fake in tests/fakes/, its test and its SDK in
pyproject.toml; a vendor from another package registers in the `dailies.providers` entry-point group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from typing import Any

from dailies.pricing import Rate
from dailies.providers._vendor import ModelSpec, rates_of

READ_ON = "2026-12-06"
"""The day the entries marked "read" below were last checked against their sources. This machine has no
network: a URL named as a source was read from a stored copy of that page (its text as indexed), an SDK
file from the installed package; a figure with neither says "unverified" and why."""


@dataclass(frozen=True)
class Retired:
    """A model a vendor no longer serves (or that newer ones replaced): not offered for new takes, but
    kept here so old takes of it still show their model and are still priced."""

    spec: ModelSpec
    since: str
    """The day it was retired, or what replaced it when the vendor gave no day."""


@dataclass(frozen=True)
class VendorCatalog:
    kind: str
    label: str
    key_variables: tuple[str, ...]
    """Checked in order; the first one set is the key."""
    models: Mapping[str, ModelSpec]
    """What is offered for new takes."""
    note: str = ""
    """Where the models and prices come from, and how sure we are."""
    retired: Mapping[str, Retired] = field(default_factory=dict)
    """Models no longer offered, still priced for the takes made with them."""
    not_offered: Mapping[str, str] = field(default_factory=dict)
    """Current models of this vendor this app does not offer, each with why (said in the README)."""
    provider: str = ""
    """Its provider class as an entry point names an object (`module:Class`), imported only by `load`."""
    title: str = ""
    """The kind as Settings lists it (its label and what it brings)."""
    supports: str = ""
    """What it can do, in a sentence for Settings and the README."""
    unsupported: Mapping[str, str] = field(default_factory=dict)
    """What it cannot do, by operation (`remix`, `extend`, `edit`, `delete`, `list`), in a person's words."""
    delete: bool = True
    """Videos can be deleted (or cancelled) at the vendor."""
    callbacks: bool = False
    """Each create can carry a callback URL, which the vendor signs."""
    extend_source: str = "file"
    """Where an extension's source must be (`Capabilities.extend_source`)."""
    key_required: bool = True
    """False when the vendor authenticates otherwise (Google: a Cloud project's credentials)."""

    def load(self) -> Any:
        """The provider class, its module (and SDK) imported now."""
        return EntryPoint(self.kind, self.provider, "dailies.providers").load()

    @property
    def default_rates(self) -> tuple[Rate, ...]:
        """Dollars per second per model, offered and retired, as `PriceList` takes them and Settings edits
        them: longest id first, because a rate matches by prefix (`fal-ai/veo3` would otherwise price a
        `fal-ai/veo3.1` take, and `veo3.1` a `veo3.1_fast` one)."""
        specs = [*self.models.values(), *(old.spec for old in self.retired.values())]
        return tuple(sorted(rates_of(specs), key=lambda rate: -len(rate.model_prefix)))


def _by_id(*specs: ModelSpec) -> dict[str, ModelSpec]:
    return {spec.id: spec for spec in specs}


def _retired(since: str, *specs: ModelSpec) -> dict[str, Retired]:
    return {spec.id: Retired(spec, since) for spec in specs}


# -- fal ---------------------------------------------------------------------------------------------
# Endpoint ids, inputs and prices from each endpoint's page on fal.ai (https://fal.ai/models/<id>/llms.txt,
# the machine-readable copy of the model page: pricing and input schema), read on READ_ON from stored
# copies; a figure not on such a page says "unverified". The fake's schemas (tests/fakes/schemas.py) are
# these inputs; the connection test reads fal's own per-endpoint OpenAPI and refuses what it does not take.

_FAL_WIDE_TALL = {"1280x720": "16:9", "720x1280": "9:16"}
_FAL_WIDE_TALL_SQUARE = {**_FAL_WIDE_TALL, "960x960": "1:1"}
_FAL_720_1080 = {**_FAL_WIDE_TALL, "1920x1080": "16:9", "1080x1920": "9:16"}
_AT_720P = {"1280x720": "720p", "720x1280": "720p", "960x960": "720p"}
"""Seedance and Wan render 1080p unless told otherwise (fal and Replicate both default `resolution` to 1080p):
every size we offer for them is a 720p one, so `resolution: 720p` is always sent."""
_AT_720P_1080P = {"1280x720": "720p", "720x1280": "720p", "1920x1080": "1080p", "1080x1920": "1080p"}
_KLING_FAL = {"text": "text-to-video", "image": "image-to-video", "seconds": "{}"}
_FAL_MODELS = _by_id(
    ModelSpec("fal-ai/kling-video/v2.6/pro", _FAL_WIDE_TALL_SQUARE, (5, 10), 0.14, audio=True,
              audio_input="generate_audio", silent_usd_per_second=0.07, options=_KLING_FAL,
              source=f"read {READ_ON}: https://fal.ai/models/fal-ai/kling-video/v2.6/pro/text-to-video/llms.txt, "
                     "$0.07/s audio off, $0.14/s audio on (generate_audio sent as the take chooses); text only "
                     "here: fal's newer Kling image endpoints take start_image_url "
                     "(https://fal.ai/explore/image-to-video-apis), the fal provider sends image_url"),
    ModelSpec("fal-ai/kling-video/v2.5-turbo/pro", _FAL_WIDE_TALL_SQUARE, (5, 10), 0.07, image=True,
              options=_KLING_FAL,
              source="unverified: ~$0.07/s (no audio) as third-party catalogues report it (PROVIDERS.md §7); "
                     "fal's own page not read"),
    ModelSpec("fal-ai/bytedance/seedance/v1.5/pro", _FAL_WIDE_TALL_SQUARE, tuple(range(4, 13)), 0.05,
              image=True, audio=True, audio_input="generate_audio",
              options={"text": "text-to-video", "image": "image-to-video", "seconds": "{}"},
              resolutions=_AT_720P,
              source="endpoint read 2026-12-05 from https://fal.ai/docs/model-api-reference/video-generation-"
                     "api/bytedance-seedance-v1.5-pro.md; 720p with audio price unverified (not on that page)"),
    ModelSpec("fal-ai/veo3.1", _FAL_720_1080, (4, 6, 8), 0.40, image=True, audio=True,
              audio_input="generate_audio", silent_usd_per_second=0.20,
              options={"text": "", "image": "image-to-video", "seconds": "{}s"},
              resolutions=_AT_720P_1080P,
              source=f"read {READ_ON}: https://fal.ai/models/fal-ai/veo3.1/llms.txt, $0.20/s without audio, $0.40/s "
                     "with (720p or 1080p; sent generate_audio as the take chooses and the resolution of the size "
                     "chosen)"),
    ModelSpec("fal-ai/veo3.1/fast", _FAL_720_1080, (4, 6, 8), 0.15, image=True, audio=True,
              audio_input="generate_audio", options={"text": "", "image": "image-to-video", "seconds": "{}s"},
              resolutions=_AT_720P_1080P,
              source="unverified: $0.15/s with audio is Veo 3 Fast's price on fal "
                     f"(https://fal.ai/models/fal-ai/veo3/fast/llms.txt, read {READ_ON}); 3.1 Fast's page not read"),
    ModelSpec("fal-ai/wan-25-preview", _FAL_WIDE_TALL_SQUARE, (5, 10), 0.10,
              options={"text": "text-to-video", "image": "image-to-video", "seconds": "{}"},
              resolutions=_AT_720P,
              source="unverified: ~$0.10/s at 720p; fal's page not read (Venice lists the same model at $0.55 "
                     "for 5 s at 720p: https://docs.venice.ai/models/wan-2-5-preview.md); text only here "
                     "(its image endpoint's inputs not read)"),
)
_FAL_RETIRED = {
    **_retired("2026-06-30 (Google retired Veo 3.0)",
               ModelSpec("fal-ai/veo3", _FAL_WIDE_TALL, (8,), 0.40, image=True, audio=True,
                         audio_input="generate_audio",
                         options={"text": "", "image": "image-to-video", "seconds": "{}s"},
                         source="audio on; price unverified (fal.ai/models/fal-ai/veo3)")),
    **_retired("superseded by Kling 2.5 Turbo Pro and 2.6 Pro",
               ModelSpec("fal-ai/kling-video/v2.1/master", _FAL_WIDE_TALL_SQUARE, (5, 10), 0.28, image=True,
                         options=_KLING_FAL, source="price unverified (fal.ai/models)")),
    **_retired("superseded by Seedance 1.5 Pro",
               ModelSpec("fal-ai/bytedance/seedance/v1/pro", _FAL_WIDE_TALL_SQUARE, (5, 10), 0.12, image=True,
                         options={"text": "text-to-video", "image": "image-to-video", "seconds": "{}"},
                         resolutions=_AT_720P, source="720p price unverified")),
}

FAL = VendorCatalog(
    "fal",
    "fal",
    ("FAL_KEY",),
    _FAL_MODELS,
    f"""fal endpoints by model family: `options["text"]`/`["image"]` are the endpoint's sub-path for each
kind of create, `["seconds"]` how the endpoint spells a duration ("5" or "8s"), `resolutions` the
`resolution` sent per size (Seedance, Wan and Veo 3.1 are told it; Seedance and Wan default to 1080p).
Prices per second as read on {READ_ON} from stored copies of fal's model pages (each model's `source` says
which, or "unverified"): check and edit them in Settings.""",
    _FAL_RETIRED,
    {
        "fal-ai/minimax/hailuo-02/standard": "its endpoints take no aspect_ratio (the 768p frame is fixed) and "
                                             "the fal provider sends one with every create; offered on Replicate",
        "fal-ai/kling-video/o1": "Kling O1 is reference- and edit-driven (elements, video input): not a plain "
                                 "text/image create",
        "bytedance/seedance-2.0": "on fal (https://fal.ai/explore/image-to-video-apis shows it), but its price and "
                                  "inputs were not read here",
    },
    provider="dailies.providers.fal:FalProvider",
    title="fal (Kling, Veo 3.1, Seedance, Wan on fal's queue)",
    supports="Text and image to video, 16:9/9:16/1:1 at 720p (Veo 3.1 also 1080p), cancel of a queued request; "
             "no delete, extend or list.",
    unsupported={
        "remix": "fal has no remix; each model has its own endpoints.",
        "extend": "fal's extension endpoints are per model and not offered here yet.",
        "edit": "fal's video-to-video endpoints are not offered here yet.",
        "delete": "fal's SDK can cancel a request but not delete its files.",
        "list": "fal's queue does not list requests.",
    },
    delete=False,
    callbacks=True,
)

# -- replicate ---------------------------------------------------------------------------------------
# Each model's version carries its `openapi_schema`, which the provider reads at connection-test time and
# checks every create against (an input the model lacks, a value out of its range: refused before
# sending), so an input name below that is wrong is caught at the connection test, not by the service.
# Read READ_ON with no network: ids and inputs as the models' pages were last seen; prices unverified.

_REPLICATE_WIDE_TALL = {"1280x720": "16:9", "720x1280": "9:16"}
_REPLICATE_WIDE_TALL_SQUARE = {**_REPLICATE_WIDE_TALL, "960x960": "1:1"}
_REPLICATE_720_1080 = {**_REPLICATE_WIDE_TALL, "1920x1080": "16:9", "1080x1920": "9:16"}
_REPLICATE_VEO = {"image": "image", "ratio": "aspect_ratio", "seconds": "duration", "resolution": "resolution"}
_REPLICATE_MODELS = _by_id(
    ModelSpec("google/veo-3.1", _REPLICATE_720_1080, (4, 6, 8), 0.40, image=True, audio=True,
              audio_input="generate_audio", options=_REPLICATE_VEO, resolutions=_AT_720P_1080P,
              source="unverified: Google's Veo 3.1 price with audio ($0.40/s, the README's Vertex table; fal's "
                     "page says the same); its generate_audio (on by default) is sent as the take chooses"),
    ModelSpec("google/veo-3.1-fast", _REPLICATE_720_1080, (4, 6, 8), 0.15, image=True, audio=True,
              audio_input="generate_audio", options=_REPLICATE_VEO, resolutions=_AT_720P_1080P,
              source="unverified: Google's Veo 3.1 Fast price with audio ($0.15/s); generate_audio (on by "
                     "default) is sent as the take chooses"),
    ModelSpec("kwaivgi/kling-v2.5-turbo-pro", _REPLICATE_WIDE_TALL_SQUARE, (5, 10), 0.07, image=True,
              options={"image": "start_image", "ratio": "aspect_ratio", "seconds": "duration"},
              source="unverified: id and price as last seen on replicate.com/kwaivgi"),
    ModelSpec("bytedance/seedance-1.5-pro", _REPLICATE_WIDE_TALL_SQUARE, (5, 10), 0.05, image=True,
              options={"image": "image", "ratio": "aspect_ratio", "seconds": "duration", "resolution": "resolution"},
              resolutions=_AT_720P,
              source="unverified: id and inputs as Seedance 1 Pro's on Replicate (the connection test checks them "
                     "against its published schema); price as fal's 720p"),
    ModelSpec("minimax/hailuo-02", {"1280x720": "16:9"}, (6, 10), 0.045, image=True,
              options={"image": "first_frame_image", "ratio": None, "seconds": "duration",
                       "resolution": "resolution"},
              resolutions={"1280x720": "768p"},
              source="unverified: ~$0.045/s at 768p; renders 1366x768 (16:9) for the 1280x720 asked, or the "
                     "first frame's shape; inputs as MiniMax's API names them (docs.comfy.org MinimaxHailuoVideoNode)"),
    ModelSpec("wan-video/wan-2.5-t2v", {"1280x720": "1280*720", "720x1280": "720*1280"}, (5, 10), 0.10,
              options={"ratio": "size", "seconds": "duration"},
              source="unverified: ~$0.10/s at 720p; text only (image→video is its own model, wan-2.5-i2v)"),
)
_REPLICATE_RETIRED = {
    **_retired("2026-06-30 (Google retired Veo 3.0)",
               ModelSpec("google/veo-3", _REPLICATE_WIDE_TALL, (8,), 0.40, image=True, audio=True,
                         options={"image": "image", "ratio": "aspect_ratio", "seconds": None},
                         source="audio on; $0.40/s after Google's 2025 Veo 3 price cut, unverified")),
    **_retired("superseded by Seedance 1.5 Pro",
               ModelSpec("bytedance/seedance-1-pro", _REPLICATE_WIDE_TALL_SQUARE, (5, 10), 0.06, image=True,
                         options={"image": "image", "ratio": "aspect_ratio", "seconds": "duration",
                                  "resolution": "resolution"},
                         resolutions=_AT_720P, source="720p price unverified")),
    **_retired("superseded by Kling 2.5 Turbo Pro",
               ModelSpec("kwaivgi/kling-v2.1", _REPLICATE_WIDE_TALL_SQUARE, (5, 10), 0.05, text=False, image=True,
                         options={"image": "start_image", "ratio": None, "seconds": "duration"},
                         source="price unverified")),
    **_retired("superseded by Hailuo 02",
               ModelSpec("minimax/video-01", {"1280x720": "16:9"}, (6,), 0.08, image=True,
                         options={"image": "first_frame_image", "ratio": None, "seconds": None},
                         source="price unverified")),
}

REPLICATE = VendorCatalog(
    "replicate",
    "Replicate",
    ("REPLICATE_API_TOKEN",),
    _REPLICATE_MODELS,
    f"""Replicate video models with each one's input names. The ids, inputs and per-second prices come from
their model pages as last seen ({READ_ON}, no network: see each model's `source`), not from an invoice
(Replicate prices some models per clip or per GPU second): check and edit them in Settings. A model
whose `ratio` input is None renders the size named and takes no aspect-ratio input; one whose `seconds`
input is None has a fixed length; `resolution` names the input that takes `resolutions`. The connection
test reads each model's published input schema, and a create it would refuse is refused here first.""",
    _REPLICATE_RETIRED,
    {"wan-video/wan-2.5-i2v": "its inputs were not read here (text-to-video Wan 2.5 is offered)"},
    provider="dailies.providers.replicate:ReplicateProvider",
    title="Replicate (Veo 3.1, Seedance, Kling, Hailuo, Wan)",
    supports="Text and image to video per model, progress from logs, cancel; no extend or remix.",
    unsupported={
        "remix": "Replicate has no remix; each model takes its own inputs.",
        "extend": "Replicate has no general extension of a finished video.",
        "edit": "Replicate's video-to-video models are not offered here yet.",
        "list": "Listing predictions is not used to find lost jobs here.",
    },
    callbacks=True,
)

# -- runway ------------------------------------------------------------------------------------------
# Models, ratios, durations and the `audio` flag from the SDK's own create types
# (runwayml 5.24.0: types/text_to_video_create_params.py, types/image_to_video_create_params.py),
# read READ_ON. Credits per second at $0.01 a credit, from Runway's pricing page as recalled:
# unverified here (https://docs.dev.runwayml.com/guides/pricing/; the SDK carries no prices).

_RUNWAY_LANDSCAPE_PORTRAIT = {"1280x720": "1280:720", "720x1280": "720:1280"}
_RUNWAY_720_1080 = {**_RUNWAY_LANDSCAPE_PORTRAIT, "1920x1080": "1920:1080", "1080x1920": "1080:1920"}
_RUNWAY_MODELS = _by_id(
    ModelSpec("gen4.5", _RUNWAY_LANDSCAPE_PORTRAIT, tuple(range(2, 11)), 0.12, image=True,
              source="12 credits/s, unverified"),
    ModelSpec("gen4_turbo",
              {**_RUNWAY_LANDSCAPE_PORTRAIT, "1104x832": "1104:832", "832x1104": "832:1104", "960x960": "960:960",
               "1584x672": "1584:672"},
              (5, 10), 0.05, text=False, image=True, source="5 credits/s, unverified"),
    ModelSpec("veo3.1", _RUNWAY_720_1080, (4, 6, 8), 0.40, image=True, audio=True, audio_input="audio",
              source="40 credits/s with audio on (the adapter sends audio as the take chooses), unverified"),
    ModelSpec("veo3.1_fast", _RUNWAY_720_1080, (4, 6, 8), 0.15, image=True, audio=True, audio_input="audio",
              source="15 credits/s with audio on (the adapter sends audio as the take chooses), unverified"),
    ModelSpec("kling3.0_pro", {"1920x1080": "1920:1080", "1080x1920": "1080:1920"}, (5, 10), 0.17, audio=True,
              audio_input="audio",
              source="ratios and inputs from runwayml 5.24.0 (Kling3_0Pro); text only here (its image-to-video "
                     "takes no ratio: the output follows the image); unverified: ~$0.168/s with audio as a "
                     "third-party page gives Kling 3.0 Pro's own price (kling31api.org), Runway's credits not read"),
    ModelSpec("kling2.5_turbo_pro", _RUNWAY_720_1080, (5, 10), 0.07,
              source="text-to-video only here (its image-to-video takes no ratio: the output follows the image); "
                     "price unverified"),
)

RUNWAY = VendorCatalog(
    "runway",
    "Runway",
    ("RUNWAYML_API_SECRET",),
    _RUNWAY_MODELS,
    f"""Runway models with their ratios and durations as the SDK's create types name them (runwayml 5.24.0,
read {READ_ON}). Prices are Runway credits per second at $0.01 a credit, from Runway's pricing page as
recalled (unverified here, no network): edit them in Settings. Veo 3.1's and Kling 3.0 Pro's `audio` is sent
as the take chooses; their silent prices are not known here, so a silent take is estimated at the sound price (add
`veo3.1@silent` in Settings).""",
    {},
    {
        "gen4_aleph": "video-to-video (an edit of a video): not a create literal in runwayml 5.24.0, where aleph2 "
                      "replaced it on /v1/video_to_video, and the Runway provider offers text and image to video only",
        "aleph2": "video-to-video edit (/v1/video_to_video): the Runway provider offers no edit",
        "seedance2, hailuo3, wan3, kling_4 and the rest of 5.24.0's literals": "in the SDK's types but with no "
                                                                              "price on this machine: not offered "
                                                                              "until one is read",
    },
    provider="dailies.providers.runway:RunwayProvider",
    title="Runway (Gen-4.5, Gen-4 Turbo, Veo 3.1, Kling)",
    supports="Text and image to video, progress, cancel and delete of tasks; no extend or list.",
    unsupported={
        "remix": "Runway has no remix of a finished task.",
        "extend": "Runway's API has no extension of a finished video.",
        "edit": "Runway's video-to-video models are not offered here yet.",
        "list": "Runway's API does not list tasks.",
    },
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

_GOOGLE_RETIRED_SPECS = {
    **_retired("2026-06-30",
               ModelSpec("veo-3.0-generate-001", _GOOGLE_720_1080, (4, 6, 8), 0.40, image=True, audio=True,
                         source="with audio, after Google's 2025 price cut; as last published, unverified"),
               ModelSpec("veo-2.0-generate-001", {"1280x720": "16:9", "720x1280": "9:16"}, (5, 6, 7, 8), 0.50,
                         image=True, source="no audio; as last published, unverified")),
}
GOOGLE_RETIRED: dict[str, str] = {model: old.since for model, old in _GOOGLE_RETIRED_SPECS.items()}
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
    _GOOGLE_RETIRED_SPECS,
    {"veo-3.1-lite": "a lighter Veo 3.1 named by third-party pages; its Vertex id and price were not read here"},
    provider="dailies.providers.google:GoogleVeoProvider",
    title="Google Veo (Vertex AI, in a Google Cloud project)",
    supports="Veo 3.1 and 3.1 Fast: text and image to video, 720p/1080p, with audio; needs project (and location, "
             "credentials_file) in its definition where keys live; extension (+7 s, 720p) of a take in the team's "
             "bucket on Google Cloud Storage (Veo takes the source only from there); no cancel, delete or list.",
    unsupported={
        "remix": "Veo has no remix of a finished video.",
        "edit": "Veo's mask edits are not offered here yet.",
        "delete": "Veo's API has no cancel or delete of an operation.",
        "list": "Veo's API does not list operations.",
    },
    delete=False,
    extend_source="cloud_storage",
    key_required=False,
)


VENDORS: tuple[VendorCatalog, ...] = (FAL, REPLICATE, RUNWAY, GOOGLE)
"""The native vendors, in the order Settings lists them after the OpenAI-compatible kinds."""
