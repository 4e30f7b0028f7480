"""The review core on real takes: engine-rendered MP4s (24 fps) and a 30 fps one, a real store and media folder.

Frames and timecodes are checked against the decoded video; notes, decisions and versions against the
store they are kept in; every export is read back (OTIO with opentimelineio)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image
from review_fixtures import finished, reencode, studio_with_takes, take_at

from dailies.errors import ValidationError
from dailies.jobs import Job, new_job_id
from dailies.media import frame_image
from dailies.review import (
    Author,
    Clock,
    FrameOutOfRange,
    IllegalTransition,
    Locked,
    NoSuchTake,
    NotReviewable,
    ReviewDesk,
    State,
    markers,
    to_frame,
    to_timecode,
)
from dailies.review.drawing import check_drawing
from dailies.review.notes import NOTES_TABLE
from dailies.review.timecode import base_rate

ANN, BEN = Author("Ann", signed_in=True), Author("Ben")
ARROW = [{"kind": "arrow", "colour": "yellow", "points": [[0.1, 0.1], [0.5, 0.5]]},
         {"kind": "rect", "colour": "red", "box": [0.6, 0.6, 0.2, 0.2]},
         {"kind": "text", "colour": "white", "points": [[0.05, 0.9]], "text": "kite too small"}]


@pytest.fixture(scope="module")
def takes(shared_engine, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("review-home")
    studio, first, remix = studio_with_takes(home, shared_engine.base_url)
    thirty = home / "thirty.mp4"
    reencode(studio.media.resolve(first.files["video"].path), thirty, fps=30, frames=120)
    at_thirty = take_at(studio, thirty)
    yield studio, first, remix, at_thirty
    studio.close()


@pytest.fixture
def desk(takes) -> ReviewDesk:
    studio = takes[0]
    return ReviewDesk(studio.store, studio.media)


def decoded(path: Path, index: int) -> np.ndarray:
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(container.streams.video[0])):
            if number == index:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"no frame {index}")


def test_timecode_arithmetic_at_the_usual_rates() -> None:
    assert to_timecode(37, 24) == "00:00:01:13" and to_timecode(37, 30) == "00:00:01:07"
    assert to_timecode(37, 25) == "00:00:01:12"
    assert to_timecode(24 * 3600 + 1, 24) == "01:00:00:01"
    assert base_rate(29.97) == 30 and base_rate(23.976) == 24, "NTSC rates count non-drop-frame at the rounded base"
    assert to_timecode(30 * 60, 29.97) == "00:01:00:00"
    for fps in (24, 25, 30, 29.97, 23.976):
        assert all(to_frame(to_timecode(f, fps), fps) == f for f in (0, 1, 37, 1000, 86399))
    with pytest.raises(ValidationError, match="not a timecode at 24 fps"):
        to_frame("00:00:01:24", 24)
    for fps in (24, 25, 30, 29.97, 23.976):
        clock = Clock(fps=fps, frames=10_000)
        assert all(clock.frame_at_time(clock.seek_time(f)) == f for f in range(10_000)), "a seek shows its frame"
        assert clock.frame_at_time(clock.seconds(37)) == 37


@pytest.mark.parametrize(("which", "fps", "frames", "tc37"), [(1, 24, 96, "00:00:01:13"), (3, 30, 120, "00:00:01:07")])
def test_a_takes_clock_and_frame_37_match_the_real_video(takes, desk: ReviewDesk, which, fps, frames, tc37) -> None:
    job = takes[which]
    clock = desk.clock(job.id)
    assert (round(clock.fps), clock.frames, clock.timecode(37)) == (fps, frames, tc37)
    video = desk.video(job.id)
    got = np.asarray(frame_image(video, 37).convert("RGB"))
    assert np.array_equal(got, decoded(video, 37)), "the exported still is frame 37, not a neighbour"
    assert not np.array_equal(got, decoded(video, 36)) and not np.array_equal(got, decoded(video, 38))
    note = desk.add_note(job.id, 37, "hold this beat longer", ANN)
    assert desk.note_views(job.id)[-1]["timecode"] == tc37 and note.frame == 37
    with pytest.raises(FrameOutOfRange, match=f"0 to {frames - 1}"):
        desk.add_note(job.id, frames, "past the end", ANN)


def test_notes_list_in_frame_order_with_ranges_replies_and_done(takes, desk: ReviewDesk) -> None:
    first = takes[1].id
    later = desk.add_note(first, 60, "  the kite is too small\x00\x1b[31m ", BEN, end_frame=72, drawing=ARROW)
    earlier = desk.add_note(first, 12, "hold this beat", ANN)
    listed = [n for n in desk.notes_of(first) if n.id in {later.id, earlier.id}]
    assert [n.id for n in listed] == [earlier.id, later.id], "frame order, not the order written"
    assert listed[1].text == "the kite is too small[31m", "control characters are stripped"
    assert (listed[1].end_frame, listed[1].frames, listed[1].drawing[1]["box"]) == (72, 13, [0.2, 0.2, 0.6, 0.6])
    desk.reply(later.id, "agreed, bigger", ANN)
    done = desk.mark_done(later.id, ANN)
    assert done.done and done.done_by == "Ann" and done.replies[0].text == "agreed, bigger"
    assert {n.id for n in desk.notes.open_of(first)} >= {earlier.id} and later.id not in {
        n.id for n in desk.notes.open_of(first)}


@pytest.mark.parametrize(("frame", "end", "text", "drawing", "said"), [
    (-1, None, "x", None, "not in this take"),
    ("12", None, "x", None, "whole frame number"),
    (True, None, "x", None, "whole frame number"),
    (40, 30, "x", None, "before frame 40"),
    (10, 96, "x", None, "end_frame 96 is not in this take"),
    (10, None, "   ", None, "needs its text"),
    (10, None, "x" * 4001, None, "limit is 4000"),
    (10, None, "x", [{"kind": "star", "points": [[0, 0]]}], "kind must be one of"),
    (10, None, "x", [{"kind": "line", "points": [[0, 0], [1.5, 0]]}], "from 0 to 1"),
    (10, None, "x", [{"kind": "line", "colour": "mauve", "points": [[0, 0], [1, 1]]}], "colour must be"),
    (10, None, "x", [{"kind": "arrow", "points": [[0, 0]] * 3}], "needs 2 points"),
    (10, None, "x", [{"kind": "line", "points": [[0, 0], [1, 1]]}] * 65, "at most 64 shapes"),
])
def test_a_bad_note_is_refused_with_a_sentence_and_nothing_is_stored(takes, desk, frame, end, text, drawing,
                                                                       said) -> None:
    before = len(takes[0].store.table(NOTES_TABLE))
    with pytest.raises(ValidationError, match=said):
        desk.add_note(takes[1].id, frame, text, ANN, end_frame=end, drawing=drawing)
    assert len(takes[0].store.table(NOTES_TABLE)) == before


def test_an_unknown_take_or_one_without_a_video_is_said_so(takes, desk: ReviewDesk) -> None:
    with pytest.raises(NoSuchTake):
        desk.add_note("job_nope", 1, "x", ANN)
    rendering = takes[0].store.insert(Job(id=new_job_id(), provider="engine", model="sora-2", prompt="a heron"))
    with pytest.raises(NotReviewable, match="no video here yet"):
        desk.add_note(rendering.id, 1, "x", ANN)


def test_the_approval_machine_records_each_decision_and_locks_a_final_take(takes, desk: ReviewDesk) -> None:
    take = takes[2].id
    assert desk.approval(take)["status"] == "in_review"
    with pytest.raises(IllegalTransition, match="cannot go to final"):
        desk.decide(take, "final", ANN)
    desk.decide(take, "changes_requested", BEN, "kite bigger")
    desk.decide(take, "approved", ANN)
    desk.decide(take, "approved", BEN, "fine now")  # a second reviewer concurs
    side_by_side = {d["author"]: d["decision"] for d in desk.approval(take)["reviewers"]}
    assert side_by_side == {"Ben": "approved", "Ann": "approved"}
    desk.decide(take, "final", ANN)
    state = desk.approval(take)
    assert state["status"] == "final" and state["locked"] and len(state["history"]) == 4
    assert state["history"][0]["text"] == "kite bigger" and state["history"][0]["before"] == "in_review"
    with pytest.raises(Locked, match="locked"):
        desk.add_note(take, 5, "one more thing", BEN)
    with pytest.raises(Locked, match="reopen"):
        desk.decide(take, "changes_requested", BEN)
    with pytest.raises(ValidationError, match="decision must be one of"):
        desk.decide(take, "maybe", BEN)
    assert desk.approvals.statuses()[take] is State.FINAL and takes[1].id not in desk.approvals.statuses()
    desk.decide(take, "reopen", BEN, "one more look")
    assert desk.approvals.status(take) is State.IN_REVIEW and desk.approvals.statuses()[take] is State.IN_REVIEW
    desk.add_note(take, 5, "one more thing", BEN)


def test_a_remix_is_the_next_version_and_shows_the_previous_versions_open_notes(takes, desk: ReviewDesk) -> None:
    studio, first, remix = takes[0], takes[1], takes[2]
    stack = desk.stack(remix.id)
    assert [j.id for j in stack.takes] == [first.id, remix.id] and stack.label(remix.id) == "v2"
    assert stack.current == remix.id and desk.previous(remix.id).id == first.id and desk.previous(first.id) is None
    note = desk.add_note(first.id, 3, "sky too dark", ANN)
    assert note.version == 1 and desk.add_note(remix.id, 3, "better", ANN).version == 2
    assert note.id in {n.id for n in desk.previous_open_notes(remix.id)}
    retake = take_at(studio, desk.video(first.id), "a red kite over dunes")
    desk.versions.link_retake(retake.id, remix.id)
    assert [j.id for j in desk.stack(first.id).takes] == [first.id, remix.id, retake.id]
    assert desk.versions.set_current(remix.id).current == remix.id


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_retake_sent_to_answer_notes_becomes_the_next_version(takes, desk: ReviewDesk) -> None:
    studio, first = takes[0], takes[1]
    before = desk.stack(first.id)
    retake = finished(studio, studio.submit(desk.retake_request(first.id)))
    assert (retake.prompt, retake.model, retake.seconds) == (first.prompt, first.model, first.seconds)
    assert retake.id not in {j.id for j in desk.stack(first.id).takes}, "a new generate is not linked by itself"
    stack = desk.add_version(retake.id, first.id)
    assert [j.id for j in stack.takes] == [*(j.id for j in before.takes), retake.id]
    assert desk.previous(retake.id).id == before.takes[-1].id
    assert desk.add_version(retake.id, first.id).takes == stack.takes, "adding it twice changes nothing"


def test_exports_put_every_note_at_its_frame_and_read_back(takes, desk: ReviewDesk, tmp_path: Path) -> None:
    take = takes[3].id  # the 30 fps take
    single = desk.add_note(take, 45, "hold | longer\nplease", ANN, drawing=ARROW)
    ranged = desk.add_note(take, 90, "=cmd|' /C calc'!A0", BEN, end_frame=99)
    clock, notes = desk.clock(take), [n for n in desk.notes_of(take) if n.id in {single.id, ranged.id}]

    path = tmp_path / "notes.otio"
    path.write_text(markers.otio_json("Take", desk.video(take), clock, notes, status="in_review", take=take))
    read = otio.adapters.read_from_file(str(path))
    clip = next(iter(read.find_clips()))
    found = {m.metadata["dailies"]["note_id"]: m for m in clip.markers}
    assert found[single.id].marked_range.start_time.to_frames() == 45
    assert found[ranged.id].marked_range.start_time.to_frames() == 90
    assert found[ranged.id].marked_range.duration.to_frames() == 10
    assert found[single.id].metadata["dailies"]["drawing"][0]["kind"] == "arrow"
    assert found[single.id].metadata["dailies"]["author"] == "Ann" and found[single.id].color == "RED"
    assert clip.source_range.duration.to_frames() == 120 and clip.source_range.start_time.rate == 30

    fcp = otio.adapters.read_from_string(markers.fcpxml("Take", desk.video(take), clock, notes), "fcpx_xml")
    back = {m.name: m for c in fcp.find_clips() for m in c.markers}
    assert {n: m.marked_range.start_time.to_frames() for n, m in back.items()} == {
        "Ann: hold | longer please": 45, "Ben: =cmd|' /C calc'!A0": 90}
    assert back["Ben: =cmd|' /C calc'!A0"].marked_range.duration.to_frames() == 10

    edl = markers.resolve_edl("Take", clock, notes)
    assert "001  001      V     C        00:00:01:15 00:00:01:16 00:00:01:15 00:00:01:16  " in edl
    assert " |C:ResolveColorRed |M:Ann: hold / longer please |D:1" in edl
    assert "002  001      V     C        00:00:03:00 00:00:03:10 00:00:03:00 00:00:03:10" in edl and "|D:10" in edl
    assert "01:00:01:15" in markers.resolve_edl("Take", clock, notes, timeline_start="01:00:00:00")

    rows = list(csv.DictReader(io.StringIO(markers.notes_csv(clock, notes))))
    assert [(r["timecode"], r["frame"]) for r in rows] == [("00:00:01:15", "45"), ("00:00:03:00", "90")]
    assert rows[1]["text"].startswith("'="), "a note cannot run as a spreadsheet formula"

    archive = zipfile.ZipFile(io.BytesIO(markers.annotated_zip("Take", desk.video(take), clock, notes)))
    assert sorted(archive.namelist()) == ["001-00-00-01-15.png", "002-00-00-03-00.png", "notes.txt"]
    drawn = np.asarray(Image.open(io.BytesIO(archive.read("001-00-00-01-15.png"))).convert("RGB")).astype(int)
    plain = decoded(desk.video(take), 45).astype(int)
    assert drawn.shape == plain.shape
    assert np.abs(drawn - plain).sum(axis=2).astype(bool).mean() > 0.001, "the drawing is on the frame"
    untouched = np.asarray(Image.open(io.BytesIO(archive.read("002-00-00-03-00.png"))).convert("RGB")).astype(int)
    assert np.array_equal(untouched, decoded(desk.video(take), 90).astype(int)), "exactly frame 90, nothing drawn"
    assert "00:00:01:15" in archive.read("notes.txt").decode() and "Ben: =cmd" in archive.read("notes.txt").decode()


def test_a_drawing_is_kept_as_checked_vector_data() -> None:
    checked = check_drawing([{"kind": "line", "points": [[0.123456, 0], [1, 1]]},
                             {"kind": "text", "points": [[0, 0]], "text": "<b>big</b>\x07"}])
    assert checked[0] == {"kind": "line", "colour": "red", "points": [[0.1235, 0.0], [1.0, 1.0]]}
    assert checked[1]["text"] == "<b>big</b>", "text stays text; the bell is gone"


def test_the_review_core_is_ui_free_and_its_surface_is_declared() -> None:
    import subprocess
    import sys

    import dailies.review as review

    assert all(hasattr(review, name) for name in review.__all__)
    assert {"ReviewDesk", "Author", "Clock", "State", "TRANSITIONS"} <= set(review.__all__)
    probe = "import sys, dailies.review, dailies.review.api, dailies.review.markers; print('streamlit' in sys.modules)"
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert ran.stdout.strip() == "False"
