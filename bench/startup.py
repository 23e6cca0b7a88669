"""How long the command line takes to start: ``attrap --help`` (and a few light commands) run as
fresh processes, as a user types them.

    .venv/bin/python bench/startup.py [--runs 21] [ARGS ...]

Prints, per command line, the median, fastest and slowest wall-clock time of ``--runs`` runs
(default 21), and the modules imported by one run. The target of issue 13 is a median under
0.3 s for ``attrap --help``. The machine's load average is printed too: on a shared machine a
busy neighbour shows in every number.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ATTRAP = Path(sys.executable).with_name("attrap")
DEFAULT = [["--help"], ["adapters", "--help"], ["worker", "--help"]]


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([str(ATTRAP), *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def imported_modules(args: list[str]) -> int:
    """Modules loaded by one run, counted from ``-X importtime`` (one line per module)."""
    code = f"import sys; sys.argv = ['attrap', *{args!r}]; from attrap.cli import app; app()"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
    )
    return sum(1 for line in result.stderr.splitlines() if line.startswith("import time:")) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("args", nargs="*", help="one command line to time (default: a few)")
    options = parser.parse_args()
    lines = [options.args] if options.args else DEFAULT
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {options.runs} runs")
    for args in lines:
        timed(args)  # warm the file cache once, as any second run of the day finds it
        times = [timed(args) for _ in range(options.runs)]
        print(
            f"attrap {' '.join(args):<18} median {statistics.median(times):.3f} s  "
            f"min {min(times):.3f} s  max {max(times):.3f} s  "
            f"modules {imported_modules(args)}"
        )


if __name__ == "__main__":
    main()
