"""The History table: every job as one row, built once per store version.

Kept out of the page so the benchmark measures the same code the page runs, and so filters are
plain pandas that a test can check without a browser.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

import pandas as pd

from dailies.jobs import Job

COLUMNS = ("thumbnail", "status", "progress", "kind", "model", "size", "seconds", "cost", "created", "rating",
           "tags", "picked", "prompt", "group", "id")


def jobs_frame(jobs: Iterable[Job], thumb_url: Callable[[Job], str | None] | None = None) -> pd.DataFrame:
    """One row per job, newest first, indexed by job id."""
    rows = [
        (
            thumb_url(job) if thumb_url else None,
            str(job.status),
            job.progress,
            str(job.kind),
            job.model,
            job.size,
            job.seconds,
            job.cost_estimate,
            job.created_at,
            job.rating,
            list(job.tags),
            job.picked,
            job.prompt,
            job.group_id or "",
            job.id,
        )
        for job in jobs
    ]
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    frame["created"] = pd.to_datetime(frame["created"], unit="s", utc=True).dt.tz_convert(None)
    frame["rating"] = frame["rating"].astype("Int64")
    frame = frame.sort_values("created", ascending=False, kind="stable")
    return frame.set_index("id", drop=False)


def filter_frame(
    frame: pd.DataFrame,
    *,
    statuses: Sequence[str] = (),
    kinds: Sequence[str] = (),
    models: Sequence[str] = (),
    since: dt.date | None = None,
    until: dt.date | None = None,
    text: str = "",
    tags: Sequence[str] = (),
) -> pd.DataFrame:
    """The rows that match every filter given (empty filters match everything)."""
    mask = pd.Series(True, index=frame.index)
    if statuses:
        mask &= frame["status"].isin(statuses)
    if kinds:
        mask &= frame["kind"].isin(kinds)
    if models:
        mask &= frame["model"].isin(models)
    if since:
        mask &= frame["created"] >= pd.Timestamp(since)
    if until:
        mask &= frame["created"] < pd.Timestamp(until) + pd.Timedelta(days=1)
    if text.strip():
        needle = text.strip()
        mask &= frame["prompt"].str.contains(needle, case=False, regex=False) | frame["id"].str.contains(
            needle, case=False, regex=False
        )
    if tags:
        wanted = set(tags)
        mask &= frame["tags"].map(lambda have: bool(wanted.intersection(have)))
    return frame[mask]


def per_day(frame: pd.DataFrame) -> pd.DataFrame:
    """Jobs and spend per day, for the chart."""
    if frame.empty:
        return pd.DataFrame({"jobs": [], "spend": []})
    days = frame["created"].dt.floor("D")
    return frame.groupby(days).agg(jobs=("id", "size"), spend=("cost", "sum"))
