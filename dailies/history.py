"""The History table: every job as one row, built once per store version.

Kept out of the page so the benchmark measures the same code the page runs, and so filters are
plain pandas that a test can check without a browser.
"""

from __future__ import annotations

import datetime as dt
import operator
import threading
from collections.abc import Callable, Iterable, Sequence

import pandas as pd

from dailies.exports import safe_csv
from dailies.jobs import Job
from dailies.store import Store

COLUMNS = ("thumbnail", "status", "why", "progress", "kind", "model", "size", "seconds", "cost", "created", "rating",
           "tags", "picked", "prompt", "group", "made_by", "provider", "id")
# What the History table shows, in order: the prompt early, so it has room at 1440 px.
SHOWN = ("thumbnail", "status", "prompt", "rating", "picked", "tags", "progress", "why", "kind", "provider", "model",
         "size", "seconds", "cost", "created", "made_by", "id")
PAGE_SIZE = 100
_ROW = operator.attrgetter("status", "why", "progress", "kind", "model", "size", "seconds", "cost_estimate",
                           "created_at", "rating", "tags", "picked", "prompt", "group_id", "made_by", "provider", "id")
"""A job's fields in the order of COLUMNS after the thumbnail."""


def jobs_frame(jobs: Iterable[Job], thumb_url: Callable[[Job], str | None] | None = None) -> pd.DataFrame:
    """One row per job, newest first, indexed by job id.

    The rows are read with one `attrgetter` per job (C, not a Python tuple per row); status and kind
    are string enums, so they come out as their words.
    """
    jobs = list(jobs)
    frame = pd.DataFrame.from_records(list(map(_ROW, jobs)), columns=list(COLUMNS[1:]))
    frame.insert(0, "thumbnail", [thumb_url(job) for job in jobs] if thumb_url else None)
    frame["group"] = frame["group"].fillna("")
    frame["created"] = pd.to_datetime(frame["created"], unit="s", utc=True).dt.tz_convert(None)
    frame["rating"] = frame["rating"].astype("Int64")
    frame = frame.sort_values("created", ascending=False, kind="stable")
    return frame.set_index("id", drop=False)


class LiveFrame:
    """The History table of one store, kept up to date one store version at a time.

    Building the table from every job costs about a second at 100,000 jobs; a status change, a
    rating or a new take touches a row or a few. So after the first build only the rows of the
    jobs changed since (`Store.changed_since`) are built again, and the table is a new frame
    (never one changed in place: other sessions may be reading the one they were handed).
    """

    REBUILD_SHARE = 0.2
    """Above this share of rows changed, building the whole table again is as quick."""

    def __init__(self, store: Store, thumb_url: Callable[[Job], str | None] | None = None) -> None:
        self.store = store
        self.thumb_url = thumb_url
        self.version = -1
        self.frame: pd.DataFrame | None = None
        self.rebuilds = 0
        """Whole builds so far (the first, and any after changes too many or too old to follow)."""
        self._lock = threading.Lock()

    def current(self) -> pd.DataFrame:
        """The table as of the store's version now."""
        version = self.store.version  # before the jobs: a change landing meanwhile is only built twice
        with self._lock:
            if self.frame is not None and version == self.version:
                return self.frame
            changed = self.store.changed_since(self.version) if self.frame is not None else None
            if changed is None or not len(self.frame) or len(changed) > self.REBUILD_SHARE * len(self.frame):
                frame = jobs_frame(self.store.all(), self.thumb_url)
                self.rebuilds += 1
            else:
                frame = self._updated(self.frame, changed)
            self.frame, self.version = frame, version
            return frame

    def _updated(self, frame: pd.DataFrame, changed: set[str]) -> pd.DataFrame:
        jobs = [job for job in map(self.store.get, changed) if job is not None]
        gone = frame.index.intersection(list(changed))
        kept = frame.drop(index=gone) if len(gone) else frame
        if not jobs:
            return kept
        rows = jobs_frame(jobs, self.thumb_url)
        merged = pd.concat([rows, kept]) if len(kept) else rows
        return merged.sort_values("created", ascending=False, kind="stable")


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
    ratings: Sequence[int | None] = (),
    picked: bool | None = None,
    people: Sequence[str] = (),
    providers: Sequence[str] = (),
) -> pd.DataFrame:
    """The rows that match every filter given (empty filters match everything).

    `ratings` may hold None for "not rated yet"; `picked` None means picked or not; `people` are who
    launched the jobs ("" for jobs nobody was recorded for: older ones, the command line).
    """
    if not (statuses or kinds or models or since or until or text.strip() or tags or ratings or people or providers
            or picked is not None):
        return frame  # nothing to filter: no copy of every row on every run
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
    if ratings:
        stars = {int(r) for r in ratings if r is not None}
        rated = frame["rating"].isin(stars).fillna(False).astype(bool)
        mask &= (rated | frame["rating"].isna()) if None in ratings else rated
    if picked is not None:
        mask &= frame["picked"] == picked
    if people:
        mask &= frame["made_by"].isin(people)
    if providers:
        mask &= frame["provider"].isin(providers)
    return frame[mask]


def page_of(frame: pd.DataFrame, page: int, size: int = PAGE_SIZE) -> pd.DataFrame:
    """One page of the table, as the browser is sent it: the shown columns of `size` rows.

    A browser handed 100,000 rows (thumbnails and prompts) takes seconds to open the page, however
    fast the table was built; one page of rows is what a person reads anyway. The rating becomes
    text ("4 ★", blank when not rated) because a number column shows a missing value as "None".
    """
    start = (max(1, page) - 1) * size
    rows = frame.iloc[start : start + size]
    shown = rows[[c for c in SHOWN if c in rows.columns]].copy()
    shown["rating"] = [stars(r) for r in rows["rating"]]
    return shown


def history_csv(shown: pd.DataFrame) -> str:
    """The rows shown (every filtered row, not one page) as CSV for a spreadsheet, without thumbnails."""
    return safe_csv(shown.drop(columns=["thumbnail"], errors="ignore"))


def page_count(rows: int, size: int = PAGE_SIZE) -> int:
    """How many pages `rows` rows fill (at least one, so an empty table still has a page)."""
    return max(1, -(-rows // size))


def stars(rating: object) -> str:
    """A rating as people read it in the table: "4 ★", or nothing when not rated."""
    if rating is None or pd.isna(rating):
        return ""
    return f"{int(rating)} ★"


def per_day(frame: pd.DataFrame) -> pd.DataFrame:
    """Jobs and spend per day, for the chart."""
    if frame.empty:
        return pd.DataFrame({"jobs": [], "spend": []})
    days = frame["created"].dt.floor("D")
    return frame.groupby(days).agg(jobs=("id", "size"), spend=("cost", "sum"))


def per_person(frame: pd.DataFrame) -> pd.DataFrame:
    """Jobs and spend per person who launched them, the biggest spender first."""
    who = frame["made_by"].replace("", NOBODY)
    found = frame.groupby(who).agg(jobs=("id", "size"), spend=("cost", "sum"))
    return found.sort_values(["spend", "jobs"], ascending=False).rename_axis("person")


NOBODY = "(not recorded)"
"""How a job without a recorded person is named: made before people were recorded, or from the command line."""
