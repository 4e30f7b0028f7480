"""The library's core: items kept in the store's tables, checked as they are made, shared by processes."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image
from shell_free import shell_free

from dailies.config import Environment
from dailies.errors import ValidationError
from dailies.jobs import Job, JobRequest
from dailies.library import (
    Library,
    how_sent,
    images_sent,
    rerun_parameters,
    shot_from_library,
    with_asset,
    with_library,
    with_style,
)
from dailies.providers._vendor import capabilities_of
from dailies.providers.base import Capabilities, RemoteVideo
from dailies.providers.catalog import ModelSpec
from dailies.providers.openai_compat import OpenAICompatibleProvider
from dailies.store import JobStore
from dailies.studio import Studio
from dailies.validation import validate_request

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "library_worker.py"


def png(colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (72, 128), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def library(isolated_home: Path) -> Library:
    return Library(JobStore(isolated_home / "jobs.json"), isolated_home)


def test_items_are_kept_named_tagged_and_found_again_by_another_store(library: Library, isolated_home: Path) -> None:
    prompt = library.add_prompt("  Lighthouse   opener ", "A lighthouse at dusk", "client, spring, client")
    style = library.add_style("Warm film", "35mm film grain, warm grade", ["look"])
    asset = library.add_asset("Mara", [("mara front.png", png()), ("mara side.PNG", png((10, 20, 30)))], "cast")

    again = Library(JobStore(isolated_home / "jobs.json"), isolated_home)
    assert [(i.name, i.tags, i.text) for i in again.items("prompt")] == [
        ("Lighthouse opener", ("client", "spring"), "A lighthouse at dusk")]
    assert again.require("style", style.id).text == "35mm film grain, warm grade"
    kept = again.require("asset", asset.id)
    assert [Path(p).parent for p in kept.images] == [isolated_home / "library" / asset.id] * 2
    assert all(Path(p).read_bytes().startswith(b"\x89PNG") for p in kept.images)
    assert again.items("prompt", tag="spring") == [again.require("prompt", prompt.id)]
    assert again.items("prompt", tag="look") == []
    assert again.tags() == ["cast", "client", "look", "spring"]

    again.rename("prompt", prompt.id, "Opener")
    again.retag("prompt", prompt.id, ["final"])
    again.rewrite("prompt", prompt.id, "A lighthouse at dawn")
    library.store.refresh()  # what the other store wrote, read now rather than when the file watch tells
    assert (library.require("prompt", prompt.id).name, library.require("prompt", prompt.id).tags,
            library.require("prompt", prompt.id).text) == ("Opener", ("final",), "A lighthouse at dawn")
    again.delete("asset", asset.id)
    library.store.refresh()
    assert library.get("asset", asset.id) is None and again.items("asset") == []
    assert all(Path(p).is_file() for p in kept.images), "takes sent with it can be sent again"


def test_what_cannot_be_kept_is_refused_with_what_to_do(library: Library, isolated_home: Path) -> None:
    with pytest.raises(ValidationError, match="Give the prompt a name"):
        library.add_prompt("  ", "words")
    with pytest.raises(ValidationError, match="The style is empty"):
        library.add_style("Look", "   ")
    with pytest.raises(ValidationError, match="at least one image"):
        library.add_asset("Mara", [])
    with pytest.raises(ValidationError, match="not an image"):
        library.add_asset("Mara", [("good.png", png()), ("fake.png", b"not a picture at all")])
    with pytest.raises(ValidationError, match=r"not 'notes\.txt'"):
        library.add_asset("Mara", [("notes.txt", png())])
    assert library.items("asset") == [], "a refused asset is not kept"
    assert not any((isolated_home / "library").glob("*/*")), "nor are its images"
    gone = library.add_prompt("Gone", "words")
    library.delete("prompt", gone.id)
    with pytest.raises(ValidationError, match="no longer in the library"):
        library.rename("prompt", gone.id, "Back")


def test_a_style_is_added_once_and_a_batch_or_shot_takes_the_choices(library: Library) -> None:
    assert with_style("A boat, ", "film grain") == "A boat, film grain"
    assert with_style("A boat, film grain", "film grain") == "A boat, film grain"
    assert with_style("", "film grain") == "film grain"
    prompt, style = library.add_prompt("Boat", "A paper boat"), library.add_style("Grain", "film grain")
    rows = with_library([(2, {"prompt": "A kite"}), (3, {"prompt": ""})], prompt, style)
    assert [fields["prompt"] for _, fields in rows] == ["A kite, film grain", "A paper boat, film grain"]
    asset = library.add_asset("Pond", [("pond.png", png())])

    class Picked:
        pass

    picked = Picked()
    picked.prompt, picked.style, picked.asset = prompt, style, asset
    assert shot_from_library(picked) == {"prompt": "A paper boat, film grain", "name": "Boat",
                                         "asset": {"id": asset.id, "name": "Pond", "images": list(asset.images)}}


def test_a_model_without_reference_images_refuses_an_asset_before_anything_is_sent(library: Library) -> None:
    caps = capabilities_of([ModelSpec("words-only", {"1280x720": "16:9"}, (5,), 0.1, image=False),
                            ModelSpec("frames", {"1280x720": "16:9"}, (5,), 0.1, image=True)],
                           delete=False, unsupported={})
    asset = library.add_asset("Mara", [("a.png", png()), ("b.png", png((1, 2, 3)))])
    request = JobRequest(prompt="Mara walks", model="words-only", size="1280x720", seconds=5,
                         reference_path=asset.images[0])
    with pytest.raises(ValidationError, match="words-only takes no reference image"):
        validate_request(request, caps)
    assert images_sent(asset, caps, "words-only") == ()
    validate_request(JobRequest(prompt="Mara walks", model="frames", size="1280x720", seconds=5,
                                reference_path=asset.images[0]), caps)
    assert images_sent(asset, caps, "frames") == asset.images[:1], "one opening frame: the first image"


def test_run_again_reads_a_takes_exact_parameters() -> None:
    job = Job(id="video_1", provider="studio-b", model="sora-2-pro", prompt="A kite", size="1792x1024", seconds=8,
              params={"seed": 42, "reference_path": "/refs/kite.png", "audio": False,
                      "reference_images": ["/refs/mara.png", "/refs/mara-side.png"]})
    assert rerun_parameters(job) == {"job_id": "video_1", "prompt": "A kite", "model": "sora-2-pro",
                                     "size": "1792x1024", "seconds": 8, "high_res": True, "seed": 42,
                                     "reference_path": "/refs/kite.png", "provider": "studio-b", "audio": False,
                                     "reference_images": ["/refs/mara.png", "/refs/mara-side.png"],
                                     "library_asset": {}}
    assert rerun_parameters(Job(id="video_2", provider="p", model="m", prompt="p", size="1280x720",
                                seconds=4))["audio"] is True, "a take from before the choice had sound"
    job = Job(id="video_1", provider="studio-b", model="sora-2-pro", prompt="A kite", size="1792x1024", seconds=8,
              params={"seed": 42, "reference_path": "/refs/kite.png", "reference_images": ["/lib/1-a.png"],
                      "library_asset_id": "asset_1", "library_asset_name": "Kite"})
    assert rerun_parameters(job) == {"job_id": "video_1", "prompt": "A kite", "model": "sora-2-pro",
                                     "size": "1792x1024", "seconds": 8, "high_res": True, "seed": 42,
                                     "reference_path": "/refs/kite.png", "reference_images": ["/lib/1-a.png"],
                                     "library_asset": {"id": "asset_1", "name": "Kite"}, "provider": "studio-b",
                                     "audio": True}


class SubjectReferences(OpenAICompatibleProvider):
    """The real OpenAI-compatible provider on the real engine, declaring (as Veo 3.1 does) that sora-2-pro takes
    two subject references, and keeping every request it is handed: what an adapter that sends them is given.
    The engine's /v1/videos has no field for them, so on the wire only an opening frame goes."""

    handed: ClassVar[list[JobRequest]] = []

    def capabilities(self) -> Capabilities:
        return dataclasses.replace(super().capabilities(), reference_images_by_model={"sora-2-pro": 2})

    def submit(self, request: JobRequest, *, source_remote_id: str | None = None) -> RemoteVideo:
        self.handed.append(request)
        return super().submit(request, source_remote_id=source_remote_id)


def test_an_asset_goes_to_each_model_the_way_it_takes_references_and_the_take_says_which(
        library: Library, isolated_home: Path, engine, monkeypatch) -> None:
    monkeypatch.setattr("dailies.providers.configured.OpenAICompatibleProvider", SubjectReferences)
    monkeypatch.setattr(SubjectReferences, "handed", [])
    studio = Studio(Environment(home=isolated_home), engine_base_url=engine.base_url)
    try:
        caps = studio.capabilities()
        asset = Library(studio.store, studio.home).add_asset(
            "Mara", [("mara front.png", png()), ("mara side.png", png((1, 2, 3))), ("mara back.png", png((9, 9, 9)))])
        base = JobRequest(prompt="Mara walks on the pier", model="sora-2-pro", size="1280x720", seconds=4)

        # A model that takes subject references: as many of the asset's images as it takes, no opening frame.
        refs = studio.submit(with_asset(base, asset, caps))
        assert SubjectReferences.handed[-1].reference_images == list(asset.images[:2])
        assert SubjectReferences.handed[-1].reference_path is None
        assert refs.params == {"reference_images": list(asset.images[:2]),
                               "reference_image_names": ["1-mara-front.png", "2-mara-side.png"],
                               "library_asset_id": asset.id, "library_asset_name": "Mara"}
        assert how_sent(asset, caps, "sora-2-pro") == "sora-2-pro is sent 2 of its 3 images as subject references."

        # A model that takes an opening frame only: the first image, as today.
        frame = studio.submit(with_asset(dataclasses.replace(base, model="sora-2"), asset, caps))
        assert (frame.params["reference_path"], frame.params["library_asset_name"]) == (asset.images[0], "Mara")
        assert "reference_images" not in frame.params
        assert how_sent(asset, caps, "sora-2").startswith("sora-2 is sent its first image as the opening frame")

        # An opening frame of one's own beside the asset: only a model that takes subject references takes both.
        upload = isolated_home / "frame.png"
        upload.write_bytes(png((50, 60, 70)))
        both = with_asset(dataclasses.replace(base, model="sora-2", reference_path=str(upload)), asset, caps)
        said = "sora-2 takes no subject reference images (only an opening frame): choose a model that takes them, " \
               "or take the asset off."
        assert studio.preflight(both).problems == (said,), "said before launch"
        before = (len(studio.store), len(SubjectReferences.handed))
        with pytest.raises(ValidationError, match=re.escape(said)):
            studio.submit(both)
        too_many = dataclasses.replace(base, reference_images=list(asset.images))
        with pytest.raises(ValidationError, match="sora-2-pro takes up to 2 subject reference images, not 3: "
                                                        "take 1 off"):
            studio.submit(too_many)
        assert (len(studio.store), len(SubjectReferences.handed)) == before, "nothing recorded, nothing sent"
        with_frame = studio.submit(with_asset(dataclasses.replace(base, reference_path=str(upload)), asset, caps))
        assert (with_frame.params["reference_path"], with_frame.params["reference_images"]) == (
            str(upload), list(asset.images[:2]))

        # A retry sends the same references again, naming the same asset.
        again = studio.retry(refs.id)
        assert SubjectReferences.handed[-1].reference_images == list(asset.images[:2])
        assert (again.params["reference_images"], again.params["library_asset_id"]) == (
            list(asset.images[:2]), asset.id)
        assert all(isinstance(v, str | list) for v in refs.params.values()), "names and paths, never bytes"
    finally:
        studio.close()


def test_two_processes_adding_items_at_once_both_keep_theirs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shared = Library(JobStore(home / "jobs.json"), home).add_style("shared look", "soft light")
    env = shell_free()
    env.update({"DAILIES_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    workers = [subprocess.Popen([sys.executable, str(WORKER), str(home), name, "25", shared.id], cwd=ROOT, env=env,
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for name in ("ana", "ben")]
    (home / "go").touch()
    outputs = [w.communicate(timeout=120) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    acked = [[line.split()[1] for line in out.splitlines() if line.startswith("ack ")] for out, _ in outputs]
    assert [len(ids) for ids in acked] == [50, 50]

    library = Library(JobStore(home / "jobs.json"), home)
    prompts = {item.id: item for item in library.items("prompt")}
    styles = {item.id: item for item in library.items("style")}
    assert len(prompts) == 50 and len(styles) == 51
    for name, ids in zip(("ana", "ben"), acked, strict=True):
        kept = [prompts.get(i) or styles[i] for i in ids]
        assert all(item.name.startswith(name) for item in kept)
    both = styles[shared.id]
    assert (both.name, both.tags, both.text) == ("shared look, renamed by ana", ("ben",), "soft light"), \
        "one process's rename and the other's tags both survive"
