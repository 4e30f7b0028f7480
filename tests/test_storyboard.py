"""Storyboards against a real engine on loopback: boards in the store's journal, takes rendered as real
MP4s, continuity measured on the frames, assemblies joined with PyAV, hand-off files read back."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image
from until import wait_until

from dailies.config import Environment, Settings, SettingsFile
from dailies.engine.look import read_look
from dailies.errors import ValidationError
from dailies.jobs import JobKind, JobStatus
from dailies.media import first_frame, last_frame, probe_video
from dailies.review import Author, ReviewDesk
from dailies.store import JobStore
from dailies.storyboard import EXTEND, LAST_FRAME, Board, Storyboards, Style, assemble
from dailies.storyboard.handoff import contact_sheet_png, markers_edl, media_zip, otio_json
from dailies.studio import Studio

STYLE = Style(subject="a red kite", light="low sun", grade="golden hour", lens="35mm", mood="quiet")


def make_studio(home: Path, base_url: str, **settings) -> Studio:
    SettingsFile(home / "settings.json").save(Settings(**settings))
    studio = Studio(Environment(home=home), engine_base_url=base_url)
    studio.start()
    return studio


@pytest.fixture
def boards(engine, isolated_home: Path):
    studio = make_studio(isolated_home, engine.base_url)
    yield Storyboards(studio)
    studio.close()


def finished(boards: Storyboards, board: Board) -> Board:
    """Wait for every take of the board to finish; the board as it is then."""
    def done() -> bool:
        jobs = [boards.store.get(j) for s in boards.get(board.id).shots for j in s.takes]
        return bool(jobs) and all(j is not None and j.status is JobStatus.COMPLETED and j.has_video for j in jobs)

    wait_until(done, 90, "the board's takes to finish")
    return boards.get(board.id)


def pick_first(boards: Storyboards, board: Board, index: int) -> Board:
    shot = board.shots[index]
    return boards.pick(board.id, shot.id, shot.takes[0])


def test_a_board_is_edited_kept_in_the_store_and_duplicated_as_a_version(boards: Storyboards) -> None:
    board = boards.create("Kite on the beach", STYLE, takes_per_shot=2)
    for words in ("the kite lifts off", "the kite over the dunes", "the kite lands"):
        board = boards.add_shot(board.id, words, camera="slow pan left")
    first, second, third = (s.id for s in board.shots)
    board = boards.move_shot(board.id, third, -1)
    assert [s.id for s in board.shots] == [first, third, second]
    board = boards.move_shot(board.id, first, -5)  # stays within the board
    assert board.shots[0].id == first
    board = boards.duplicate_shot(board.id, third)
    assert [s.name for s in board.shots] == ["Shot 1", "Shot 3", "Shot 3 (copy)", "Shot 2"]
    board = boards.delete_shot(board.id, second)
    assert len(board.shots) == 3
    board = boards.update_shot(board.id, third, prompt="the kite dives", continuity=LAST_FRAME)

    prompt = Storyboards.prompt_of(board, board.shots[1])
    assert prompt == ("the kite dives, camera: slow pan left. subject: a red kite; light: low sun; "
                      "colour grade: golden hour; lens: 35mm; mood: quiet")

    # Another process opening the same folder reads the same board from the journal.
    other = JobStore(boards.store.path, follow=False)
    try:
        stored = Board.from_dict(other.table("boards").get(board.id))
    finally:
        other.close()
    assert stored == board

    version = boards.duplicate(board.id)
    assert (version.version, version.parent_id, version.title) == (2, board.id, board.title)
    assert [s.prompt for s in version.shots] == [s.prompt for s in board.shots]
    boards.update_shot(version.id, version.shots[0].id, prompt="changed in version 2")
    assert boards.get(board.id).shots[0].prompt == "the kite lifts off"

    with pytest.raises(ValidationError, match="title"):
        boards.create("   ")
    with pytest.raises(ValidationError, match="1 to 4 takes"):
        boards.update(board.id, takes_per_shot=9)
    with pytest.raises(ValidationError, match="Continuity"):
        boards.update_shot(board.id, first, continuity="teleport")


def test_the_style_blocks_grade_wins_over_palette_words_in_a_shot() -> None:
    board = Board("b", "Night chase", Style(grade="night, blue"))
    from dailies.storyboard import Shot

    shot = Shot("s", "Shot 1", "a car at sunset, red lights")
    look = read_look(Storyboards.prompt_of(board, shot))
    assert look.palette_name == "night"
    assert look.accent == (40, 90, 230)  # blue, from the grade, not the shot's red
    assert read_look("a car at sunset, red lights").palette_name == "sunset"  # without a grade clause, as before


@pytest.mark.slow
def test_the_whole_boards_cost_is_checked_against_the_budget_and_nothing_is_sent(engine, isolated_home: Path) -> None:
    env = Environment(home=isolated_home, base_url=engine.base_url, api_key=None, provider="remote")
    SettingsFile(isolated_home / "settings.json").save(Settings(daily_budget_usd=1.0,
                                                                rates={"dailies-preview": 0.1}))
    studio = Studio(env, engine_base_url=engine.base_url)
    try:
        boards = Storyboards(studio)
        board = boards.create("Too dear", STYLE, model="dailies-preview", takes_per_shot=2)
        board = boards.add_shot(board.id, "one", seconds=4)
        board = boards.add_shot(board.id, "two", seconds=4)  # 2 shots × 2 takes × 4 s × $0.10 = $1.60
        check = boards.preflight(board)
        assert check.cost == pytest.approx(1.6)
        assert check.over_budget
        with pytest.raises(ValidationError, match="budget"):
            boards.launch(board.id)
        assert len(studio.store) == 0
        assert all(not s.takes for s in boards.get(board.id).shots)

        # One shot fits ($0.80); then a retake is priced at its own one take ($0.40), over what is left.
        board = boards.delete_shot(board.id, board.shots[1].id)
        board = boards.launch(board.id)
        assert len(board.shots[0].takes) == 2 and studio.spent_today() == pytest.approx(0.8)
        with pytest.raises(ValidationError, match=r"costs \$0.40"):
            boards.retake(board.id, board.shots[0].id)
        assert len(studio.store) == 2
    finally:
        studio.close()


@pytest.mark.slow
def test_a_chained_shot_waits_for_a_pick_then_starts_from_its_last_frame(boards: Storyboards) -> None:
    board = boards.create("Chain", STYLE, takes_per_shot=1)
    board = boards.add_shot(board.id, "the kite lifts off")
    board = boards.add_shot(board.id, "the kite over the dunes", continuity=LAST_FRAME)
    board = boards.add_shot(board.id, "the kite over the dunes")  # the same words, not chained
    board = boards.launch(board.id)
    assert [len(s.takes) for s in board.shots] == [1, 0, 1]  # the chained shot waits
    assert "a picked, finished take of Shot 1" in boards.states(board)[1].waiting_for
    with pytest.raises(ValidationError, match="waits for"):
        boards.launch(board.id, [board.shots[1].id])

    board = pick_first(boards, finished(boards, board), 0)  # the pick launches the chained shot
    assert [len(s.takes) for s in board.shots] == [1, 1, 1]
    board = pick_first(boards, finished(boards, board), 1)
    board = pick_first(boards, board, 2)

    first, chained = (boards.store.require(s.picked) for s in board.shots[:2])
    assert chained.params["reference_name"] == f"{first.id}-last.png"
    # The engine honours the reference: the chained take's first frame is the first take's last.
    last = last_frame(boards.studio.takes.media_path(first))
    opening = first_frame(boards.studio.takes.media_path(chained))
    assert assemble.mean_delta_e(last, opening) < 3

    cuts = boards.cuts(board)
    assert [c.chained for c in cuts] == [True, False]
    assert cuts[0].delta_e < 3 < cuts[1].delta_e
    assert cuts[0].delta_e < cuts[1].delta_e / 2


class RunStopped(BaseException):
    """What Streamlit raises where a page's callback reads the session after another run was asked for."""


@pytest.mark.slow
def test_a_pick_stopped_where_it_asks_who_picked_leaves_the_chained_shot_to_the_next_pick(boards: Storyboards) -> None:
    """A page's pick asks who is picking (the session) before it claims the chained launch: stopped there, nothing
    is claimed or sent, and picking again launches the chained shot once, made by whoever picked."""
    board = boards.create("Chain", STYLE, takes_per_shot=1)
    board = boards.add_shot(board.id, "the kite lifts off")
    board = boards.add_shot(board.id, "the kite over the dunes", continuity=LAST_FRAME)
    board = finished(boards, boards.launch(board.id))
    asked: list[str] = []

    def stopped_once() -> str:
        asked.append("who")
        if len(asked) == 1:
            raise RunStopped
        return "Mo"

    boards.studio.person = stopped_once
    with pytest.raises(RunStopped):
        pick_first(boards, board, 0)
    assert boards.get(board.id).shots[1].takes == [], "nothing was sent"
    board = pick_first(boards, boards.get(board.id), 0)
    [chained] = board.shots[1].takes
    assert boards.store.require(chained).made_by == "Mo"
    assert pick_first(boards, board, 0).shots[1].takes == [chained], "launched once"


@pytest.mark.slow
def test_assembly_copies_streams_and_is_a_job_whose_lineage_is_the_board(boards: Storyboards) -> None:
    board = boards.create("Assemble", STYLE, takes_per_shot=2)
    for words in ("one", "two", "three"):
        board = boards.add_shot(board.id, words)
    board = finished(boards, boards.launch(board.id))
    for index in range(3):
        board = pick_first(boards, board, index)
    with pytest.raises(ValidationError, match="Pick a finished take of Shot 2"):
        boards.assemble(boards.pick(board.id, board.shots[1].id, None).id)
    board = pick_first(boards, boards.get(board.id), 1)

    board = boards.assemble(board.id)
    job = boards.assembly(board)
    assert job is not None and job.kind is JobKind.ASSEMBLE and job.status is JobStatus.COMPLETED
    assert job.params["board_id"] == board.id and job.params["picks"] == board.picks
    assert job.params["method"] == "copy"
    assert f"board:{board.id}" in job.tags
    info = probe_video(boards.studio.takes.media_path(job))
    takes = [boards.store.require(p) for p in board.picks]
    assert info.duration == pytest.approx(sum(t.duration for t in takes), abs=1 / 24)
    assert info.frames == 3 * 4 * 24
    assert boards.assembly_current(board)

    # A retake of one shot touches no other; picking it makes the assembly again.
    before = [list(s.takes) for s in board.shots]
    board = finished(boards, boards.retake(board.id, board.shots[1].id))
    assert [len(s.takes) for s in board.shots] == [2, 3, 2]
    assert [s.takes for s in board.shots][::2] == before[::2]
    new_take = board.shots[1].takes[-1]
    board = boards.pick(board.id, board.shots[1].id, new_take)
    assert board.assembly_id != job.id
    assert boards.assembly(board).params["picks"][1] == new_take
    assert boards.store.require(new_take).picked and not boards.store.require(board.shots[1].takes[0]).picked

    # A crossfade re-encodes, and each cut overlaps by its length.
    boards.update(board.id, crossfade=0.25)
    board = boards.assemble(board.id)
    faded = boards.assembly(board)
    assert faded.params["method"] == "reencode"
    assert probe_video(boards.studio.takes.media_path(faded)).frames == 3 * 96 - 2 * 6


@pytest.mark.slow
def test_an_extension_shot_is_cut_after_its_source_in_the_assembly(boards: Storyboards) -> None:
    board = boards.create("Extend", STYLE, takes_per_shot=1)
    board = boards.add_shot(board.id, "the kite lifts off")
    board = boards.add_shot(board.id, "the kite climbs", continuity=EXTEND)
    board = pick_first(boards, finished(boards, boards.launch(board.id)), 0)  # launches the extension
    board = pick_first(boards, finished(boards, board), 1)
    extension = boards.store.require(board.shots[1].picked)
    assert extension.kind is JobKind.EXTEND and extension.source_job_id == board.shots[0].picked
    assert extension.duration == pytest.approx(8, abs=0.1)  # the source and its new 4 s

    assert boards.cuts(board)[0].delta_e < 3  # the extension goes on from its source's last frame
    board = boards.assemble(board.id)
    job = boards.assembly(board)
    assert job.params["method"] == "reencode"  # the extension is cut where its source ended
    assert probe_video(boards.studio.takes.media_path(job)).duration == pytest.approx(8, abs=1 / 24)


@pytest.mark.slow
def test_handoff_timeline_zip_and_contact_sheet_read_back(boards: Storyboards) -> None:
    board = boards.create("Hand-off", STYLE, takes_per_shot=1)
    for words in ("first", "second", "third"):
        board = boards.add_shot(board.id, f"the kite, {words} shot", name=f"{words.title()} shot")
    board = finished(boards, boards.launch(board.id))
    for index in range(3):
        board = pick_first(boards, board, index)
    desk = ReviewDesk(boards.store, boards.studio.media)
    second = board.shots[1].picked
    noted = [desk.add_note(second, 30, "kite too small", Author("Ann")),
             desk.add_note(second, 5, "hold", Author("Ben"), end_frame=15)]
    desk.decide(second, "approved", Author("Ann"))
    clips = boards.handoff(board)

    loaded = otio.adapters.read_from_string(otio_json(board.title, clips), "otio_json")
    found = list(loaded.find_clips())
    assert [c.name for c in found] == ["First shot", "Second shot", "Third shot"]
    # Relative, as in the zip: an editor on another machine relinks by these names (a server path meant nothing).
    assert [c.media_reference.target_url for c in found] == [
        "media/01-first-shot.mp4", "media/02-second-shot.mp4", "media/03-third-shot.mp4"]
    assert [c.duration().to_seconds() for c in found] == pytest.approx([4, 4, 4], abs=1 / 24)
    assert found[1].metadata["dailies"]["prompt"] == Storyboards.prompt_of(board, board.shots[1])
    assert found[1].metadata["dailies"]["job_id"] == board.shots[1].picked
    # The shot's notes ride along as markers at their frames, with the take's status; other shots have none.
    markers = {m.metadata["dailies"]["note_id"]: m for m in found[1].markers}
    assert {k: m.marked_range.start_time.to_frames() for k, m in markers.items()} == {noted[0].id: 30, noted[1].id: 5}
    assert markers[noted[1].id].marked_range.duration.to_frames() == 11
    assert markers[noted[0].id].metadata["dailies"]["text"] == "kite too small"
    assert found[1].metadata["dailies"]["status"] == "approved" and not found[0].markers
    # The board's marker list: the second shot starts after the first's 96 frames, one hour in (Resolve's start).
    edl = markers_edl(board.title, clips)
    assert "001  001      V     C        01:00:04:05 01:00:04:16" in edl and "|M:Ben: hold |D:11" in edl
    assert "002  001      V     C        01:00:05:06 01:00:05:07" in edl and "|M:Ann: kite too small |D:1" in edl

    with zipfile.ZipFile(io.BytesIO(media_zip(board.title, clips))) as archive:
        names = archive.namelist()
        assert names == ["timeline.otio", "media/01-first-shot.mp4", "media/02-second-shot.mp4",
                         "media/03-third-shot.mp4"]
        inner = json.loads(archive.read("timeline.otio"))
        assert archive.read("media/02-second-shot.mp4") == clips[1].path.read_bytes()
    urls = [c.media_reference.target_url for c in otio.adapters.read_from_string(
        json.dumps(inner), "otio_json").find_clips()]
    assert urls == names[1:]

    sheet = Image.open(io.BytesIO(contact_sheet_png(board.title, clips)))
    assert sheet.format == "PNG" and sheet.width >= 3 * 360
    pixels = np.asarray(sheet.convert("RGB"))
    assert pixels[60:200, 20:360].std() > 10  # a frame, not blank paper



def test_edits_of_different_shots_from_two_stores_on_one_folder_both_survive(tmp_path: Path) -> None:
    """Two stores on one data folder (as two processes have), each saving a board it read before the
    other's save: a shot is a field of its own, so neither edit is lost."""
    home = tmp_path / "home"
    one, two = Studio(Environment(home=home)), Studio(Environment(home=home))
    try:
        first, second = Storyboards(one), Storyboards(two)
        board = first.add_shot(first.add_shot(first.create("Shared", model="m").id, "a").id, "b")
        wait_until(lambda: second.table.get(board.id) is not None and len(second.get(board.id).shots) == 2, 5,
                   "the other store to see the board")
        mine, theirs = first.get(board.id), second.get(board.id)  # both read before either writes
        mine.shots[0].prompt = "edited here"
        first.save(mine)
        theirs.shots[1].prompt = "edited there"
        theirs.shots[1].seconds = 8
        second.save(theirs)
        for boards in (first, second):
            wait_until(lambda b=boards: [s.prompt for s in b.get(board.id).shots] == ["edited here", "edited there"],
                       5, "both edits in both stores")
        assert first.get(board.id).shots[1].seconds == 8
    finally:
        one.close()
        two.close()


def test_an_assembly_whose_file_went_missing_is_failed_at_start_not_fetched(tmp_path: Path) -> None:
    from dailies.jobs import FileRecord, Job, new_job_id

    home = tmp_path / "home"
    studio = Studio(Environment(home=home))
    job = Job(id=new_job_id(), provider="storyboard", model="pyav", prompt="Board (v1): Shot 1", kind=JobKind.ASSEMBLE,
              status=JobStatus.COMPLETED, files={"video": FileRecord(f"{'x' * 4}/video.mp4", 10, "00")})
    studio.store.insert(job)
    studio.close()
    again = Studio(Environment(home=home))
    try:
        again.tracker.resume()
        found = again.store.require(job.id)
        assert found.status is JobStatus.FAILED and "assemble the board again" in found.error.message
    finally:
        again.close()
