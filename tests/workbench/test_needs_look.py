"""A job that needs a look, as the team meets it: labelled on its card, counted in the sidebar, found
by History's status filter, and settled from its card (mark failed, attach an id, retry knowingly)."""

from __future__ import annotations

from page_helpers import a_new_card, beside_a_finished_take, history_filtered_to, no_exception, open_card, stored_take

from dailies.jobs import Job, JobError, JobStatus


def unsure(store, prompt: str = "a lighthouse in fog") -> Job:
    return stored_take(store, JobStatus.NEEDS_LOOK, prompt, cost_estimate=0.4, error=JobError(
        "The provider cannot list its videos, so this job cannot be found there.", "needs_look"))


def test_history_filters_by_needs_a_look_and_the_sidebar_counts_them(open_page, studio_of) -> None:
    job = beside_a_finished_take(open_page, studio_of, unsure)
    at = no_exception(open_page("generate.py"))
    warnings = [e.value for e in at.sidebar if type(e).__name__ == "Warning"]  # fragments included
    assert any("1 job needs a look" in w for w in warnings), warnings
    at = history_filtered_to(open_page, "needs_look", "needs a look")
    assert list(at.dataframe[0].value["id"]) == [job.id]


def test_the_card_labels_it_and_offers_what_a_person_can_do(open_page, studio_of) -> None:
    shared, job, at = a_new_card(open_page, studio_of, unsure)
    assert "needs a look" in at.caption[0].value
    assert "cannot list" in at.warning[0].value, "the reason is shown as a warning, not an error"

    at.text_input(key="look_attach_id_t").input("video_nosuchvideo")
    at.button(key="FormSubmitter:look_attach_t-Attach").click().run()
    assert any("no video" in e.value for e in at.error)
    assert shared.store.require(job.id).status is JobStatus.NEEDS_LOOK, "a wrong id changes nothing"

    assert at.button(key="look_retry_t").disabled, "sending again needs the person's word"
    at.checkbox(key="look_sure_t").check().run()
    at.button(key="look_retry_t").click().run()
    again = [j for j in shared.store.all() if j.prompt == job.prompt and j.id != job.id]
    assert len(again) == 1 and again[0].status is not JobStatus.NEEDS_LOOK
    assert shared.store.require(job.id).status is JobStatus.FAILED

    other = unsure(shared.store, "a second one")
    at = open_card(other.id)
    at.button(key="look_fail_t").click().run()
    marked = shared.store.require(other.id)
    assert marked.status is JobStatus.FAILED and marked.error.code == "marked_failed"
