"""Downloads: a large file streamed from the engine by our client vs plain httpx, throughput and memory.

Run: `.venv/bin/python -m bench.downloads` (`--quick`: 20 MB and 50 MB instead of 20 MB and 200 MB).
The engine runs in its own process (`python -m dailies.engine`), so memory figures are the client's.
One job is rendered normally, then its `video.mp4` in the engine's data folder is replaced by a file of
random bytes of the size under test (the engine serves it with a FileResponse, from the page cache).

Four ways of fetching it, one after the other, over loopback:
- `VideosClient.download`: streams to a temp file with sha256 on the fly, length check, fsync, rename;
- plain httpx → file: `client.stream("GET", url)`, `iter_bytes` written to a file (no hash, no fsync);
- plain httpx → file + sha256 + fsync: the same work as ours by hand (its like-for-like baseline);
- plain httpx → /dev/null: the same, bytes discarded (the ceiling of the transport).
Throughput is the median of a few untraced repeats; each repeat runs every method once, and the order
rotates from one repeat to the next (repeat 2 starts with the second method, and so on), so no method
always goes first, last, or after the same neighbour. Memory is
measured two ways per case: the largest growth of this process's peak RSS (`ru_maxrss`, a high-water
mark, so sizes go small to large and a later case only shows growth above every earlier one; the
absolute peak is shown beside it) during one download, and the tracemalloc peak of one extra traced run.
Flat memory from 20 MB to the large size shows memory does not grow with file size. Our download's
file is checked against the source's sha256 on disk after each run.

The goal, as printed and as `goal_met` checks it: at every size our download runs at least
`MIN_SPEED_RATIO` of the like-for-like baseline (plain httpx → file + sha256 + fsync); its tracemalloc
peak at the largest size is within `MAX_MEMORY_GROWTH_MB` of the smallest's; every file it wrote had
the source's sha256.
"""

from __future__ import annotations

import hashlib
import os
import resource
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.report import cli, columns_table, conclude
from bench.sweeps import EngineProcess
from dailies.client import VideosClient
from dailies.media import sha256_file

SIZES_MB_FULL = (20, 200)
SIZES_MB_QUICK = (20, 50)
REPEATS_FULL = 5
REPEATS_QUICK = 3
CHUNK = 1 << 20
MIN_SPEED_RATIO = 0.8
MAX_MEMORY_GROWTH_MB = 1.0
BASELINE = "plain httpx → file + sha256 + fsync"
GOAL = (
    f"our download at least {MIN_SPEED_RATIO:g}x the speed of '{BASELINE}' at every size, its tracemalloc "
    f"peak at the largest size within {MAX_MEMORY_GROWTH_MB:g} MB of the smallest's, every sha256 verified"
)
COLUMNS = [
    ("file MB", "file_mb"),
    ("method", "method"),
    ("MB/s", "mb_per_s"),
    ("vs plain → /dev/null", "ratio_to_devnull"),
    ("peak RSS growth MB", "rss_growth_mb"),
    ("peak RSS MB", "peak_rss_mb"),
    ("tracemalloc peak MB", "tracemalloc_peak_mb"),
    ("sha256 ok", "sha256_ok"),
]

Fetch = Callable[[str, Path], None]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def rendered_job(client: VideosClient, timeout: float = 60) -> str:
    video = client.create(prompt="a lighthouse at golden hour, static", model="dailies-preview", seconds=4)
    end = time.monotonic() + timeout
    while client.retrieve(video["id"])["status"] != "completed":
        if time.monotonic() > end:
            raise RuntimeError("the job did not complete")
        time.sleep(0.2)
    return str(video["id"])


def fill_random(path: Path, size_mb: int) -> str:
    """Replace `path` with `size_mb` MiB of random bytes; returns their sha256."""
    digest = hashlib.sha256()
    tmp = path.with_suffix(".bench")
    with open(tmp, "wb") as out:
        for _ in range(size_mb):
            chunk = os.urandom(CHUNK)
            digest.update(chunk)
            out.write(chunk)
    os.replace(tmp, path)
    return digest.hexdigest()


def methods(base_url: str, video_id: str) -> dict[str, Fetch]:
    ours = VideosClient(base_url)
    plain_client = httpx.Client(timeout=60)
    url = f"{base_url}/videos/{video_id}/content"

    def with_ours(_: str, dest: Path) -> None:
        ours.download(video_id, "video", dest)

    def plain(dest: Path | str, *, hashed: bool = False) -> None:
        """httpx streaming, to a file or /dev/null; `hashed` adds what our client also does: sha256 and fsync."""
        digest = hashlib.sha256()
        with plain_client.stream("GET", url, params={"variant": "video"}) as response, open(dest, "wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                out.write(chunk)
                if hashed:
                    digest.update(chunk)
            if hashed:
                out.flush()
                os.fsync(out.fileno())

    return {
        "dailies VideosClient.download": with_ours,
        "plain httpx → file": lambda _, dest: plain(dest),
        BASELINE: lambda _, dest: plain(dest, hashed=True),
        "plain httpx → /dev/null": lambda _, dest: plain(os.devnull),
    }


def timed(name: str, fetch: Fetch, dest: Path, expected: str) -> tuple[float, bool | None]:
    """One untraced download: seconds, and whether the file on disk has the source's sha256 (ours only)."""
    started = time.perf_counter()
    fetch(name, dest)
    seconds = time.perf_counter() - started
    sha_ok = sha256_file(dest) == expected if name.startswith("dailies") else None
    dest.unlink(missing_ok=True)
    return seconds, sha_ok


def traced_peak_mb(name: str, fetch: Fetch, dest: Path) -> float:
    tracemalloc.start()
    try:
        fetch(name, dest)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
        dest.unlink(missing_ok=True)


def measure_size(
    fetchers: dict[str, Fetch], size_mb: int, expected: str, folder: Path, repeats: int
) -> list[dict[str, Any]]:
    """Every method once per repeat, the order rotating each repeat (so no method always goes first),
    then one traced run each."""
    dest = folder / "download.mp4"
    seconds: dict[str, list[float]] = {name: [] for name in fetchers}
    sha_ok: dict[str, bool | None] = dict.fromkeys(fetchers)
    rss_growth: dict[str, float] = {}
    names = list(fetchers)
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            fetch = fetchers[name]
            before = peak_rss_mb()
            took, ok = timed(name, fetch, dest, expected)
            rss_growth[name] = max(rss_growth.get(name, 0.0), peak_rss_mb() - before)
            seconds[name].append(took)
            if ok is not None:
                sha_ok[name] = ok and sha_ok[name] is not False
    rows = []
    for name, fetch in fetchers.items():
        median = statistics.median(seconds[name])
        rows.append(
            {
                "file_mb": size_mb,
                "method": name,
                "seconds": median,
                "mb_per_s": size_mb / median,
                "rss_growth_mb": rss_growth[name],
                "peak_rss_mb": peak_rss_mb(),
                "tracemalloc_peak_mb": traced_peak_mb(name, fetch, dest),
                "sha256_ok": "n/a" if sha_ok[name] is None else sha_ok[name],
            }
        )
    return rows


def run(quick: bool = False) -> dict[str, Any]:
    repeats = REPEATS_QUICK if quick else REPEATS_FULL
    rows = []
    with tempfile.TemporaryDirectory() as tmp, EngineProcess(Path(tmp) / "engine", workers=1) as engine:
        client = VideosClient(engine.base_url)
        video_id = rendered_job(client)
        source = Path(tmp) / "engine" / "videos" / video_id / "video.mp4"
        fetchers = methods(engine.base_url, video_id)
        for name, fetch in fetchers.items():  # warm-up: connections, imports, first buffers
            fetch(name, Path(tmp) / "warm-up.mp4")
        for size_mb in SIZES_MB_QUICK if quick else SIZES_MB_FULL:
            expected = fill_random(source, size_mb)
            measured = measure_size(fetchers, size_mb, expected, Path(tmp), repeats)
            ceiling = next(r for r in measured if r["method"].endswith("/dev/null"))["mb_per_s"]
            for row in measured:
                row["ratio_to_devnull"] = row["mb_per_s"] / ceiling
            rows.extend(measured)
    print(
        columns_table(
            f"Downloads: streamed from the engine (own process) over loopback (goal: {GOAL})",
            COLUMNS,
            rows,
        )
    )
    ours = [r for r in rows if r["method"].startswith("dailies")]
    small, large = ours[0], ours[-1]
    speed = {r["file_mb"]: r["mb_per_s"] for r in ours}
    baseline = {r["file_mb"]: r["mb_per_s"] for r in rows if r["method"] == BASELINE}
    speed_ratios = {size: speed[size] / baseline[size] for size in speed}
    memory_growth = large["tracemalloc_peak_mb"] - small["tracemalloc_peak_mb"]
    checks = {
        "speed": all(ratio >= MIN_SPEED_RATIO for ratio in speed_ratios.values()),
        "memory_flat": memory_growth <= MAX_MEMORY_GROWTH_MB,
        "sha256": all(r["sha256_ok"] is True for r in ours),
    }
    for size, ratio in speed_ratios.items():
        print(f"{size} MB: ours / {BASELINE}: {ratio:.2f} (goal >= {MIN_SPEED_RATIO:g})")
    print(f"ours tracemalloc peak, {large['file_mb']} MB minus {small['file_mb']} MB: {memory_growth:+.3f} MB")
    print(f"checks: {checks}; goal met: {all(checks.values())}")
    return conclude("downloads", {
        "quick": quick,
        "rows": rows,
        "repeats": repeats,
        "goal": GOAL,
        "speed_ratio_to_baseline": {str(size): ratio for size, ratio in speed_ratios.items()},
        "tracemalloc_growth_mb": memory_growth,
        "ours_large_vs_small": {
            "sizes_mb": [small["file_mb"], large["file_mb"]],
            "tracemalloc_peak_mb": [small["tracemalloc_peak_mb"], large["tracemalloc_peak_mb"]],
            "rss_growth_mb": [small["rss_growth_mb"], large["rss_growth_mb"]],
        },
    }, checks)


if __name__ == "__main__":
    cli(run, __doc__)
