"""Leases and claims as both backends keep them: who a lease's owner is, and what a claim answers.

A lease says which process works on a job (`Store.claim(job_id, owner, ttl)`); a claim holds a key once
(`Store.claims(name).claim(key, value, ttl)`): idempotency keys, webhook ids. The store only keeps them,
atomically across processes; how long a tracker holds a job and when it renews is the tracker's
(`dailies.tracker.leases`).
"""

from __future__ import annotations

import os
import socket
import uuid
from typing import Any, NamedTuple

__all__ = ["CLAIM_SWEEP_S", "UNTIL", "Claim", "new_owner", "owner_gone"]

CLAIM_SWEEP_S = 60.0
"""How often (at most, per table and process) a claim also deletes the table's expired claims."""

UNTIL = "_until"
"""The field of a claim's record that holds when it expires (a record without it never does); `dump` hands
it out so on both backends."""


class Claim(NamedTuple):
    """What `claims(name).claim` found: whether this caller now holds the key, and the key's record (the value
    just claimed, or the holder's)."""

    claimed: bool
    record: dict[str, Any]


def new_owner() -> str:
    """A lease owner's name: this machine, this process, and a random part (for several per process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_gone(owner: str) -> bool:
    """Whether a lease's owner (a `new_owner` name) was a process of this machine that no longer runs (killed,
    crashed): its jobs need not wait for the lease to lapse."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
