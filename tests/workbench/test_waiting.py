"""A take waiting for its provider's rate limit, as the team meets it: History's status filter finds it and says
why, and its card says what it waits for and when it is tried next, and cancels it."""

from __future__ import annotations

import time

from page_helpers import a_new_card, beside_a_finished_take, history_filtered_to, no_exception, stored_take
from streamlit.testing.v1 import AppTest

from dailies.jobs import Job, JobStatus

REASON = "the provider's rate limit (Rate limit reached for requests)"


def waiting(store, prompt: str = "a lighthouse in fog") -> Job:
    return stored_take(store, JobStatus.WAITING, prompt, cost_estimate=0.4, wait_reason=REASON,
                       next_try_at=time.time() + 600)


def test_history_filters_by_waiting_and_says_why(open_page, studio_of) -> None:
    job = beside_a_finished_take(open_page, studio_of, waiting)
    at = history_filtered_to(open_page, "waiting", "waiting to send")
    table = at.dataframe[0].value
    assert list(table["id"]) == [job.id]
    assert table.loc[job.id, "why"] == f"waiting to send: {REASON}"


def test_the_card_says_what_it_waits_for_and_cancels_it(open_page, studio_of) -> None:
    shared, job, at = a_new_card(open_page, studio_of, waiting)
    assert "waiting to send" in at.caption[0].value
    said = at.info[0].value
    assert said.startswith(f"Waiting to send: {REASON}; next try in ") and said.endswith(" s"), said
    at.button(key="cancel_t").click().run()
    cancelled = shared.store.require(job.id)
    assert cancelled.status is JobStatus.FAILED and cancelled.error.code == "cancelled"


def test_a_providers_limit_of_takes_at_once_is_set_in_settings(open_page, studio_of) -> None:
    at = no_exception(open_page("settings.py"))
    at.number_input(key="limit_engine").set_value(2)
    at.button(key="save_settings").click().run()
    assert any(s.value == "Saved." for s in at.success)
    shared = studio_of()
    assert shared.settings.provider_limits == {"engine": 2}
    assert shared.tracker.sends.limit("engine") == 2, "the send queue holds takes beyond it"


def tile(job_id: str) -> None:
    from components.runtime import studio
    from components.variant_grid import take_tile

    take_tile(studio().store.require(job_id), 0, blind=False)


def test_a_grids_waiting_take_says_what_it_waits_for(open_page, studio_of) -> None:
    open_page("generate.py")
    job = waiting(studio_of().store)
    at = no_exception(AppTest.from_function(tile, args=(job.id,), default_timeout=30).run())
    assert at.info[0].value.startswith(f"Waiting to send: {REASON}; next try in "), "not a bare 0% bar"


def test_takes_at_once_is_kept_only_by_save_settings_like_the_rest_of_its_box(open_page, studio_of) -> None:
    at = no_exception(open_page("settings.py"))
    assert at.number_input(key="limit_engine").form_id == at.number_input(key="max_concurrency").form_id \
        == "settings_form", "in the box Save settings keeps, not a setting of its own outside it"
    at.number_input(key="limit_engine").set_value(3)
    at.button(key="test_engine").click().run()  # another action on the page: the box is not saved by it
    assert studio_of().settings.provider_limits == {}, "one pattern: nothing in the box is kept before Save"
    at.number_input(key="limit_engine").set_value(3)
    at.button(key="save_settings").click().run()
    assert studio_of().settings.provider_limits == {"engine": 3}
