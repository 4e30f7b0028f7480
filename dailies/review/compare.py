"""Which takes Compare plays: any two to four, wherever they were chosen, named in a link that can be shared.

Compare used to play only a job's lineage, so two sibling takes of a grid, picked in History, played
nothing. Now the selection is a plain list of job ids, carried in the page's address as
`?takes=id1,id2,id3`; History's selection, a grid's picks and a job's lineage all become such a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from dailies.jobs import Job
from dailies.store import Store

__all__ = ["MAX_TAKES", "MIN_TAKES", "Selection", "latest_family", "lineage_takes", "parse_takes", "recent_takes",
           "resolve", "shown_id", "takes_param"]

MIN_TAKES = 2
MAX_TAKES = 4
"""Four players side by side is as many as a 1440 px window shows at a size worth judging."""
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def parse_takes(value: str | Iterable[str] | None) -> list[str]:
    """The ids a `takes` parameter names, in order, each once: "a, b,,a" → ["a", "b"]."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else [p for item in value for p in item.split(",")]
    return list(dict.fromkeys(part.strip() for part in parts if part.strip()))


def shown_id(value: str) -> str:
    """An id from an address, as a page may repeat it: a job id is letters, digits and `_.-`; anything
    else (markdown, HTML, a path) is not repeated, so a crafted link cannot put its text on the page."""
    return value if _ID.match(value) else "(not a job id)"


def takes_param(job_ids: Iterable[str]) -> str:
    """The `takes` parameter for these ids (the first four: Compare plays no more)."""
    return ",".join(list(dict.fromkeys(job_ids))[:MAX_TAKES])


@dataclass
class Selection:
    """What a list of ids comes to: the takes that can play, and why the others cannot."""

    playable: list[Job] = field(default_factory=list)
    not_ready: list[Job] = field(default_factory=list)
    """Known jobs without a video yet (running, failed or timed out)."""
    unknown: list[str] = field(default_factory=list)
    """Ids no job here has: deleted, mistyped, or from another team's workbench."""
    dropped: list[str] = field(default_factory=list)
    """Playable takes beyond the fourth."""


def resolve(store: Store, job_ids: Iterable[str]) -> Selection:
    """Sort the asked-for ids into what plays and what does not, keeping their order."""
    selection = Selection()
    for job_id in job_ids:
        job = store.get(job_id)
        if job is None:
            selection.unknown.append(job_id)
        elif not job.has_video:
            selection.not_ready.append(job)
        elif len(selection.playable) < MAX_TAKES:
            selection.playable.append(job)
        else:
            selection.dropped.append(job_id)
    return selection


def lineage_takes(store: Store, job_id: str) -> list[str]:
    """The playable takes of a job's lineage, root first, at most four, the job itself always among them."""
    playable = [job.id for job in store.lineage(job_id) if job.has_video]
    if len(playable) > MAX_TAKES and job_id in playable[MAX_TAKES:]:
        return [*playable[: MAX_TAKES - 1], job_id]
    return playable[:MAX_TAKES]


def latest_family(store: Store) -> list[str]:
    """What to play when nothing was asked for: the newest remix, extension or edit with its lineage."""
    for job in store.all():
        if job.source_job_id and job.has_video:
            return lineage_takes(store, job.id)
    return []


def recent_takes(jobs: Iterable[Job], limit: int = 200) -> list[str]:
    """The newest playable takes, to choose from without loading a list of every job ever made."""
    playable = (job for job in jobs if job.has_video)
    return [job.id for job in sorted(playable, key=lambda job: job.created_at, reverse=True)[:limit]]
