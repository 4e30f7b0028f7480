"""`python -m bench [--quick] [name ...]`: run the benchmarks, print their tables, write bench/results/*.json."""

from __future__ import annotations

import argparse
import importlib
import time

BENCHMARKS = ("polling", "sweeps", "store", "downloads", "engine_render")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="which to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look")
    args = parser.parse_args()
    for name in args.names or BENCHMARKS:
        started = time.perf_counter()
        module = importlib.import_module(f"bench.{name}")
        module.run(quick=args.quick)
        print(f"[{name} took {time.perf_counter() - started:.1f}s]\n", flush=True)


if __name__ == "__main__":
    main()
