"""Record ids for the review's tables: sortable by time, never colliding between processes."""

from __future__ import annotations

import os
import time


def new_id(prefix: str) -> str:
    """`<prefix>_` + milliseconds (12 hex digits) + 8 random hex digits: unique across processes without a lock."""
    return f"{prefix}_{int(time.time() * 1000):012x}{os.urandom(4).hex()}"
