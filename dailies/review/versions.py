"""Version stacks: a take and what was made from it to answer notes, as v1, v2, ... with one current.

What counts as "made from it": a remix, extension or edit (the job's `source_job_id`, as in
`JobStore.lineage`), and a retake (the same request again, `ReviewDesk.retake_request`, joined to the
stack with `link_retake`, kept in `review_versions`). The stack is the root take and everything made
from it, directly or not, numbered by creation time (v1 is the root). The current version is the one a
reviewer chose (`set_current`, kept in `review_versions` under `current:<root>`), else the newest finished
one, else the newest. Notes and decisions belong to one version (they name its take id).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dailies.errors import ValidationError
from dailies.jobs import Job, JobStatus

__all__ = ["VERSIONS_TABLE", "Stack", "Versions"]

VERSIONS_TABLE = "review_versions"


@dataclass(frozen=True)
class Stack:
    """One version stack, oldest first."""

    takes: tuple[Job, ...]
    current: str

    @property
    def root(self) -> Job:
        return self.takes[0]

    def number(self, take: str) -> int:
        """The version number of `take` in the stack (1 for the root)."""
        for index, job in enumerate(self.takes):
            if job.id == take:
                return index + 1
        raise ValidationError(f"{take} is not in this version stack.")

    def previous(self, take: str) -> Job | None:
        """The version before `take` (for comparing it with the one it answers), or None for v1."""
        number = self.number(take)
        return self.takes[number - 2] if number > 1 else None

    def label(self, take: str) -> str:
        return f"v{self.number(take)}"


class Versions:
    """Version stacks over the job store and the `review_versions` table."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._links = store.table(VERSIONS_TABLE)

    def _retakes(self) -> dict[str, str]:
        """Retake links: take → the take it answers."""
        return {key: str(value.get("of")) for key, value in self._links.all().items()
                if not key.startswith("current:") and value.get("of")}

    def stack(self, take: str) -> Stack:
        """The stack `take` belongs to (a take nothing was made from, and made from nothing, is a stack of one).

        Read through the store's lineage (worked out once per store version, so a page of cards stays cheap)
        and the retake links, never by scanning every take."""
        job = self._store.get(take)
        if job is None:
            raise ValidationError(f"No take {take!r}.", field="take")
        links = self._retakes()
        root, seen = job, {job.id}
        while (parent := root.source_job_id or links.get(root.id)) and parent not in seen:
            found = self._store.get(parent)
            if found is None:
                break
            root = found
            seen.add(root.id)
        answered_by: dict[str, list[str]] = {}
        for child, of in links.items():
            answered_by.setdefault(of, []).append(child)
        members: dict[str, Job] = {}
        queue = [root.id]
        while queue:
            for made in self._store.lineage(queue.pop()):  # it and every remix, extension, edit made from it
                if made.id not in members:
                    members[made.id] = made
                    queue.extend(answered_by.get(made.id, []))
        ordered = tuple(sorted(members.values(), key=lambda j: (j.id != root.id, j.created_at, j.id)))
        chosen = (self._links.get(f"current:{root.id}") or {}).get("take")
        if chosen not in members:
            finished = [j for j in ordered if j.status == JobStatus.COMPLETED]
            chosen = (finished or list(ordered))[-1].id
        return Stack(ordered, chosen)

    def link_retake(self, take: str, of: str) -> Stack:
        """Record that `take` was made to answer `of`'s notes (a retake made outside the workbench's retake)."""
        if take == of:
            raise ValidationError("A take is not a version of itself.")
        stack = self.stack(of)
        if take in {job.id for job in stack.takes}:
            raise ValidationError(f"{take} is already in this stack.")
        if self._store.get(take) is None:
            raise ValidationError(f"No take {take!r}.", field="take")
        self._links.set(take, of=of, at=time.time())
        return self.stack(take)

    def set_current(self, take: str) -> Stack:
        """Make `take` the current version of its stack."""
        stack = self.stack(take)
        self._links.set(f"current:{stack.root.id}", take=take, at=time.time())
        return self.stack(take)
