"""The server processes a benchmark or a test starts: waiting until one answers, stopping it, and what it costs,
read from /proc (CPU time, wake-ups and memory; Linux)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from pathlib import Path

import httpx


def wait_answering(process: subprocess.Popen, url: str, log: Path, what: str, *, timeout_s: float,
                   interval_s: float) -> None:
    """Wait until `url` answers 200. A process that exits fails at once, and one that stays silent for
    `timeout_s` is killed: either way with its log's last lines, which say why."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(interval_s)  # polling interval of a deadline loop, not synchronisation
    process.kill()
    raise RuntimeError(f"{what} did not answer in {timeout_s:g} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen, grace_s: float = 15) -> None:
    """Ask the process to end; one still running after `grace_s` is killed. Either way it is reaped."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
