"""Building takes in one place (`dailies.studio.request_builders`): what every page, the CLI and storyboards get."""

from __future__ import annotations

import dailies.studio as studio_package
from dailies.jobs import Job, JobKind, JobRequest, JobStatus
from dailies.studio import numbered_takes
from dailies.studio.request_builders import again, more_takes, params_of


def base(**fields: object) -> JobRequest:
    return JobRequest(prompt="a kite", model="sora-2", size="1280x720", seconds=4, **fields)  # type: ignore[arg-type]


def test_one_take_with_no_group_asked_for_is_the_request_alone() -> None:
    request = base(seed=7)
    assert numbered_takes(request, 1) == [request]


def test_several_takes_are_one_numbered_group_with_a_run_of_seeds() -> None:
    takes = numbered_takes(base(seed=7, axes={"lighting": "dusk"}, tags=["a"]), 3)
    assert len({t.group_id for t in takes}) == 1 and takes[0].group_id
    assert [t.axes for t in takes] == [{"lighting": "dusk", "take": str(n)} for n in (1, 2, 3)]
    assert [t.seed for t in takes] == [7, 8, 9]
    takes[0].tags.append("b")
    assert takes[1].tags == ["a"], "each take has lists of its own"


def test_a_group_asked_for_numbers_even_one_take_and_a_requests_own_group_is_kept() -> None:
    assert numbered_takes(base(), 1, "grp_board")[0].axes == {"take": "1"}
    assert {t.group_id for t in numbered_takes(base(group_id="grp_grid"), 2)} == {"grp_grid"}


def test_a_take_sent_again_and_more_takes_carry_what_it_was_made_with() -> None:
    request = base(seed=3, reference_path="/refs/pier.png", audio=False, tags=["x"])
    job = Job(id="job_1", provider="engine", model="sora-2", prompt="a kite", kind=JobKind.GENERATE, size="1280x720",
              seconds=4, params=params_of(request), status=JobStatus.COMPLETED, tags=["x"])
    resent = again(job)
    assert (resent.seed, resent.reference_path, resent.audio) == (3, "/refs/pier.png", False)
    more = more_takes(job, 2)
    assert [t.seed for t in more] == [None, None], "more takes are fresh seeds"
    assert all(t.reference_path == "/refs/pier.png" and not t.audio for t in more)


def test_the_public_surface_imports() -> None:
    assert all(hasattr(studio_package, name) for name in studio_package.__all__)
