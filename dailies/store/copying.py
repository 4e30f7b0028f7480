"""Copying a team's records from one store to another (`python -m dailies migrate --to/--from postgresql://…`).

Every record but the leases (jobs, boards, reviews, rounds, callbacks, idempotency keys, webhook ids: each
named table) is copied by its key, each replacing the record of its key in the target; a record equal to
the target's is not written, so running a copy twice changes nothing the second time. The source is only
read. Afterwards the target is read back and every copied record compared with the source's: a copy that
does not verify raises `CopyNotVerified` naming what differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from dailies.errors import DailiesError
from dailies.store.api import Store

__all__ = ["Copied", "CopyNotVerified", "copy_store"]


class CopyNotVerified(DailiesError):
    """The target, read back, does not hold every record of the source as it was copied."""


@dataclass(frozen=True)
class Copied:
    records: dict[str, int]
    """Records of each table in the source (every one of them now in the target, verified)."""
    written: dict[str, int]
    """Records of each table the copy wrote (0 everywhere when the target held them all already)."""


def copy_store(source: Store, target: Store) -> Copied:
    """Copy every record of `source` into `target` by key, and verify the target holds them (see the module)."""
    records = source.dump()
    written = target.load(records)
    found = target.dump()
    differing = [f"{table}/{key}" for table, docs in records.items() for key, doc in docs.items()
                 if found.get(table, {}).get(key) != doc]
    if differing:
        shown = ", ".join(differing[:5]) + (f" and {len(differing) - 5} more" if len(differing) > 5 else "")
        raise CopyNotVerified(f"{len(differing)} records differ in the target after the copy: {shown}. "
                              "The source is unchanged; run the copy again.")
    return Copied({table: len(docs) for table, docs in records.items()},
                  {table: written.get(table, 0) for table in records})
