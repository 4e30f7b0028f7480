"""History filters by provider: a shoot-out's takes, one provider at a time."""

from __future__ import annotations

from page_helpers import no_exception

from dailies.jobs import Job, JobStatus, new_job_id


def seed(store, provider: str, model: str, cost: float) -> Job:
    return store.insert(Job(id=new_job_id(), provider=provider, model=model, prompt="a paper boat", size="1280x720",
                            seconds=5, status=JobStatus.COMPLETED, progress=100, cost_estimate=cost))


def test_the_provider_filter_narrows_the_table_and_its_spend(open_page, studio_of) -> None:
    at = open_page("generate.py")
    store = studio_of().store
    engine = seed(store, "engine", "sora-2", 0.0)
    kling = seed(store, "fal", "fal-ai/kling-video/v2.5-turbo/pro", 1.4)
    gen = seed(store, "runway", "gen4.5", 0.6)
    at.switch_page("pages/history.py").run()
    no_exception(at)
    assert at.multiselect(key="f_provider").options == ["engine", "fal", "runway"]
    assert len(at.dataframe[0].value) == 3
    at.multiselect(key="f_provider").select("fal").run()
    assert list(at.dataframe[0].value["id"]) == [kling.id]
    assert {m.label: m.value for m in at.metric}["Spend"] == "$1.40"
    at.multiselect(key="f_provider").select("runway").run()
    assert set(at.dataframe[0].value["id"]) == {kling.id, gen.id} and engine.id not in set(at.dataframe[0].value["id"])
