"""A reference image uploaded with a pipeline API order is kept only once its take is recorded: a refused
order (validation, moderation, the provider), a conflicting key or a replay leaves nothing in `uploads/`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from dailies.errors import APIError, RequestRefused, ValidationError
from dailies.pipeline import Pipeline, body_digest, fetch_public_image
from dailies.studio import Studio


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (720, 1280), (30, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def uploads(studio: Studio) -> list[str]:
    folder = studio.home / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def order(pipeline: Pipeline, fields: dict, key: str | None = None):
    upload = ("card.png", png())
    return pipeline.order(pipeline.parse(fields, upload), key, body_digest(fields, upload))


@pytest.mark.parametrize("fields", [
    {"prompt": "gore on a beach", "seconds": "4", "size": "720x1280"},  # moderation
    {"prompt": "a blue card", "seconds": "5", "size": "720x1280"},  # a length the model does not make
    {"prompt": "a blue card", "seconds": "4", "size": "333x333"},  # a size it does not make
])
def test_a_refused_order_leaves_no_upload(studio: Studio, engine, fields: dict) -> None:
    with pytest.raises(RequestRefused):
        order(Pipeline(studio), fields)
    assert uploads(studio) == []
    assert not engine.engine.book.listed()


def test_a_provider_refusal_leaves_no_upload(studio: Studio, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise APIError("the provider said no", status_code=400)

    monkeypatch.setattr(studio, "submit", refuse)
    with pytest.raises(APIError):
        order(Pipeline(studio), {"prompt": "a blue card", "seconds": "4", "size": "720x1280"})
    assert uploads(studio) == []


def test_a_recorded_take_keeps_its_upload_and_a_replay_or_conflict_leaves_none(studio: Studio) -> None:
    fields = {"prompt": "a blue card", "seconds": "4", "size": "720x1280"}
    job, _, made = order(Pipeline(studio), fields, key="k-1")
    assert made and uploads(studio) == [Path(job.params["reference_path"]).name]
    again, _, made_again = order(Pipeline(studio), fields, key="k-1")
    assert (again.id, made_again) == (job.id, False)
    with pytest.raises(RequestRefused):
        order(Pipeline(studio), {**fields, "prompt": "another card"}, key="k-1")
    assert uploads(studio) == [Path(job.params["reference_path"]).name], "only the recorded take's image"
    assert Path(job.params["reference_path"]).is_file()


@pytest.mark.parametrize("url", ["https://224.0.0.1/a.png", "https://[::ffff:10.0.0.1]/a.png",
                                 "https://169.254.169.254/a.png", "https://localhost/a.png"])
def test_a_reference_url_on_a_private_or_multicast_address_is_not_fetched(url: str) -> None:
    with pytest.raises(ValidationError, match="private network"):
        fetch_public_image(url)
