"""Who made what: History filters by the person who launched a job and adds up spend per person."""

from __future__ import annotations

from page_helpers import no_exception

from dailies.jobs import Job, JobStatus, new_job_id


def seed(store, made_by: str, cost: float) -> Job:
    return store.insert(Job(id=new_job_id(), provider="engine", model="dailies-preview", prompt=f"by {made_by}",
                            status=JobStatus.COMPLETED, cost_estimate=cost, made_by=made_by))


def test_history_filters_by_person_and_shows_spend_per_person(open_page, studio_of) -> None:
    at = open_page("generate.py")
    store = studio_of().store
    ann = [seed(store, "Ann", 0.5), seed(store, "Ann", 0.25)]
    bo = seed(store, "bo@example.com", 2.0)
    nobody = seed(store, "", 0.1)  # made before people were recorded, or from the command line
    at.switch_page("pages/history.py").run()
    no_exception(at)
    assert at.dataframe[0].value.loc[bo.id, "made_by"] == "bo@example.com"
    per_person = at.dataframe[-1].value  # the last table: in "Jobs and spend per person"
    assert list(per_person.index) == ["bo@example.com", "Ann", "(not recorded)"]
    assert per_person.loc["Ann", "jobs"] == 2 and per_person.loc["Ann", "spend"] == 0.75
    assert per_person.loc["(not recorded)", "spend"] == 0.1

    at.multiselect(key="f_people").select("Ann").run()
    assert set(at.dataframe[0].value["id"]) == {job.id for job in ann}
    assert {m.label: m.value for m in at.metric}["Spend"] == "$0.75"
    at.multiselect(key="f_people").unselect("Ann").select("").run()
    assert list(at.dataframe[0].value["id"]) == [nobody.id]
