"""Every CSV the app writes opens in a spreadsheet as data: people's text never runs as a formula.

History, the Variants review and the review round's scores and ranking are built by the functions the
pages call and read back with `csv` and pandas. (Batch reads CSV files and writes none.)
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from components.review_round import raw_records
from components.variant_grid import review_csv
from dailies.exports import safe_csv
from dailies.history import filter_frame, history_csv, jobs_frame
from dailies.jobs import FileRecord, Job, new_job_id
from dailies.review.rounds import ReviewBook
from dailies.store import JobStore

FORMULAS = ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tx", "\rx"]


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def make_job(prompt: str, n: int, **kwargs) -> Job:
    return Job(id=new_job_id(), provider="engine", model="sora-2", prompt=prompt, size="720x1280", seconds=4,
               created_at=1_000_000 + n, **kwargs)


def test_text_cells_that_start_a_formula_get_a_quote_and_numbers_stay_numbers() -> None:
    frame = pd.DataFrame({"text": [*FORMULAS, "a calm sea", ""], "cost": [-2.5, 1.0, 0, 3, 4, 5, 6, 7],
                          "stars": pd.array([-1, None, 1, 2, 3, 4, 5, 6], dtype="Int64")})
    written = rows(safe_csv(frame))
    assert [r["text"] for r in written] == ["'" + f for f in FORMULAS] + ["a calm sea", ""]
    assert written[0]["cost"] == "-2.5" and written[0]["stars"] == "-1", "numbers are written as numbers"
    back = pd.read_csv(io.StringIO(safe_csv(frame)))
    assert back["cost"].dtype.kind == "f" and back.loc[0, "cost"] == -2.5
    assert list(rows(safe_csv(pd.DataFrame({"=A1": ["x"]})))[0]) == ["'=A1"], "column names are text too"


def test_the_history_export(tmp_path: Path) -> None:
    jobs = [make_job(f, n, tags=["=tag"], made_by="@Olga", notes=f) for n, f in enumerate(FORMULAS)]
    shown = filter_frame(jobs_frame(jobs))
    written = rows(history_csv(shown))
    assert sorted(r["prompt"] for r in written) == sorted("'" + f for f in FORMULAS)
    assert {r["made_by"] for r in written} == {"'@Olga"}
    assert all(not r[c].startswith(("=", "+", "-", "@", "\t", "\r")) for r in written for c in r)
    assert "thumbnail" not in written[0]
    assert {r["seconds"] for r in written} == {"4"}


def test_the_variants_review_export() -> None:
    jobs = [make_job(f, n, axes={"light": f}, notes=f, rating=4) for n, f in enumerate(FORMULAS)]
    written = rows(review_csv(jobs))
    assert [r["prompt"] for r in written] == ["'" + f for f in FORMULAS]
    assert [r["notes"] for r in written] == ["'" + f for f in FORMULAS]
    assert [r["axis:light"] for r in written] == ["'" + f for f in FORMULAS]
    back = pd.read_csv(io.StringIO(review_csv(jobs)))
    assert list(back["rating"]) == [4] * len(FORMULAS), "stars stay numbers"


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_review_scores_export(tmp_path: Path, formula: str) -> None:
    store = JobStore(tmp_path / "jobs.json")
    jobs = [make_job("a kite", n, files={"video": FileRecord(f"{n}/video.mp4", 10, "ab12" * 16)}) for n in range(2)]
    for job in jobs:
        store.insert(job)
    book = ReviewBook(store)
    found = book.start([j.id for j in jobs], created_by="Olga")
    for take in found.takes:
        book.score(found.id, formula, take, stars=3, note=formula)
    book.submit(found.id, formula)
    records = book.records(found.id)
    written = rows(safe_csv(raw_records(records)))
    for column, stored in (("reviewer", records[0]["reviewer"]), ("note", records[0]["note"])):
        # names and notes are kept stripped ("\tx" is kept as "x")
        assert {r[column] for r in written} == {"'" + stored if stored[0] in "=+-@\t\r" else stored}, column
    assert written[0]["note"].startswith(("'", "x"))
    assert {r["stars"] for r in written} == {"3"}
