"""Compare: a job's lineage, and its takes in synchronised players with the prompts' differences."""

from __future__ import annotations

from page_helpers import no_exception

from dailies.jobs import JobKind, JobRequest


def make_lineage(shared):
    source = shared.submit(JobRequest(prompt="a red kite over a beach at golden hour", model="dailies-preview",
                                      size="720x1280", seconds=4))
    assert shared.tracker.run_until_idle(timeout=60)
    remix = shared.submit(shared.request_from(source.id, JobKind.REMIX, "a red kite over a beach at night, neon"))
    edit = shared.submit(shared.request_from(source.id, JobKind.EDIT, "black and white"))
    assert shared.tracker.run_until_idle(timeout=90)
    return source, remix, edit


def test_lineage_and_synchronised_players(open_page, studio_of) -> None:
    at = open_page("generate.py")
    source, remix, edit = make_lineage(studio_of())
    at = no_exception(open_page("compare.py", query={"job": remix.id}))
    lineage = at.dataframe[0].value
    assert list(lineage["job"]) == [source.id, remix.id, edit.id]
    assert list(lineage[""]) == ["generate", "└ remix", "└ edit"]
    assert at.multiselect(key="compare_pick").value == [source.id, remix.id]
    player = next(h.value for h in at.html if 'data-testid="synced-video"' in h.value)
    assert player.count('data-testid="synced-video"') == 2
    assert f"/app/static/takes/{source.id}/video.mp4" in player and f"/app/static/takes/{remix.id}/" in player
    diff = next(h.value for h in at.html if "prompt-diff" in h.value)
    assert "<del" in diff and "golden hour" in diff and "<ins" in diff and "neon" in diff

    at.multiselect(key="compare_pick").select(edit.id).run()
    player = next(h.value for h in at.html if 'data-testid="synced-video"' in h.value)
    assert player.count('data-testid="synced-video"') == 3


def test_an_unknown_job_in_the_link_is_said_plainly(open_page, studio_of) -> None:
    at = open_page("generate.py")
    studio_of().submit(JobRequest(prompt="a kite", model="dailies-preview", size="720x1280", seconds=4))
    at = no_exception(open_page("compare.py", query={"job": "../../etc/passwd"}))
    assert any("no job" in w.value for w in at.warning)


def test_a_job_without_follow_ups_explains_what_to_do(open_page, studio_of) -> None:
    at = no_exception(open_page("compare.py"))
    assert any("No jobs yet" in i.value for i in at.info)
    studio_of().submit(JobRequest(prompt="a kite", model="dailies-preview", size="720x1280", seconds=4))
    at.run()
    assert any("side by side" in i.value for i in at.info)
