"""Bad input to the core: a clear message, nothing sent, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from dailies.config import Environment
from dailies.errors import ValidationError
from dailies.jobs import JobKind
from dailies.media import MediaLibrary
from dailies.store import JobStore
from dailies.studio import Studio


@pytest.fixture
def studio(isolated_home: Path, shared_engine) -> Studio:
    made = Studio(Environment(home=isolated_home), engine_base_url=shared_engine.base_url)
    yield made
    made.close()


@pytest.mark.parametrize("action", ["review", "retry", "redownload", "recheck", "delete", "request_from", "takes_of"])
def test_an_unknown_job_id_is_named_and_nothing_changes(studio: Studio, action: str) -> None:
    args = {"request_from": ("job_nope", JobKind.REMIX, "neon"), "takes_of": ("job_nope", 3)}.get(action, ("job_nope",))
    with pytest.raises(KeyError, match="job_nope"):
        getattr(studio if action in ("request_from", "takes_of") else studio.takes, action)(*args)
    assert len(studio.store) == 0
    assert all(job.id != "job_nope" for job in JobStore(studio.home / "jobs.json").all()), "nothing was written"


@pytest.mark.parametrize("job_id", ["../jobs", "..", "job/../../etc", "/etc/passwd", "job\x00", ""])
def test_ids_that_try_to_leave_the_media_folder_are_refused(tmp_path: Path, job_id: str) -> None:
    media = MediaLibrary(tmp_path / "media")
    with pytest.raises(ValidationError, match="not a valid job id"):
        media.job_dir(job_id)
    with pytest.raises(ValidationError):
        media.path_for(job_id, "video")


@pytest.mark.parametrize("relative", ["../settings.json", "job_1/../../jobs.json", "/etc/passwd"])
def test_stored_paths_outside_the_media_folder_are_refused(tmp_path: Path, relative: str) -> None:
    with pytest.raises(ValidationError):
        MediaLibrary(tmp_path / "media").resolve(relative)


def test_an_unknown_content_variant_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="expected one of video, thumbnail, spritesheet"):
        MediaLibrary(tmp_path / "media").path_for("job_1", "../../secrets")
