"""History: every job as a table with filters and totals, and what can be done to the jobs picked in it."""

from __future__ import annotations

import time

import pytest
from page_helpers import no_exception
from streamlit.testing.v1 import AppTest

from components.runtime import NO_PICTURE
from dailies.jobs import FileRecord, Job, JobKind, JobStatus, new_job_id

DAY = 86400.0


def seed(store, **overrides) -> Job:
    values = {"id": new_job_id(), "provider": "engine", "model": "dailies-preview", "prompt": "a lighthouse",
              "size": "720x1280", "seconds": 4, "status": JobStatus.COMPLETED, "progress": 100, **overrides}
    return store.insert(Job(**values))


def arrange(store) -> dict[str, Job]:
    now = time.time()
    return {
        "old": seed(store, prompt="harbour at dawn", created_at=now - 3 * DAY, cost_estimate=0.4,
                    files={"thumbnail": FileRecord("x/thumbnail.webp", 10, "ab12" * 16)}),
        "failed": seed(store, prompt="volcano at night", status=JobStatus.FAILED, cost_estimate=1.2),
        "remix": seed(store, prompt="harbour at dusk, neon", kind=JobKind.REMIX, cost_estimate=0.8, rating=5,
                      tags=["client-a"]),
        "running": seed(store, prompt="<b>bold</b> kite", status=JobStatus.IN_PROGRESS, progress=40),
    }


def test_every_job_is_a_row_with_totals(open_page, studio_of) -> None:
    at = open_page("generate.py")
    jobs = arrange(studio_of().store)
    at.switch_page("pages/history.py").run()
    no_exception(at)
    table = at.dataframe[0].value
    assert list(table["id"]) == [jobs["running"].id, jobs["remix"].id, jobs["failed"].id, jobs["old"].id]
    assert table.loc[jobs["remix"].id, "rating"] == "5 ★"
    assert table.loc[jobs["old"].id, "rating"] == "", "no rating shows as blank, not None"
    assert list(table.columns[:5]) == ["thumbnail", "status", "prompt", "rating", "picked"], "the prompt has room"
    assert table.loc[jobs["running"].id, "prompt"] == "<b>bold</b> kite", "prompts are data, shown as text"
    assert table.loc[jobs["old"].id, "thumbnail"] == f"/app/static/takes/{jobs['old'].id}/thumbnail.webp?v=ab12ab12ab12"
    assert table.loc[jobs["failed"].id, "thumbnail"] == NO_PICTURE, "no thumbnail: an empty picture, not 'None'"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Jobs"] == "4" and metrics["Spend"] == "$2.40" and metrics["Completed"] == "2"


def test_filters_narrow_the_table_and_its_totals(open_page, studio_of) -> None:
    at = open_page("generate.py")
    jobs = arrange(studio_of().store)
    at.switch_page("pages/history.py").run()
    at.text_input(key="f_text").input("harbour").run()
    assert set(at.dataframe[0].value["id"]) == {jobs["old"].id, jobs["remix"].id}
    at.multiselect(key="f_kind").select("remix").run()
    assert list(at.dataframe[0].value["id"]) == [jobs["remix"].id]
    assert {m.label: m.value for m in at.metric}["Spend"] == "$0.80"
    at.text_input(key="f_text").input("").run()
    at.multiselect(key="f_kind").unselect("remix").run()
    at.multiselect(key="f_status").select("failed").run()
    assert list(at.dataframe[0].value["id"]) == [jobs["failed"].id]
    at.multiselect(key="f_status").unselect("failed").run()
    at.multiselect(key="f_tags").select("client-a").run()
    assert list(at.dataframe[0].value["id"]) == [jobs["remix"].id]


def test_picked_and_rating_are_columns_and_filters(open_page, studio_of) -> None:
    at = open_page("generate.py")
    store = studio_of().store
    jobs = arrange(store)
    store.update(jobs["old"].id, picked=True, rating=4)
    at.switch_page("pages/history.py").run()
    table = at.dataframe[0].value
    assert table["picked"].tolist() == [False, False, False, True]
    assert table["rating"].tolist() == ["", "5 ★", "", "4 ★"]
    at.selectbox(key="f_picked").select("Picked").run()
    assert list(at.dataframe[0].value["id"]) == [jobs["old"].id]
    at.selectbox(key="f_picked").select("Not picked").run()
    assert set(at.dataframe[0].value["id"]) == {jobs["running"].id, jobs["remix"].id, jobs["failed"].id}
    at.selectbox(key="f_picked").select("Picked or not").run()
    at.multiselect(key="f_rating").select(5).run()
    assert list(at.dataframe[0].value["id"]) == [jobs["remix"].id]
    at.multiselect(key="f_rating").select(None).run()
    assert list(at.dataframe[0].value["id"]) == [jobs["running"].id, jobs["remix"].id, jobs["failed"].id]
    assert {m.label: m.value for m in at.metric}["Jobs"] == "3"


def test_a_large_history_is_sent_a_page_at_a_time(open_page, studio_of) -> None:
    at = open_page("generate.py")
    store = studio_of().store
    now = time.time()
    with store.batch():
        made = [seed(store, prompt=f"take {i}", created_at=now - i) for i in range(250)]
    at.switch_page("pages/history.py").run()
    no_exception(at)
    assert list(at.dataframe[0].value["id"]) == [job.id for job in made[:100]], "newest first, one page"
    assert {m.label: m.value for m in at.metric}["Jobs"] == "250", "totals count every row, not the page"
    at.number_input(key="h_page").set_value(3).run()
    assert list(at.dataframe[0].value["id"]) == [job.id for job in made[200:]]
    assert any("Rows 201–250 of 250" in c.value for c in at.caption)
    at.text_input(key="f_text").input("take 12").run()  # 12, 120–129: fewer rows than page 3 needs
    assert [*at.dataframe[0].value["prompt"]] == ["take 12", *(f"take {i}" for i in range(120, 130))]


def selected(job_ids: list[str]) -> None:
    from components.history_actions import selected_actions

    selected_actions(job_ids)


@pytest.mark.slow
def test_actions_on_picked_rows_retry_and_delete(engine, open_page, studio_of) -> None:
    shared = studio_of()
    source = shared.submit(_request("a red kite over a beach"))
    assert shared.tracker.run_until_idle(timeout=60)
    failed = seed(shared.store, prompt="volcano at night", status=JobStatus.FAILED)

    at = AppTest.from_function(selected, args=([failed.id],), default_timeout=30).run()
    no_exception(at)
    at.button(key="h_retry").click().run()
    retried = [j for j in shared.store.all() if j.prompt == "volcano at night" and j.id != failed.id]
    assert len(retried) == 1 and retried[0].status is not JobStatus.FAILED

    at = AppTest.from_function(selected, args=([source.id],), default_timeout=30).run()
    assert at.get("video"), "a picked finished job opens with its player"
    remote_id = source.remote_id
    at.button(key="h_delete").click().run()
    at.checkbox(key="delete_remote").check()
    at.button(key="delete_confirm").click().run()
    assert shared.store.get(source.id) is None
    assert not (shared.home / "media" / source.id).exists()
    import httpx

    assert httpx.get(f"{engine.base_url}/videos/{remote_id}").status_code == 404


def _request(prompt: str):
    from dailies.jobs import JobRequest

    return JobRequest(prompt=prompt, model="dailies-preview", size="720x1280", seconds=4)
