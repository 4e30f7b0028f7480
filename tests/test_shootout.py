"""The shoot-out's fitting: what each model is asked for when one grid goes to several, and how it is said."""

from __future__ import annotations

import pytest

from dailies.errors import ValidationError
from dailies.providers._vendor import ModelSpec, capabilities_of
from dailies.providers.catalog import FAL, GOOGLE, RUNWAY
from dailies.review.shootout import Target, fit, fit_seconds, fit_size, targets_of


def caps(catalog):
    return capabilities_of(catalog.models.values(), delete=False, unsupported={})


def test_a_model_is_asked_for_its_own_shape_and_never_a_longer_clip() -> None:
    kling = fit(Target("fal", "fal-ai/kling-video/v2.5-turbo/pro"), caps(FAL), "1280x720", 8)
    assert (kling.size, kling.seconds, kling.vendor_size) == ("1280x720", 5, "16:9")
    assert kling.mapping == "1280x720 → 16:9 · 8 s → 5 s"
    gen = fit(Target("runway", "gen4.5"), caps(RUNWAY), "720x1280", 8)
    assert gen.mapping == "720x1280 → 720:1280 · 8 s"
    small = capabilities_of([ModelSpec("wide-tall-720", {"1280x720": "16:9", "720x1280": "9:16"}, (5, 6, 7, 8), 0.5)],
                            delete=False, unsupported={})
    fitted = fit(Target("x", "wide-tall-720"), small, "1080x1920", 4)
    assert (fitted.size, fitted.seconds) == ("720x1280", 5), "portrait stays portrait; too short: its shortest"
    assert fitted.mapping == "1080x1920 → 9:16 (720x1280) · 4 s → 5 s"
    veo = fit(Target("veo", "veo-3.1-fast-generate-001"), caps(GOOGLE), "1080x1920", 4)
    assert veo.mapping == "1080x1920 → 9:16 · 4 s"


def test_fitting_rules() -> None:
    assert fit_size(["1280x720", "720x1280", "960x960"], "1792x1024") == "1280x720"
    assert fit_size(["1280x720", "720x1280"], "960x960") == "1280x720", "no square: the model's first size"
    assert fit_seconds((5, 10), 12) == 10 and fit_seconds((4, 6, 8), 8) == 8 and fit_seconds((8,), 4) == 8
    with pytest.raises(ValidationError):
        fit_size([], "1280x720")


def test_targets_are_text_models_and_a_provider_without_a_key_says_why() -> None:
    targets, unavailable = targets_of({"rw": caps(RUNWAY), "fal": ValidationError("set FAL_KEY")})
    assert Target("rw", "gen4.5") in targets and Target("rw", "gen4_turbo") not in targets  # image only
    assert unavailable == {"fal": "set FAL_KEY"}
    assert Target.parse("fal/fal-ai/veo3.1") == Target("fal", "fal-ai/veo3.1")
    with pytest.raises(ValidationError, match="provider/model"):
        Target.parse("sora-2")
