"""Engine render: speed per size as a multiple of real time on one core, and peak memory per render.

Run: `.venv/bin/python -m bench.engine_render` (`--quick`: the two 720p sizes only, and the 12 s clip).
Each case calls the renderer directly (`render_generate`, the function the engine's workers call for a
generate job) with one encoder thread and the default preset (`Encoding()`), in a fresh spawned process so that one
render's memory does not hide another's. The child renders twice: once untraced for the time and the
growth of its peak RSS (`ru_maxrss` after the render minus before it, imports done: Python, numpy and
the encoder's own buffers), and once under tracemalloc for the peak of Python and numpy allocations.
"× real time" is clip seconds / render seconds: above 1 renders faster than the clip plays. The 4 s vs
12 s rows at 1280x720 show whether memory grows with duration (it should not: frames are streamed).
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.report import cli, conclude, table

SIZES_FULL = ("720x1280", "1280x720", "1024x1792", "1792x1024")
SIZES_QUICK = ("720x1280", "1280x720")
CLIP_S = 4
LONG_CLIP_S = 12
LONG_CLIP_SIZE = "1280x720"
MAX_PEAK_RATIO = 1.2
"""Peak memory counts as flat when the long clip's tracemalloc peak is at most this times the short one's."""
PROMPT = "a lighthouse at golden hour, slow pan left"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _render_once(size: str, seconds: int, folder: Path) -> float:
    from dailies.engine.render import RenderSpec, render_generate

    width, height = (int(v) for v in size.split("x"))
    spec = RenderSpec(width, height, seconds, 7, PROMPT, PROMPT)
    started = time.perf_counter()
    render_generate(spec, folder, {"title": PROMPT})
    return time.perf_counter() - started


def measure_in_child(size: str, seconds: int) -> dict[str, Any]:
    """Runs in a fresh process: one untraced render (time, RSS growth), one traced (tracemalloc peak)."""
    import dailies.engine.render  # noqa: F401  (imports before the RSS baseline)

    with tempfile.TemporaryDirectory() as tmp:
        before = _rss_mb()
        render_s = _render_once(size, seconds, Path(tmp))
        rss_growth = _rss_mb() - before
        out = Path(tmp) / "video.mp4"
        video_mb = out.stat().st_size / 2**20
        tracemalloc.start()
        _render_once(size, seconds, Path(tmp))
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "size": size,
        "seconds": seconds,
        "render_s": render_s,
        "x_real_time": seconds / render_s,
        "tracemalloc_peak_mb": traced_peak / 2**20,
        "rss_growth_mb": rss_growth,
        "video_mb": video_mb,
    }


def measure(size: str, seconds: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(measure_in_child, size, seconds).result()


def cases(quick: bool) -> list[tuple[str, int]]:
    sizes = SIZES_QUICK if quick else SIZES_FULL
    return [*((size, CLIP_S) for size in sizes), (LONG_CLIP_SIZE, LONG_CLIP_S)]


def run(quick: bool = False) -> dict[str, Any]:
    rows = [measure(size, seconds) for size, seconds in cases(quick)]
    headers = ["size", "seconds", "render s", "× real time", "tracemalloc peak MB", "RSS growth MB", "video MB"]
    keys = ["size", "seconds", "render_s", "x_real_time", "tracemalloc_peak_mb", "rss_growth_mb", "video_mb"]
    print(
        table(
            "Engine render (one core, libx264 veryfast; fresh process per render; peak memory should not grow "
            "with duration)",
            headers,
            [[r[k] for k in keys] for r in rows],
        )
    )
    short = next(r for r in rows if r["size"] == LONG_CLIP_SIZE and r["seconds"] == CLIP_S)
    long = next(r for r in rows if r["size"] == LONG_CLIP_SIZE and r["seconds"] == LONG_CLIP_S)
    peak_ratio = long["tracemalloc_peak_mb"] / short["tracemalloc_peak_mb"]
    checks = {
        "faster_than_real_time": all(r["x_real_time"] > 1 for r in rows),
        "memory_flat": peak_ratio <= MAX_PEAK_RATIO,
    }
    print(f"tracemalloc peak {LONG_CLIP_S} s / {CLIP_S} s: {peak_ratio:.2f}; checks: {checks}")
    return conclude("engine_render", {
        "quick": quick,
        "rows": rows,
        "render_threads": 1,
        "goal": (
            f"renders faster than real time on one core; peak memory flat from {CLIP_S} s to {LONG_CLIP_S} s "
            f"(tracemalloc peak within {MAX_PEAK_RATIO:g}x)"
        ),
        "long_vs_short": {
            "size": LONG_CLIP_SIZE,
            "tracemalloc_peak_ratio": peak_ratio,
            "rss_growth_ratio": long["rss_growth_mb"] / short["rss_growth_mb"] if short["rss_growth_mb"] else None,
        },
    }, checks)


if __name__ == "__main__":
    cli(run, __doc__)
