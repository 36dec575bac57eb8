"""`make bench`: every benchmark in its quick form (a few minutes on 2 cores), one after another.

    python -m bench.run_all            # quick sizes
    python -m bench.run_all --full     # each benchmark's full default sizes (1M: hours on 2 cores)

Each runs in its own interpreter, so one's memory and threads never skew the next.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

# module -> the arguments of its quick form
BENCHMARKS = {
    "bench.store": ["--quick"],
    "bench.store_scale": ["--quick"],
    "bench.cold_start": ["--quick"],
    "bench.resilience": ["--seconds", "5"],
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__)
    parser.add_argument("--full", action="store_true", help="full sizes instead of --quick")
    args = parser.parse_args()
    failed = []
    for module, quick in BENCHMARKS.items():
        print(f"\n## {module}\n", flush=True)
        started = time.perf_counter()
        command = [sys.executable, "-m", module, *([] if args.full else quick)]
        if subprocess.run(command).returncode != 0:
            failed.append(module)
        print(f"\n({module}: {time.perf_counter() - started:.0f} s)", flush=True)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
