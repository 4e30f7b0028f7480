"""Variants with "provider/model" as an axis: one base prompt to the engine and a fal model (its local
fake), each asked for what it takes, priced per provider before launch, labelled by model after."""

from __future__ import annotations

import dataclasses

import pytest
from page_helpers import no_exception

from dailies.jobs import JobStatus
from dailies.review.shootout import AXIS
from tests.fakes.fal import KEY as FAL_KEY
from tests.fakes.fal import FakeFal
from tests.server_side import define
from tests.until import wait_until

KLING = "fal-ai/kling-video/v2.5-turbo/pro"


@pytest.fixture
def fal(open_page, studio_of, monkeypatch):
    monkeypatch.setenv("FAL_KEY", FAL_KEY)
    with FakeFal() as fake:
        open_page("settings.py")  # the studio, as a first visit makes it
        define(studio_of(), "fal", "fal", fake.base_url)
        yield fake


def shown(element) -> str:
    return str(element.value).replace("\\", "")


def test_a_shootout_fits_each_model_and_prices_each_provider_before_launch(open_page, studio_of, fal) -> None:
    at = no_exception(open_page("variants.py"))
    at.text_area(key="v_base").input("A paper boat on a pond").run()
    at.segmented_control(key="v_seconds").set_value(8).run()
    at.segmented_control(key="v_size").set_value("1280x720").run()
    assert not [m for m in at.multiselect if m.key == "v_targets"], "other providers are asked only when wanted"
    at.toggle(key="v_shootout_on").set_value(True).run()
    assert f"fal/{KLING}" in at.multiselect(key="v_targets").options
    assert "fal/fal-ai/veo3.1" in at.multiselect(key="v_targets").options
    at.multiselect(key="v_targets").select(f"fal/{KLING}").run()
    no_exception(at)

    prices = next(d.value for d in at.dataframe if "sent as" in d.value.columns).set_index("provider/model")
    engine_model = at.selectbox(key="v_model").value
    assert prices.loc[f"fal/{KLING}", "sent as"] == "1280x720 → 16:9 · 8 s → 5 s"
    assert prices.loc[f"engine/{engine_model}", "sent as"] == "1280x720 · 8 s"
    assert prices.loc[f"fal/{KLING}", "cost"] == pytest.approx(4 * 5 * 0.07)
    assert prices.loc[f"engine/{engine_model}", "cost"] == 0
    assert at.button(key="v_launch").label == "Launch 8 takes"
    assert at.metric[-1].value == f"${4 * 5 * 0.07:.2f}"
    assert fal.requests == [] and len(studio_of().store) == 0, "nothing is sent before launch"


@pytest.mark.slow
def test_a_shootout_grid_completes_labelled_by_provider_and_model(open_page, studio_of, fal) -> None:
    at = open_page("variants.py")
    at.text_area(key="v_base").input("A paper boat on a pond").run()
    at.number_input(key="v_seeds").set_value(1).run()
    at.toggle(key="v_shootout_on").set_value(True).run()
    at.multiselect(key="v_targets").select(f"fal/{KLING}").run()
    at.button(key="v_launch").click().run()
    no_exception(at)
    shared = studio_of()
    jobs = shared.store.all()
    assert sorted(j.provider for j in jobs) == ["engine"] * 4 + ["fal"] * 4
    for job in jobs:
        assert job.axes[AXIS] == f"{job.provider}/{job.model}"
        assert AXIS not in job.prompt and "fal-ai" not in job.prompt, "the axis names the model, not the prompt"
    made = [r.body for r in fal.requests if r.method == "POST"]
    assert len(made) == 4 and {(b["aspect_ratio"], b["duration"]) for b in made} == {("9:16", "5")}
    wait_until(lambda: all(j.status is JobStatus.COMPLETED for j in shared.store.all()), 120, "every take done")

    at.run()
    labels = [shown(m) for m in at.markdown if "provider/model" in shown(m)]
    assert sum(f"provider/model: fal/{KLING}" in label for label in labels) == 4
    assert sum("provider/model: engine/" in label for label in labels) == 4
    assert len([v for v in at.get("video")]) == 8

    at.toggle(key="v_blind").set_value(True).run()
    assert not [m for m in at.markdown if "provider/model" in shown(m)], "a blind grid hides the models"


def test_a_vendor_without_its_key_is_said_plainly_and_nothing_is_sent(open_page, studio_of, monkeypatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    with FakeFal() as fake:
        open_page("settings.py")
        shared = studio_of()
        define(shared, "fal", "fal", fake.base_url)
        at = no_exception(open_page("variants.py"))
        at.text_area(key="v_base").input("A paper boat on a pond").run()
        no_exception(at)
        at.toggle(key="v_shootout_on").set_value(True).run()
        assert not [o for o in at.multiselect(key="v_targets").options if o.startswith("fal/")]
        assert any("fal is not offered" in shown(c) and "set FAL_KEY" in shown(c) for c in at.caption)

        shared.save_settings(dataclasses.replace(shared.settings, active_provider="fal"))
        at = no_exception(open_page("variants.py"))
        at.text_area(key="v_base").input("A paper boat on a pond").run()
        no_exception(at)
        assert any("set FAL_KEY" in shown(e) for e in at.error)
        assert at.button(key="v_launch").disabled
        assert fake.requests == [] and len(shared.store) == 0
