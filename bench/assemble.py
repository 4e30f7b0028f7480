"""Assembly: joining three 4 s 1280x720 shots by stream copy against re-encoding them; ΔE across a cut.

Run: `.venv/bin/python -m bench.assemble` (`--quick`: fewer repeats).
The three shots are rendered once by the engine's renderer (`render_generate`, as the engine's workers
do), the second starting from the first's last frame (a chained cut, as a storyboard's continuity
sends it) and the third standing alone (an unchained cut). Then `dailies.storyboard.assemble.join` joins them,
the way a board's Assemble does: by copying packets (the codec parameters match), by re-encoding
(forced), and with a 0.5 s crossfade (which re-encodes). Times are medians of the repeats, wall clock.
Goal: stream copy under 1 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

from bench.report import cli, conclude, table

SIZE = (1280, 720)
SECONDS = 4
GOAL_COPY_S = 1.0
STYLE = "colour grade: golden hour; lens: 35mm"
PROMPTS = ["a red kite lifts off the sand", "the kite climbs over the dunes", "the kite lands by the sea"]


def render_shots(folder: Path) -> list[Path]:
    from dailies.engine.render import RenderSpec, render_generate
    from dailies.media import last_frame

    paths: list[Path] = []
    for index, words in enumerate(PROMPTS):
        prompt = f"{words}, slow pan left. {STYLE}"
        out = folder / f"shot{index + 1}"
        out.mkdir()
        reference = Image.fromarray(last_frame(paths[0])) if index == 1 else None
        spec = RenderSpec(*SIZE, SECONDS, 11 + index, prompt, prompt)
        paths.append(render_generate(spec, out, {"title": words}, reference=reference).video)
    return paths


def timed(repeats: int, work) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def run(quick: bool = False) -> dict[str, Any]:
    from dailies.media import probe_video
    from dailies.storyboard.assemble import Clip, cut_delta_e, join

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shots = render_shots(folder)
        clips = [Clip(path) for path in shots]
        out = folder / "assembly.mp4"
        rows = []
        for label, repeats, kwargs in (
            ("stream copy", 3 if quick else 7, {}),
            ("re-encode", 1 if quick else 3, {"force_reencode": True}),
            ("re-encode, 0.5 s crossfade", 1 if quick else 3, {"crossfade": 0.5}),
        ):
            seconds, result = timed(repeats, lambda kwargs=kwargs: join(clips, out, **kwargs))
            info = probe_video(out)
            rows.append({"method": label, "join_s": seconds, "repeats": repeats, "chosen": result.method,
                         "duration_s": info.duration, "frames": info.frames, "mb": out.stat().st_size / 2**20})
        chained, unchained = cut_delta_e(clips[0], clips[1]), cut_delta_e(clips[1], clips[2])
    copy, reencode = rows[0], rows[1]
    print(table(f"Assembly: three {SECONDS} s {SIZE[0]}x{SIZE[1]} shots (engine renders), wall seconds (median)",
                ["method", "join s", "repeats", "method used", "duration s", "frames", "MB"],
                [[r["method"], r["join_s"], r["repeats"], r["chosen"], r["duration_s"], r["frames"], r["mb"]]
                 for r in rows]))
    print(table("Continuity: mean ΔE (CIE76) across a cut", ["cut", "ΔE"],
                [["shot 1 → 2 (chained: last frame as reference)", chained],
                 ["shot 2 → 3 (not chained)", unchained]]))
    checks = {
        "copy_used": copy["chosen"] == "copy",
        "copy_under_1s": copy["join_s"] < GOAL_COPY_S,
        "durations_equal": abs(copy["duration_s"] - reencode["duration_s"]) <= 1 / 24,
        "chained_lower": chained < unchained,
    }
    speedup = reencode["join_s"] / copy["join_s"] if copy["join_s"] else None
    print(f"stream copy {copy['join_s']:.3f} s, re-encode {reencode['join_s']:.2f} s "
          f"({speedup:.0f}x); goal copy < {GOAL_COPY_S:g} s; checks: {checks}")
    return conclude("assemble", {
        "quick": quick,
        "rows": rows,
        "delta_e": {"chained": chained, "unchained": unchained},
        "copy_speedup": speedup,
        "goal": f"three {SECONDS} s {SIZE[0]}x{SIZE[1]} shots joined by stream copy in under {GOAL_COPY_S:g} s",
    }, checks)


if __name__ == "__main__":
    cli(run, __doc__)
