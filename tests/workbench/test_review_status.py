"""The review status across the workbench: History's Review column and filter, a badge on each grid tile and on
each shot's picked take, all read from `ReviewDesk.statuses` (decisions made through the core, as the API does)."""

from __future__ import annotations

from page_helpers import no_exception

from dailies.jobs import FileRecord, Job, JobStatus, new_job_id
from dailies.review import Author, ReviewDesk
from dailies.studio import new_group_id


def seed(store, prompt: str, **overrides) -> Job:
    return store.insert(Job(id=new_job_id(), provider="engine", model="dailies-preview", prompt=prompt,
                            size="720x1280", seconds=4, status=JobStatus.COMPLETED, progress=100,
                            files={"video": FileRecord("x/video.mp4", 10, "ab12" * 16)}, **overrides))


def decided(shared, jobs: list[Job]) -> None:
    """The first take approved (then final), the second with changes asked for; the third never decided."""
    desk = ReviewDesk(shared.store, shared.media)
    desk.decide(jobs[0].id, "approved", Author("Ann"))
    desk.decide(jobs[0].id, "final", Author("Ann"))
    desk.decide(jobs[1].id, "changes_requested", Author.typed("guest: Gil"))


def test_history_shows_each_takes_review_status_and_filters_by_it(open_page, studio_of) -> None:
    at = open_page("generate.py")
    shared = studio_of()
    jobs = [seed(shared.store, prompt) for prompt in ("a kite", "a boat", "a tram")]
    decided(shared, jobs)
    at.switch_page("pages/history.py").run()
    no_exception(at)
    table = at.dataframe[0].value
    assert {job.id: table.loc[job.id, "review"] for job in jobs} == {
        jobs[0].id: "final", jobs[1].id: "changes requested", jobs[2].id: "in review"}
    assert list(table.columns).index("review") == list(table.columns).index("picked") + 1

    at.multiselect(key="f_review").select("changes_requested").run()
    assert list(no_exception(at).dataframe[0].value["id"]) == [jobs[1].id]
    at.multiselect(key="f_review").select("in_review").run()
    assert set(at.dataframe[0].value["id"]) == {jobs[1].id, jobs[2].id}
    assert {m.label: m.value for m in at.metric}["Jobs"] == "2"

    ReviewDesk(shared.store, shared.media).decide(jobs[2].id, "approved", Author("Bo"))  # elsewhere, meanwhile
    at.run()
    assert list(at.dataframe[0].value["id"]) == [jobs[1].id], "a new decision is seen at the next run"


def badges(at) -> list[str]:
    return [str(m.value) for m in at.markdown if "-badge[" in str(m.value)]


def test_each_grid_tile_shows_its_takes_status_as_a_badge(open_page, studio_of) -> None:
    open_page("generate.py")
    shared = studio_of()
    group = new_group_id()
    jobs = [seed(shared.store, f"a kite, {light}", group_id=group, axes={"light": light})
            for light in ("dusk", "noon", "night")]
    decided(shared, jobs)
    at = no_exception(open_page("variants.py", {"group": group}))
    assert sorted(badges(at)) == sorted([":blue-badge[:material/verified: final]",
                                         ":orange-badge[:material/edit_note: changes requested]",
                                         ":gray-badge[:material/rate_review: in review]"]), badges(at)
