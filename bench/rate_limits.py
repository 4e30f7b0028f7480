"""Rate limits: 30 takes with half their creates refused (429 + Retry-After) against none refused, side by side.

Run: `.venv/bin/python -m bench.rate_limits` (`--quick`: 10 takes). The engine runs in its own process
(`python -m dailies.engine --rate-429-create 0.5 --retry-after-s 1`), refusing each create with
probability one half before making anything, as a rate-limited provider does. The Studio launches the takes
at concurrency 4 and follows them to verified files; a refused take waits in the send queue and is sent
when the engine's Retry-After has passed. "made at engine" counts the engine's own list of videos: every
take must be made exactly once (none lost, none twice). "refusals" counts the 429s the takes met (each
take's `refusals`); "wall s" is from the launch to the last take verified.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import cli, columns_table, conclude
from bench.sweeps import EngineProcess, requests_for, verified
from dailies.client import VideosClient
from dailies.config import Environment, Settings, SettingsFile
from dailies.studio import Studio

TAKES_FULL = 30
TAKES_QUICK = 10
CONCURRENCY = 4
RETRY_AFTER_S = 1.0
SLOWDOWN_BAR = 3.0
"""The goal's bar: with half the creates refused, all takes done within this many times the no-fault wall."""
COLUMNS = [
    ("creates refused", "faults"),
    ("takes", "takes"),
    ("refusals", "refusals"),
    ("made at engine", "made_at_engine"),
    ("verified", "verified"),
    ("wall s", "wall_s"),
    ("wall / no-fault wall", "over_clean"),
]


def run_one(takes: int, rate: float, folder: Path, timeout: float = 900) -> dict[str, Any]:
    folder.mkdir(parents=True)
    home = folder / "home"
    SettingsFile(home / "settings.json").save(Settings(max_concurrency=CONCURRENCY))
    extra = ["--rate-429-create", str(rate), "--retry-after-s", str(RETRY_AFTER_S), "--fault-seed", "25"]
    with EngineProcess(folder / "engine", CONCURRENCY, extra) as engine:
        studio = Studio(Environment(home=home), engine_base_url=engine.base_url)
        try:
            started = time.perf_counter()
            studio.start()
            launched = studio.launch(requests_for(takes), concurrency=CONCURRENCY)
            end = time.monotonic() + timeout
            while studio.store.active() and time.monotonic() < end:
                time.sleep(0.05)
            wall = time.perf_counter() - started
            studio.tracker.stop()
            ok = sum(verified(studio, job) for job in launched.jobs)
            jobs = [studio.store.require(job.id) for job in launched.jobs]
            made = [v["id"] for v in VideosClient(engine.base_url).list_all()]
        finally:
            studio.close()
    remote_ids = sorted(j.remote_id for j in jobs if j.remote_id)
    return {
        "faults": f"{rate:.0%}",
        "rate_429_create": rate,
        "takes": takes,
        "submit_errors": len(launched.errors),
        "refusals": sum(int(j.params.get("refusals", 0)) for j in jobs),
        "made_at_engine": len(made),
        "made_once": sorted(made) == remote_ids and len(remote_ids) == takes,
        "verified": f"{ok}/{takes}",
        "all_verified": ok == takes,
        "wall_s": wall,
    }


def run(quick: bool = False) -> dict[str, Any]:
    takes = TAKES_QUICK if quick else TAKES_FULL
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_one(takes, 0.0, Path(tmp) / "clean"), run_one(takes, 0.5, Path(tmp) / "limited")]
    for row in rows:
        row["over_clean"] = row["wall_s"] / rows[0]["wall_s"]
    print(
        columns_table(
            f"Rate limits: {takes} takes (4 s, 720x1280) at concurrency {CONCURRENCY}, creates refused with 429 "
            f"(Retry-After {RETRY_AFTER_S:g} s) or not; engine in its own process, {os.cpu_count()} cores",
            COLUMNS,
            rows,
        )
    )
    goal = ("every take made exactly once (the engine's own list) and verified, with and without refusals; with "
            f"half the creates refused, all done within {SLOWDOWN_BAR:g}x the no-fault wall")
    checks = {
        "none_lost_none_twice": all(r["made_once"] and r["submit_errors"] == 0 for r in rows),
        "all_verified": all(r["all_verified"] for r in rows),
        "refusals_met": rows[1]["refusals"] > 0,
        "slowdown_bounded": rows[1]["over_clean"] <= SLOWDOWN_BAR,
    }
    print(f"goal: {goal}\nchecks: {checks}; goal met: {all(checks.values())}")
    return conclude("rate_limits", {"quick": quick, "rows": rows, "goal": goal}, checks)


if __name__ == "__main__":
    cli(run, __doc__)
