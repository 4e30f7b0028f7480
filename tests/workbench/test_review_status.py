"""The review status across the workbench: History's Review column and filter, a badge on each grid tile and on
each shot's picked take, all read from `ReviewDesk.statuses` (decisions made through the core, as the API does)."""

from __future__ import annotations

import dataclasses

import pytest
from page_helpers import no_exception, one_take_a_shot

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


@pytest.mark.slow  # a real process, server or render: out of the fast tier
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


def selected(job_ids: list[str]) -> None:
    from components.history_actions import selected_actions

    selected_actions(job_ids)


def test_historys_selection_is_a_playlist_a_guest_link_opens_and_revoking_closes(open_page, studio_of) -> None:
    from streamlit.testing.v1 import AppTest

    from dailies.review.guests import GuestLinks

    open_page("generate.py")
    shared = studio_of()
    jobs = [seed(shared.store, prompt) for prompt in ("a kite", "a boat", "a tram")]
    ids = [job.id for job in jobs[:2]]
    at = no_exception(AppTest.from_function(selected, args=(ids,), default_timeout=30).run())
    at.segmented_control(key="guest_life_history_playlist").set_value("30 days").run()
    at.button(key="guest_make_history_playlist").click().run()
    no_exception(at)
    address = at.code[0].value
    assert "/guest?t=" in address
    links = GuestLinks(shared.store)
    [made] = links.made("takes")
    assert made.scope.takes == frozenset(ids) and 29 * 86400 < made.expires_at - made.created_at <= 30 * 86400
    assert links.open(address.split("t=", 1)[1]).id == made.id, "the link shown opens the playlist"
    assert any("2 takes · expires" in t.value for t in at.text)

    at.button(key=f"guest_revoke_{made.id}").click().run()
    no_exception(at)
    assert links.made("takes")[0].state(made.created_at + 1) == "revoked"
    assert not at.code, "a revoked link is no longer offered for copying"
    assert any("revoked" in t.value for t in at.text)


@pytest.mark.slow
def test_a_board_shows_which_shots_picks_are_approved_and_shares_them(open_page, studio_of) -> None:
    from dailies.review.guests import GuestLinks

    at, board_id, shot = one_take_a_shot(open_page, studio_of, "One shot")
    at.button(key="sb_launch").click().run()
    shared = studio_of()
    assert shared.tracker.run_until_idle(timeout=90)
    at.run()
    take = shared.store.all()[0].id
    at.segmented_control(key=f"sb_pick_{shot}_1").set_value(take).run()
    no_exception(at)
    assert ":gray-badge[:material/rate_review: in review]" in badges(at)
    assert any(c.value == "Review: 0 of 1 shots' picked takes approved or final" for c in at.caption)

    ReviewDesk(shared.store, shared.media).decide(take, "approved", Author("Ann"))
    at.run()
    assert ":green-badge[:material/check_circle: approved]" in badges(at)
    assert any(c.value == "Review: 1 of 1 shots' picked takes approved or final" for c in at.caption)

    at.button(key=f"guest_make_board_{board_id}").click().run()
    no_exception(at)
    [made] = GuestLinks(shared.store).of_scope("board", board_id)
    assert made.scope.takes == frozenset({take}), "a board's link shows its picked takes"


def test_only_a_rounds_organiser_shares_it_with_guests(open_page, studio_of) -> None:
    from components.review_round import ORGANISER_SECRETS
    from dailies.review.rounds import ReviewBook

    open_page("generate.py")
    shared = studio_of()
    jobs = [seed(shared.store, prompt) for prompt in ("a kite", "a boat")]
    started = ReviewBook(shared.store).start([job.id for job in jobs], title="Which kite")
    reviewer = no_exception(open_page("review.py", {"round": started.id}))
    assert not [e for e in reviewer.expander if e.label == "Guest links"], "a reviewer with the round's link"

    at = open_page("generate.py")
    at.session_state[ORGANISER_SECRETS] = {started.id: started.organiser_secret}
    at.query_params["round"] = started.id
    at.switch_page("pages/review.py")
    at = no_exception(at.run())
    assert [e for e in at.expander if e.label == "Guest links"], "the organiser (by the organiser link)"


def guest_page(secret: str) -> None:
    from components.guest_access import links
    from components.guest_view import _review

    _review(links().open(secret))


def test_a_boards_guest_sees_its_takes_by_shot_in_shot_order_and_no_other(open_page, studio_of) -> None:
    from streamlit.testing.v1 import AppTest

    from dailies.review.guests import GuestLinks
    from dailies.storyboard import Storyboards

    open_page("generate.py")
    shared = studio_of()
    landing, opening, outside = (seed(shared.store, prompt) for prompt in ("the kite lands", "the kite lifts off",
                                                                          "another film"))
    boards = Storyboards(shared)
    board = boards.add_shot(boards.add_shot(boards.create("Kite").id).id)
    board.shots[0] = dataclasses.replace(board.shots[0], name="Opening", takes=[opening.id])  # as launches add them
    board.shots[1] = dataclasses.replace(board.shots[1], name="Landing", takes=[landing.id])
    boards.save(board)
    link = GuestLinks(shared.store).create("board", board.id, [opening.id, landing.id], made_by="Olga", life_s=3600)

    at = no_exception(AppTest.from_function(guest_page, args=(link.secret,), default_timeout=30).run())
    titles = [str(m.value) for m in at.markdown if str(m.value).startswith("**Take")]
    assert titles == ["**Take 1** · Opening", "**Take 2** · Landing"]
    assert not any("another film" in str(c.value) for c in at.caption)
    at.text_input(key="guest_name_input").input("Gil").run()
    at.button(key="guest_decide_approved_2").click().run()
    approval = ReviewDesk(shared.store, shared.media).approval(landing.id)
    assert approval["status"] == "approved" and approval["reviewers"][0]["author"] == "guest: Gil"

    at.query_params["take"] = outside.id
    at = no_exception(at.run())
    assert [e.value for e in at.error] == ["That take is not part of this review."]
    assert not [m for m in at.markdown if str(m.value).startswith("**Take")]
