"""The vendors' catalogues: current models, each priced with its source and date; retired ones not offered but
still priced; every new model made through its SDK against its vendor's fake (a real MP4); the published input
schemas read at the connection test cover the catalogue and refuse what the vendor would; the README's table
says what the catalogue says."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from dailies.errors import NotSupported
from dailies.pricing import PriceList
from dailies.providers import registry
from dailies.providers.catalog import FAL, GOOGLE, READ_ON, REPLICATE, RUNWAY
from dailies.providers.fal import FalProvider
from dailies.providers.replicate import ReplicateProvider
from tests.providers._helpers import follow_to_video, request, small_png

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = (FAL, REPLICATE, RUNWAY, GOOGLE)
NEW = {
    "fal": ("fal-ai/kling-video/v2.6/pro", "fal-ai/veo3.1", "fal-ai/veo3.1/fast", "fal-ai/wan-25-preview"),
    "replicate": ("google/veo-3.1", "google/veo-3.1-fast", "bytedance/seedance-1.5-pro", "minimax/hailuo-02",
                  "wan-video/wan-2.5-t2v"),
    "runway": ("kling3.0_pro",),
}
"""The models added when the catalogues were brought up to date (2026-12-06)."""


# -- dated, sourced, retired -------------------------------------------------------------------------


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda c: c.kind)
def test_every_price_says_where_it_comes_from_and_when_or_that_it_is_unverified(catalog) -> None:
    specs = [*catalog.models.values(), *(old.spec for old in catalog.retired.values())]
    for spec in specs:
        said = spec.source or catalog.note
        assert "unverified" in said or re.search(r"read 20\d\d-\d\d-\d\d", said) or "published" in catalog.note, spec.id
        if "read" in spec.source and "unverified" not in spec.source:  # a figure read is named with where
            assert re.search(r"https://|\.py\b", spec.source), spec.id
    assert READ_ON in catalog.note or catalog is GOOGLE  # Google's prices carry their own month (GOOGLE_PRICES_AS_OF)


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda c: c.kind)
def test_retired_models_are_not_offered_but_their_old_takes_are_still_priced(catalog) -> None:
    caps = registry.build_or_explain("mine", {"kind": catalog.kind}, {}.get).capabilities()
    prices = registry.prices(catalog.kind)
    assert not set(catalog.retired) & set(caps.models)
    for model, old in catalog.retired.items():
        size = next(iter(old.spec.sizes))
        assert prices.per_second(model, size) == old.spec.usd_per_second, model
    for model, spec in catalog.models.items():
        for size in spec.sizes:  # a retired id that prefixes a current one never prices it (fal-ai/veo3, veo3.1)
            assert prices.per_second(model, size) == spec.usd_per_second, (model, size)


def test_a_rate_is_matched_by_the_longest_id_so_fast_models_are_not_priced_as_their_elders() -> None:
    assert PriceList(registry.prices("runway").rates).per_second("veo3.1_fast", "1280x720") == 0.15
    assert PriceList(registry.prices("fal").rates).per_second("fal-ai/veo3.1/fast", "1280x720") == 0.15
    assert PriceList(registry.prices("replicate").rates).per_second("google/veo-3.1-fast", "1280x720") == 0.15
    assert PriceList(registry.prices("replicate").rates).per_second("google/veo-3", "1280x720") == 0.40  # retired


def test_a_retired_model_is_refused_before_anything_is_sent(fal, rep) -> None:
    fal_fake, fal_provider = fal
    rep_fake, rep_provider = rep
    with pytest.raises(NotSupported, match=re.escape("no model 'fal-ai/kling-video/v2.1/master'")):
        fal_provider.submit(request("fal-ai/kling-video/v2.1/master", "1280x720", 5))
    with pytest.raises(NotSupported, match=re.escape("no model 'minimax/video-01'")):
        rep_provider.submit(request("minimax/video-01", "1280x720", 6))
    assert fal_fake.requests == [] and rep_fake.requests == []


# -- each new model, through its SDK, against its fake ------------------------------------------------


def _make(provider, fake_requests, spec, tmp_path: Path, image: Path | None) -> None:
    size, seconds = next(iter(spec.sizes)), spec.seconds[0]
    created = provider.submit(request(spec.id, size, seconds, reference_path=str(image) if image else None))
    assert fake_requests(), "sent"
    follow_to_video(provider, created.remote_id, tmp_path / f"{spec.id.replace('/', '_')}.mp4")


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return small_png(tmp_path / "ref.png", (200, 120, 40))


@pytest.mark.parametrize("model", NEW["fal"])
def test_each_new_fal_model_is_made_through_the_sdk(fal, model: str, tmp_path: Path, image: Path) -> None:
    fake, provider = fal
    spec = FAL.models[model]
    _make(provider, lambda: fake.requests, spec, tmp_path, image if spec.image and not spec.text else None)
    if spec.image:
        _make(provider, lambda: fake.requests, spec, tmp_path, image)


@pytest.mark.parametrize("model", NEW["replicate"])
def test_each_new_replicate_model_is_made_through_the_sdk(rep, model: str, tmp_path: Path, image: Path) -> None:
    fake, provider = rep
    spec = REPLICATE.models[model]
    _make(provider, lambda: fake.requests, spec, tmp_path, None)
    if spec.image:
        _make(provider, lambda: fake.requests, spec, tmp_path, image)


@pytest.mark.parametrize("model", NEW["runway"])
def test_each_new_runway_model_is_made_through_the_sdk(runway, model: str, tmp_path: Path) -> None:
    fake, provider = runway
    _make(provider, lambda: fake.requests, RUNWAY.models[model], tmp_path, None)
    assert fake.requests[0].body["audio"] is True  # priced with audio: sent so, never left to a default


# -- published input schemas, read at the connection test ---------------------------------------------


def _schemas_read_at_health(provider: FalProvider | ReplicateProvider) -> set[str]:
    """The connection test passes and finds every schema it looked for: what it read, by endpoint or model."""
    said = provider.health()
    assert said.ok and "no published input schema" not in said.message, said.message
    return set(provider.published)


def test_fals_published_schemas_cover_the_catalogue_and_refuse_an_unknown_or_out_of_range_input(
    fal, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, provider = fal
    endpoints = {"/".join(p for p in (spec.id, spec.options[kind]) if p)
                 for spec in FAL.models.values() for kind in ("text", "image") if getattr(spec, kind)}
    assert _schemas_read_at_health(provider) == endpoints, "every catalogue endpoint's schema was read"

    kling = "fal-ai/kling-video/v2.5-turbo/pro"
    monkeypatch.setitem(provider.models, kling, dataclasses.replace(FAL.models[kling], seconds=(5, 7, 10)))
    with pytest.raises(NotSupported, match=r"duration: '7' is not one of '5', '10'"):
        provider.submit(request(kling, "1280x720", 7))
    monkeypatch.setitem(provider.models, kling, dataclasses.replace(
        FAL.models[kling], audio=True, audio_input="generate_audio"))
    with pytest.raises(NotSupported, match="generate_audio: not an input of this model"):
        provider.submit(request(kling, "1280x720", 5))
    assert fake.creates(f"/{kling}/text-to-video") == [], "refused before sending"


def test_replicates_published_schemas_cover_the_catalogue_and_refuse_an_unknown_or_out_of_range_input(
    rep, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, provider = rep
    assert _schemas_read_at_health(provider) == set(REPLICATE.models), "every catalogue model's schema was read"

    hailuo = REPLICATE.models["minimax/hailuo-02"]
    monkeypatch.setitem(provider.models, hailuo.id, dataclasses.replace(hailuo, seconds=(6, 8, 10)))
    with pytest.raises(NotSupported, match=r"duration: 8 is not one of 6, 10"):
        provider.submit(request(hailuo.id, "1280x720", 8))
    monkeypatch.setitem(provider.models, hailuo.id, dataclasses.replace(
        hailuo, options={**hailuo.options, "seconds": "length"}))
    with pytest.raises(NotSupported, match="length: not an input of this model"):
        provider.submit(request(hailuo.id, "1280x720", 6))
    assert fake.creates("/predictions") == [], "refused before sending"


# -- the README says what the catalogue says -----------------------------------------------------------


def _providers_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("### Providers")
    return text[start:text.index("\n## ", start)]


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda c: c.kind)
def test_the_readmes_provider_table_lists_each_model_with_its_price(catalog) -> None:
    section = _providers_section()
    rows = {line.split("|")[2].strip().strip("`"): line for line in section.splitlines()
            if line.startswith(f"| {catalog.label} |") or line.startswith(f"| {catalog.kind} |")}
    for model, spec in catalog.models.items():
        assert model in rows, f"{model} is not in the README's price table"
        assert _usd(spec.usd_per_second) == rows[model].split("|")[3].strip(), model
    for model in catalog.retired:
        assert model in rows and "retired" in rows[model], f"{model} is not marked retired in the README"


def _usd(price: float) -> str:
    """A price as the README's table writes it: two decimals, three when the third is not zero."""
    return f"{price:.2f}" if round(price, 2) == price else f"{price:.3f}"


def test_a_silent_rate_kept_in_settings_never_prices_a_longer_id_it_prefixes() -> None:
    """fal's Veo 3.1 has a silent price and Veo 3.1 Fast none: a silent Fast take is priced at Fast's own rate,
    not at `fal-ai/veo3.1@silent`, once Settings has kept the table."""
    prices = PriceList.from_table(PriceList(registry.prices("fal").rates).to_table())
    assert prices.estimate("fal-ai/veo3.1/fast", "1280x720", 8, audio=False) == pytest.approx(0.15 * 8)
    assert prices.estimate("fal-ai/veo3.1", "1280x720", 8, audio=False) == pytest.approx(0.20 * 8)
    assert prices.estimate("fal-ai/kling-video/v2.6/pro", "1280x720", 5, audio=False) == pytest.approx(0.07 * 5)
