"""CPU time of the `microgrid` command line before it does anything.

Runs ``python -m controller.cli.main --help`` and ``... sites list`` in a child process
several times each and prints the median CPU time (user + system of the child, from
``os.wait4``) and wall time against the 0.5 s target. Heavy libraries are imported only
inside the commands that need them (see `controller/cli/__init__.py`); this is what keeps
both under the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_CPU_S = 0.5
COMMANDS = (("--help",), ("sites", "list"))


def cpu_and_wall(args: tuple[str, ...]) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one run of the command line."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "controller.cli.main", *args],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            stderr.seek(0)
            text = stderr.read().decode(errors="replace")
            raise SystemExit(f"microgrid {' '.join(args)} exited {code}: {text}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (median)")
    runs = parser.parse_args().runs
    cpu_and_wall(COMMANDS[0])  # warm the file cache and the bytecode
    print(f"CLI start-up, median of {runs} runs (target: CPU < {TARGET_CPU_S} s)")
    for args in COMMANDS:
        samples = [cpu_and_wall(args) for _ in range(runs)]
        cpu = statistics.median(s[0] for s in samples)
        wall = statistics.median(s[1] for s in samples)
        verdict = "ok" if cpu < TARGET_CPU_S else "OVER TARGET"
        print(f"  microgrid {' '.join(args):<12} CPU {cpu:.3f} s   wall {wall:.3f} s   {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
