"""Review status on History: what the Review column and filter cost a History of 2,000 takes.

Run: `.venv/bin/python -m bench.review_status` (`--quick`: 500 takes). A store of synthetic takes (the pages
benchmark's, files on disk) with a decision on one take in four is written through `JobStore`, and History is run in
Streamlit's AppTest (the page's whole script run, the table built and sent; no browser) against a real engine
on loopback, as the workbench tests do:
- "with": the page as shipped (`ReviewDesk.statuses`, one read of the decisions, cached per store version);
- "without": the same page with the status lookup answering nothing (the column still drawn: the difference
  is the lookup), as the page was before the review status;
each after a change to the store (a decision made, so the cached statuses are read again: the dear case) and
warm (nothing changed since). Median of `REPEATS` runs each. Also `ReviewDesk.statuses()` alone.
The goal: the review status adds under 10 % (or under 50 ms) to History's run after a change.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from bench.pages import finished_jobs
from bench.report import cli, table, write

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 15
GOAL_SHARE, GOAL_MS = 0.10, 50.0


def _history(run_count: int, *, changed: bool, statuses_on: bool, decide) -> list[float]:
    from streamlit.testing.v1 import AppTest

    import components.review_status as review_status

    times = []
    patch = contextlib.nullcontext() if statuses_on else mock.patch.object(review_status, "_statuses", lambda *_: {})
    with patch:
        at = AppTest.from_file(str(ROOT / "workbench.py"), default_timeout=120)
        at.switch_page("pages/history.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        for _ in range(run_count):
            if changed:
                decide()
            started = time.perf_counter()
            at.run()
            times.append((time.perf_counter() - started) * 1000)
            assert not at.exception, [e.value for e in at.exception]
    return times


def run(quick: bool) -> None:
    count = 500 if quick else 2_000
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        os.environ["DAILIES_HOME"] = str(home)
        from dailies.engine import EngineConfig, serve_engine

        with serve_engine(EngineConfig(data_dir=home / "engine", workers=1)) as engine:
            os.environ["DAILIES_ENGINE_URL"] = engine.base_url
            from dailies.store import JobStore

            store = JobStore(home / "jobs.json")
            (home / "media").mkdir()
            jobs = finished_jobs(count, home / "media")  # with their files: nothing to download
            with store.batch():
                for job in jobs:
                    store.insert(job)
            store.close()
            sys.path.insert(0, str(ROOT))
            from components.runtime import close_studio, studio
            from dailies.review import Author, ReviewDesk

            shared = studio()
            shared.store.wait_ready()
            desk = ReviewDesk(shared.store, shared.media)
            decided = [job for job in jobs if job.has_video][::4]
            for n, job in enumerate(decided):
                desk.decide(job.id, "approved" if n % 2 else "changes_requested", Author("bench"))
            turn = iter(range(10**6))

            def decide() -> None:  # a change to the store between runs: another take approved
                job = decided[next(turn) % len(decided)]
                desk.decide(job.id, "approved", Author("bench"))

            started = time.perf_counter()
            desk.statuses()
            lookup_ms = (time.perf_counter() - started) * 1000
            results = {}
            for name, changed, on in (("with, after a change", True, True), ("without, after a change", True, False),
                                      ("with, warm", False, True), ("without, warm", False, False)):
                results[name] = statistics.median(_history(REPEATS, changed=changed, statuses_on=on, decide=decide))
            close_studio()

    added = results["with, after a change"] - results["without, after a change"]
    share = added / results["without, after a change"]
    goal_met = share < GOAL_SHARE or added < GOAL_MS
    rows = [[name, ms] for name, ms in results.items()] + [["ReviewDesk.statuses() alone", lookup_ms]]
    print(table(f"History with {count:,} takes ({len(decided):,} decided): one script run, ms (median of {REPEATS})",
                ["run", "ms"], rows))
    print(f"The review status adds {added:.1f} ms ({share:.1%}) after a change; goal: under {GOAL_SHARE:.0%} or "
          f"{GOAL_MS:.0f} ms: {'met' if goal_met else 'NOT met'}")
    path = write("review_status", {"takes": count, "decided": len(decided), "repeats": REPEATS, "ms": results,
                                   "statuses_ms": lookup_ms, "added_ms": added, "added_share": share,
                                   "goal": f"under {GOAL_SHARE:.0%} or {GOAL_MS:.0f} ms added", "goal_met": goal_met})
    print(f"wrote {path}")


if __name__ == "__main__":
    cli(run, __doc__)
