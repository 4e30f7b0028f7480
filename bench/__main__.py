"""`python -m bench [--quick] [name ...]`: run the benchmarks, print their tables, write bench/results/*.json.

Each benchmark runs in a fresh interpreter (`python -m bench.<name>`), so that one benchmark's
memory (the store's 100,000 jobs, say) does not stand in another's peak-memory figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

BENCHMARKS = ("polling", "webhooks", "sweeps", "rate_limits", "store", "downloads", "engine_render", "pages",
              "assemble")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="which to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look")
    args = parser.parse_args()
    failed = []
    for name in args.names or BENCHMARKS:
        started = time.perf_counter()
        command = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if args.quick else [])]
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(name)
        print(f"[{name} took {time.perf_counter() - started:.1f}s]\n", flush=True)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
