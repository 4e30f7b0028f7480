"""Review rounds: many reviewers, one record each per take, results with an honest certainty."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from dailies.errors import ValidationError
from dailies.jobs import FileRecord, Job, JobStatus
from dailies.review.rounds import ReviewBook
from dailies.store import JobStore

ROOT = Path(__file__).resolve().parents[1]
LIGHT = {"A": "dusk", "B": "dusk", "C": "noon", "D": "noon"}
ANGLE = {"A": "aerial", "B": "eye level", "C": "aerial", "D": "eye level"}


@pytest.fixture
def store(tmp_path: Path):
    opened = JobStore(tmp_path / "jobs.json")
    for name in "ABCD":
        opened.insert(Job(id=f"job_{name}", provider="engine", model="m", prompt=f"boat {name}",
                          status=JobStatus.COMPLETED, group_id="grp", axes={"light": LIGHT[name], "angle": ANGLE[name]},
                          files={"video": FileRecord(path=f"job_{name}/video.mp4", size=1, sha256="0")}))
    yield opened
    opened.close()


def score_all(book: ReviewBook, round_id: str, reviewer: str, stars: dict[str, int], submit: bool = True) -> None:
    for name, value in stars.items():
        note = f"{reviewer} on {name}" if name == "A" else None
        book.score(round_id, reviewer, f"job_{name}", stars=value, note=note)
    if submit:
        book.submit(round_id, reviewer)


SCORES = {
    "ann": {"A": 5, "B": 4, "C": 2, "D": 1},
    "bo": {"A": 4, "B": 4, "C": 3, "D": 2},
    "cy": {"A": 5, "B": 3, "C": 1, "D": 2},
}


def test_three_reviewers_give_means_spreads_ranking_and_axis_effects_as_by_hand(store) -> None:
    book = ReviewBook(store)
    found = book.start([f"job_{n}" for n in "ABCD"], blind=True)
    for reviewer, stars in SCORES.items():
        score_all(book, found.id, reviewer, stars)
    results = book.results(found.id)

    by_take = {t.take: t for t in results.takes}
    for name in "ABCD":
        got = [SCORES[r][name] for r in SCORES]
        assert by_take[f"job_{name}"].count == 3
        assert by_take[f"job_{name}"].mean == pytest.approx(statistics.fmean(got))
        assert by_take[f"job_{name}"].spread == pytest.approx(statistics.stdev(got))
    assert [t.take for t in results.takes] == ["job_A", "job_B", "job_C", "job_D"]  # 4.67, 3.67, 2, 1.67
    assert results.reviewers == ["ann", "bo", "cy"]
    # Every score of the dusk takes (A, B) against every score: 25/6 - 36/12 = 7/6.
    effects = {(e.axis, e.value): e for e in results.effects}
    assert effects[("light", "dusk")].mean == pytest.approx(25 / 6, abs=1e-4)
    assert effects[("light", "dusk")].effect == pytest.approx(25 / 6 - 3, abs=1e-4)
    assert effects[("light", "noon")].effect == pytest.approx(11 / 6 - 3, abs=1e-4)
    assert effects[("angle", "aerial")].mean == pytest.approx(20 / 6, abs=1e-4)
    assert {n["note"] for n in results.notes} == {"ann on A", "bo on A", "cy on A"}
    low, high = by_take["job_A"].low, by_take["job_A"].high
    assert 4 <= low <= 14 / 3 <= high <= 5


def test_a_draft_does_not_count_and_reviewers_never_overwrite_each_other(store) -> None:
    book = ReviewBook(store)
    found = book.start(["job_A", "job_B"], blind=False)
    book.score(found.id, "ann", "job_A", stars=5)
    book.score(found.id, "Bo", "job_A", stars=1)
    book.score(found.id, "ann", "job_A", note="lovely")  # a note later keeps the stars
    assert book.scores_of(found.id, "ann")["job_A"]["stars"] == 5
    assert book.scores_of(found.id, "ann")["job_A"]["note"] == "lovely"
    assert book.scores_of(found.id, " bo ")["job_A"]["stars"] == 1, "the same name, spaced or cased otherwise"
    with pytest.raises(ValidationError, match="1 still without stars"):
        book.submit(found.id, "ann")
    assert book.results(found.id).takes[0].count == 0, "nothing counts before a submit"
    book.score(found.id, "ann", "job_B", stars=2)
    book.submit(found.id, "ann")
    assert book.submitted(found.id, "ann") and not book.submitted(found.id, "bo")
    with pytest.raises(ValidationError, match="submitted"):
        book.score(found.id, "ann", "job_A", stars=1)
    results = book.results(found.id)
    assert {t.take: t.mean for t in results.takes} == {"job_A": 5.0, "job_B": 2.0}
    assert "Too few reviews to call" in results.certainty.sentence and not results.certainty.called


def test_blind_order_is_shuffled_per_reviewer_and_stable(store) -> None:
    book = ReviewBook(store)
    takes = [f"job_{n}" for n in "ABCD"]
    blind = book.start(takes, blind=True)
    orders = {tuple(book.order_for(blind.id, f"reviewer {n}")) for n in range(12)}
    assert len(orders) > 3
    assert book.order_for(blind.id, "ann") == book.order_for(blind.id, "ANN")
    labelled = book.start(takes, blind=False)
    assert book.order_for(labelled.id, "ann") == takes


def test_agreeing_reviewers_are_called_and_a_split_is_not(store) -> None:
    book = ReviewBook(store)
    clear = book.start(["job_A", "job_B"])
    for n in range(6):
        score_all(book, clear.id, f"r{n}", {"A": 5, "B": 2})
    certainty = book.results(clear.id).certainty
    assert certainty.called and certainty.leader == "job_A" and certainty.share == 1.0
    split = book.start(["job_A", "job_B"])
    for n, (a, b) in enumerate([(5, 1), (1, 5), (4, 3), (2, 4)]):
        score_all(book, split.id, f"r{n}", {"A": a, "B": b})
    certainty = book.results(split.id).certainty
    assert not certainty.called and certainty.sentence.startswith("Too close to call")


def test_pairwise_choices_rank_by_bradley_terry(store) -> None:
    book = ReviewBook(store)
    found = book.start([f"job_{n}" for n in "ABC"], mode="pairwise")
    prefer = {"A": 3, "B": 2, "C": 1}
    for reviewer in ("ann", "bo", "cy"):
        pairs = book.pairs_for(found.id, reviewer)
        assert len(pairs) == 3
        for left, right in pairs:
            book.choose(found.id, reviewer, (left, right), max(left, right, key=lambda t: prefer[t[-1]]))
        assert book.submitted(found.id, reviewer)
    with pytest.raises(ValidationError, match="already chose"):
        book.choose(found.id, "ann", ("job_A", "job_B"), "job_B")
    results = book.results(found.id)
    assert [t.take for t in results.takes] == ["job_A", "job_B", "job_C"]
    assert [(t.wins, t.comparisons) for t in results.takes] == [(6, 6), (3, 6), (0, 6)]
    assert results.takes[0].strength > results.takes[1].strength > results.takes[2].strength


def test_refusals_write_nothing_and_the_winner_is_picked(store) -> None:
    book = ReviewBook(store)
    with pytest.raises(ValidationError, match="at least two"):
        book.start(["job_A"])
    with pytest.raises(ValidationError, match="no take"):
        book.start(["job_A", "job_nope"])
    assert book.rounds() == []
    found = book.start(["job_A", "job_B"])
    with pytest.raises(ValidationError, match="1 to 5"):
        book.score(found.id, "ann", "job_A", stars=6)
    with pytest.raises(ValidationError, match="not one of"):
        book.score(found.id, "ann", "job_C", stars=3)
    assert book.scores_of(found.id, "ann") == {}
    book.mark_winner(found.id, "job_B")
    assert book.get(found.id).winner == "job_B" and store.require("job_B").picked


def test_reviewers_in_two_processes_both_count(store, tmp_path: Path) -> None:
    """A second process (another app, another server) scores the same round at the same time."""
    book = ReviewBook(store)
    found = book.start(["job_A", "job_B"])
    script = (
        "import sys; from dailies.store import JobStore; from dailies.review.rounds import ReviewBook\n"
        "store = JobStore(sys.argv[1]); book = ReviewBook(store)\n"
        "for n in range(20):\n"
        "    book.score(sys.argv[2], f'far {n}', 'job_A', stars=1)\n"
        "    book.score(sys.argv[2], f'far {n}', 'job_B', stars=5)\n"
        "    book.submit(sys.argv[2], f'far {n}')\n"
        "store.close()\n"
    )
    other = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "jobs.json"), found.id], cwd=ROOT,
                             env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    for n in range(20):
        score_all(book, found.id, f"near {n}", {"A": 5, "B": 1})
    assert other.wait(timeout=120) == 0
    store.refresh()
    results = book.results(found.id)
    assert len(results.reviewers) == 40
    assert {t.take: (t.count, t.mean) for t in results.takes} == {"job_A": (40, 3.0), "job_B": (40, 3.0)}
