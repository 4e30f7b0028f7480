"""What a process costs, read from /proc: CPU time, wake-ups and memory (Linux)."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (its threads included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wake_ups(pid: int) -> int:
    """How many times the process's threads have slept and been woken, from /proc: each wake-up of an idle
    server costs CPU whatever it then does, and their count does not move with the machine's load."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            status = (task / "status").read_text()
            match = re.search(r"^voluntary_ctxt_switches:\s+(\d+)", status, re.M)
            total += int(match.group(1)) if match else 0
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
