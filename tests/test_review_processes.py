"""Reviewers in separate processes on one data folder: nobody's note or decision is lost or taken against a
status that had already changed."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest
from review_fixtures import store_take, tiny_video
from shell_free import shell_free

from dailies.media import MediaLibrary
from dailies.review import Author, ReviewDesk
from dailies.store import JobStore

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "review_worker.py"


def start(home: Path, *args: str) -> subprocess.Popen[str]:
    env = shell_free()
    env.update({"DAILIES_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])})
    return subprocess.Popen([sys.executable, str(WORKER), args[0], str(home), *args[1:]], cwd=ROOT, env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_both(home: Path, mode: str, take: str, count: int) -> list[list[str]]:
    workers = [start(home, mode, take, name, str(count)) for name in ("Ann", "Ben")]
    (home / "go").touch()
    outputs = [w.communicate(timeout=180) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    return [[line.split()[1] for line in out.splitlines() if line.startswith("ack ")] for out, _ in outputs]


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "home"
    home.mkdir()
    store = JobStore(home / "jobs.json")
    take = store_take(store, MediaLibrary(home / "media"), tiny_video(tmp_path / "t.mp4", frames=48))
    store.close()
    return home, take.id


def test_two_reviewer_processes_noting_one_take_lose_no_note(folder: tuple[Path, str]) -> None:
    home, take = folder
    acked = run_both(home, "notes", take, 30)
    assert [len(a) for a in acked] == [30, 30]
    desk = ReviewDesk(JobStore(home / "jobs.json"), MediaLibrary(home / "media"))
    notes = desk.notes_of(take)
    assert {n.id for n in notes} == set(acked[0]) | set(acked[1]) and len(notes) == 60
    assert [n.frame for n in notes] == sorted([*range(30), *range(30)]), "listed in frame order"
    assert {n.text for n in notes} == {f"{who} note {i}" for who in ("Ann", "Ben") for i in range(30)}


def test_two_reviewer_processes_deciding_at_once_make_one_unbroken_history(folder: tuple[Path, str]) -> None:
    home, take = folder
    acked = run_both(home, "decide", take, 20)
    history = ReviewDesk(JobStore(home / "jobs.json"), MediaLibrary(home / "media")).approvals.history(take)
    assert {d.id for d in history} == set(acked[0]) | set(acked[1]) and len(history) == 40
    assert [d.seq for d in history] == list(range(1, 41)), "one decision per place in the order"
    for earlier, later in itertools.pairwise(history):
        assert later.before == earlier.decision, "each decision was checked against the status it changed"


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = shell_free()
    env.update({"DAILIES_HOME": str(home), "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "dailies", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=120, check=False)


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_cli_lists_and_exports_a_takes_notes(folder: tuple[Path, str], tmp_path: Path) -> None:
    home, take = folder
    store = JobStore(home / "jobs.json")
    desk = ReviewDesk(store, MediaLibrary(home / "media"))
    desk.add_note(take, 30, "kite too small", Author("Ann"))
    desk.add_note(take, 2, "hold", Author("Ben"), end_frame=9)
    store.close()

    listed = run_cli(home, "notes", "list", take)
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line)["timecode"] for line in listed.stdout.splitlines()] == ["00:00:00:02", "00:00:01:06"]
    out = tmp_path / "notes.otio"
    assert run_cli(home, "notes", "export", take, "--format", "otio", "--out", str(out)).returncode == 0
    clip = next(iter(otio.adapters.read_from_file(str(out)).find_clips()))
    assert sorted(m.marked_range.start_time.to_frames() for m in clip.markers) == [2, 30]
    edl = run_cli(home, "notes", "export", take, "--format", "edl", "--timeline-start", "01:00:00:00")
    assert "01:00:01:06 01:00:01:07 01:00:01:06 01:00:01:07" in edl.stdout and "|M:Ann: kite too small" in edl.stdout
    missing = run_cli(home, "notes", "export", "job_nope")
    assert missing.returncode == 1 and "No take 'job_nope'" in missing.stderr
