"""What a first week with the new pages turned up (issue 25, part 2), as each page shows it to a person."""

from __future__ import annotations

import pytest
from page_helpers import no_exception

PREVIEW = "(local preview renderer)"


def test_choosing_an_engine_model_says_it_is_the_local_preview_renderer(open_page, studio_of) -> None:
    at = no_exception(open_page("generate.py"))
    model = at.selectbox(key="model")
    assert any(o.startswith("sora-2") for o in model.options)
    assert all(o.endswith(PREVIEW) for o in model.options), model.options
    assert model.value in ("dailies-preview", "dailies-preview-pro", "sora-2", "sora-2-pro"), \
        "the name sent stays the API's"

    at = no_exception(open_page("variants.py"))
    assert all(o.endswith(PREVIEW) for o in at.selectbox(key="v_model").options)
    at.toggle(key="v_shootout_on").set_value(True).run()
    targets = no_exception(at).multiselect(key="v_targets").options
    assert "engine/sora-2 (local preview renderer)" in targets, targets


def test_a_contact_sheet_ends_a_long_prompt_with_an_ellipsis_within_the_tile() -> None:
    from PIL import Image, ImageDraw

    from dailies.storyboard.handoff import PROMPT_LINES, _font, prompt_lines

    draw, small = ImageDraw.Draw(Image.new("RGB", (10, 10))), _font(13)
    prompt = " ".join(["a lighthouse keeper climbs the spiral stairs at dusk, lamp in hand"] * 6)
    lines = prompt_lines(prompt, small, 360, draw)
    assert len(lines) == PROMPT_LINES and lines[-1].endswith("…"), lines
    assert all(draw.textlength(line, font=small) <= 360 for line in lines)
    assert prompt_lines("a kite over dunes", small, 360, draw) == ["a kite over dunes"], "a short prompt is whole"
    word = prompt_lines("x" * 400, small, 360, draw)
    assert word[0].endswith("…") and draw.textlength(word[0], font=small) <= 360


BATCH = (b"prompt,seconds,size\n"
         b"a paper boat drifting across a still pond at dawn while ducks watch,4,720x1280\n"
         b"a kite over dunes,five,720x1280\n"
         b"a tram in the rain,4,720x1280\n")


def test_a_batch_grid_is_named_from_its_file_and_prompts_and_a_refusal_reads_in_full(open_page, studio_of) -> None:
    at = no_exception(open_page("batch.py"))
    at.get("file_uploader")[0].upload("spring-shots.csv", BATCH, "text/csv").run()
    preview = no_exception(at).dataframe[0].value.set_index("line")
    assert "None" not in preview["seconds"].astype(str).tolist() and preview.loc[3, "seconds"] == "—"
    reason = preview.loc[3, "refused because"]
    assert any(c.value == f"Line 3 refused: {reason}" for c in at.caption), "the whole reason, not a cut cell"

    at.button(key="batch_launch").click().run()
    jobs = sorted(studio_of().store.all(), key=lambda j: j.prompt)
    labels = [" · ".join(f"{a}: {v}" for a, v in j.axes.items()) for j in jobs]
    assert labels[0].startswith("batch: spring-shots.csv · row: 2 · a paper boat drifting") and \
        labels[0].endswith("…"), labels
    assert labels[1] == "batch: spring-shots.csv · row: 4 · a tram in the rain"

    at = no_exception(open_page("variants.py", {"group": jobs[0].group_id}))
    chooser = at.selectbox(key="v_group")
    title = chooser.options[chooser.index]
    assert title.startswith("spring-shots.csv: a paper boat drifting") and "· 2 takes · grp_" in title, title


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_round_opens_its_results_to_its_organiser_link_not_to_a_typed_name(open_page, studio_of) -> None:
    from test_review_pages import as_person, launch_grid, player_data, texts

    from dailies.review.rounds import ReviewBook

    open_page("generate.py")
    shared = studio_of()
    grid = launch_grid(shared)
    at = as_person(open_page, "Olga", "review.py", {"group": grid})
    at.button(key="rv_start").click().run()
    found = ReviewBook(shared.store).rounds()[0]
    shown = no_exception(at).get("code")
    assert len(shown) == 1 and f"review_results?round={found.id}&organiser=" in shown[0].value
    secret = shown[0].value.rsplit("organiser=", 1)[1]
    record = str(shared.store.table("review_rounds").get(found.id))
    assert secret not in record, "the record keeps only the secret's hash"

    closed = "The results open once you have submitted your own review"
    impostor = as_person(open_page, "Olga", "review_results.py", {"round": found.id})
    assert closed in texts(impostor) and "Ranking" not in texts(impostor), "typing the organiser's name is not enough"
    guess = no_exception(open_page("review_results.py", {"round": found.id, "organiser": "x" * len(secret)}))
    assert closed in texts(guess)

    # A reload (a new session) with the organiser link: the results, before anyone has reviewed, unranked.
    organiser = no_exception(open_page("review_results.py", {"round": found.id, "organiser": secret}))
    assert closed not in texts(organiser)
    ranking = organiser.table[0].value
    assert set(ranking["rank"]) == {"—"}, "no reviews: every take unranked, not joint first"
    played = [take["id"] for data in player_data(organiser) for take in data["takes"]]
    assert sorted(played) == sorted(found.takes), "the ranked takes can be watched (in the review player)"


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_picking_the_source_launches_a_chained_shot_once_whichever_processes_pick(engine, isolated_home) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from until import wait_until

    from dailies.config import Environment, Settings, SettingsFile
    from dailies.jobs import JobStatus
    from dailies.storyboard import LAST_FRAME, Storyboards
    from dailies.studio import Studio

    SettingsFile(isolated_home / "settings.json").save(Settings())
    studio = Studio(Environment(home=isolated_home), engine_base_url=engine.base_url)
    studio.start()
    try:
        boards = Storyboards(studio)
        board = boards.create("Chain on pick", takes_per_shot=1)
        board = boards.add_shot(board.id, "a red kite lifts off the sand")
        board = boards.add_shot(board.id, "the kite climbs over the dunes", continuity=LAST_FRAME)
        board = boards.launch(board.id)
        first = board.shots[0]
        wait_until(lambda: studio.store.require(first.takes[0]).status is JobStatus.COMPLETED
                   and studio.store.require(first.takes[0]).has_video, 90, "the first shot's take")
        here = Path(__file__).parent
        env = {**__import__("os").environ, "PYTHONPATH": f"{here.parents[1]}:{here.parent}"}
        workers = [subprocess.Popen([sys.executable, str(here / "chain_pick_worker.py"), str(isolated_home),
                                     engine.base_url, board.id, first.id, first.takes[0]],
                                    stdout=subprocess.PIPE, text=True, env=env) for _ in range(3)]
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        (isolated_home / "go").touch()
        said = [worker.communicate(timeout=120)[0] for worker in workers]
        assert all(worker.returncode == 0 for worker in workers), said

        studio.store.refresh()
        chained = boards.get(board.id).shots[1]
        assert len(chained.takes) == 1, f"one launch of the chained shot, not {len(chained.takes)} takes"
        assert chained.started_from == first.takes[0] and not chained.chain_refused
        sent = [j for j in studio.store.all() if j.prompt.startswith("the kite climbs")]
        assert [j.id for j in sent] == chained.takes, "nothing else was sent"
    finally:
        studio.close()


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_chained_launch_the_budget_refuses_sends_nothing_and_says_why(engine, isolated_home, monkeypatch) -> None:
    from until import wait_until

    from dailies.config import Environment, Settings, SettingsFile
    from dailies.jobs import JobStatus
    from dailies.storyboard import LAST_FRAME, Storyboards
    from dailies.studio import Studio

    monkeypatch.setenv("OPENAI_BASE_URL", engine.base_url)  # a priced provider: the engine behind "remote"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    settings = Settings(active_provider="remote", daily_budget_usd=10.0)
    settings.rates = {**settings.rates, "dailies-preview": 1.0}
    SettingsFile(isolated_home / "settings.json").save(settings)
    studio = Studio(Environment.load(), engine_base_url=engine.base_url)  # reads OPENAI_* as the app does
    studio.start()
    try:
        boards = Storyboards(studio)
        board = boards.create("Chain refused", takes_per_shot=1, model="dailies-preview")
        board = boards.add_shot(board.id, "a red kite lifts off the sand")
        board = boards.add_shot(board.id, "the kite climbs over the dunes", continuity=LAST_FRAME)
        board = boards.launch(board.id)  # $4 now, $4 for the chained shot later: $8 of $10
        take = board.shots[0].takes[0]
        wait_until(lambda: studio.store.require(take).status is JobStatus.COMPLETED
                   and studio.store.require(take).has_video, 90, "the first shot's take")
        studio.save_settings(Settings(**{**vars(studio.settings), "daily_budget_usd": 6.0}))
        count = len(studio.store.all())
        board = boards.pick(board.id, board.shots[0].id, take)
        assert not board.shots[1].takes and len(studio.store.all()) == count, "nothing sent"
        assert board.shots[1].chain_refused.startswith("Not launched when Shot 1 was picked: ")
        assert "budget" in board.shots[1].chain_refused

        board = boards.update(board.id, chain_launch=False)
        studio.save_settings(Settings(**{**vars(studio.settings), "daily_budget_usd": 100.0}))
        board = boards.pick(board.id, board.shots[0].id, take)
        assert not board.shots[1].takes, "turned off, a pick launches nothing"
        board = boards.update(board.id, chain_launch=True)
        board = boards.pick(board.id, board.shots[0].id, take)
        assert len(board.shots[1].takes) == 1 and not board.shots[1].chain_refused
    finally:
        studio.close()


def test_settings_are_kept_only_by_the_save_at_the_foot_of_their_box(open_page, studio_of) -> None:
    from dailies.config import SettingsFile

    at = no_exception(open_page("settings.py"))
    save = at.button(key="save_settings")
    form = save.form_id
    assert form, "Save settings submits a form"
    for widget in (at.selectbox(key="active_provider"), at.selectbox(key="default_size"),
                   at.number_input(key="budget"), at.text_area(key="terms"), at.text_area(key="patterns"),
                   at.toggle(key="allow_high_res")):
        assert widget.form_id == form, f"{widget.key} is not saved by Save settings"
    assert at.button(key="bucket_save").form_id not in ("", form), "the bucket has a box and a Save of its own"
    last = [w for w in at.main if getattr(w, "form_id", "") == form][-1]
    assert last.key == "save_settings", "Save settings is at the foot of its box"

    before = studio_of().settings.daily_budget_usd
    at.number_input(key="budget").set_value(before + 7)
    at.button(key="clean_up").click().run()  # an action elsewhere on the page does not save the box's changes
    no_exception(at)
    assert SettingsFile(studio_of().home / "settings.json").load().daily_budget_usd == before
    at.number_input(key="budget").set_value(before + 7)
    at.button(key="save_settings").click().run()
    assert SettingsFile(studio_of().home / "settings.json").load().daily_budget_usd == before + 7
