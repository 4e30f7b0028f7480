"""Compare's and Variants' choosers offer the newest few and what a search finds, never every take or grid."""

from __future__ import annotations

from page_helpers import no_exception

from dailies.choices import RECENT
from dailies.jobs import FileRecord, Job, JobStatus, new_job_id


def many_jobs(count: int, *, old_prompt: str) -> list[Job]:
    """`count` jobs, a grid each, one a second apart; the oldest has `old_prompt`."""
    jobs = []
    for n in range(count):
        job_id = new_job_id()
        jobs.append(Job(
            id=job_id, provider="engine", model="dailies-preview", size="720x1280", seconds=4,
            prompt=old_prompt if n == 0 else f"a paper boat on a pond, take {n}", created_at=1_000_000 + n,
            status=JobStatus.COMPLETED, group_id=f"grp_{n:04d}", axes={"take": "1"},
            files={"video": FileRecord(f"{job_id}/video.mp4", 10, "0" * 64)},
        ))
    return jobs


def test_variants_offers_the_newest_grids_and_finds_an_old_one(open_page, studio_of) -> None:
    at = open_page("generate.py")
    jobs = many_jobs(300, old_prompt="a lighthouse in fog")
    studio_of().store.insert_many(jobs)
    newest = jobs[-1].group_id
    at = no_exception(open_page("variants.py", query={"group": newest}))
    grid = at.selectbox(key="v_group")
    assert grid.value == newest
    assert len(grid.options) == RECENT, "the newest grids, not all 300"
    assert all("lighthouse" not in option for option in grid.options)
    assert any(c.value == f"Showing {RECENT} of 300: search to find the others." for c in at.caption)

    at.text_input(key="v_grid_search").input("lighthouse").run()
    no_exception(at)
    options = at.selectbox(key="v_group").options
    assert at.selectbox(key="v_group").value == newest, "the grid shown stays chosen while searching"
    assert len(options) == 2 and "lighthouse" in options[1]
    at.session_state["v_group"] = "grp_0000"  # picked (AppTest cannot click an option a format_func labels)
    at.run()
    no_exception(at)
    assert at.query_params["group"] == "grp_0000", "the old grid is open"


def test_compare_offers_recent_takes_and_finds_an_old_one(open_page, studio_of) -> None:
    at = open_page("generate.py")
    jobs = many_jobs(300, old_prompt="a lighthouse in fog")
    studio_of().store.insert_many(jobs)
    at = no_exception(open_page("compare.py"))
    options = at.multiselect(key="compare_pick").options
    assert len(options) == 200 and not any(jobs[0].id in option for option in options)

    at.text_input(key="compare_search").input("lighthouse").run()
    no_exception(at)
    options = at.multiselect(key="compare_pick").options
    assert any(jobs[0].id in option for option in options)
    assert len(options) == 201
