"""Wall time and peak memory of ``make demo`` (``gnnkit run`` on MUTAG:
GIN and the MLP baseline under 10-fold CV, a final model, report.html).

The command runs in a subprocess writing to a fresh folder under a
temporary directory. Printed: wall seconds, the peak resident memory of
the child (``ru_maxrss``) and a split into phases read from the child's
output: start-up (imports and loading, up to the dataset summary), the
experiment (CV, baseline and final model, from ``metrics.json``) and
writing the model and report. Goals: under 300 s and 3 GB on 2 cores.
The load average is printed too, since other work inflates wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GNNKIT = Path(sys.executable).with_name("gnnkit")


def run_demo(out: Path, extra: list[str]) -> tuple[float, float, int]:
    """Run the demo; return wall seconds, seconds to its first output
    line, and the exit code."""
    command = [str(GNNKIT), "run", "--out", str(out), *extra]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    start = time.perf_counter()
    first = None
    with subprocess.Popen(command, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, env=env,
                          text=True) as child:
        for _ in child.stdout:
            if first is None:
                first = time.perf_counter() - start
    wall = time.perf_counter() - start
    return wall, first if first is not None else wall, child.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("extra", nargs="*",
                        help="extra options for gnnkit run (after --)")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        wall, startup, code = run_demo(out, args.extra)
        if code != 0:
            print(f"gnnkit run failed with exit code {code}")
            return 1
        metrics = json.loads((out / "metrics.json").read_text())
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    experiment = metrics["wall_seconds"]
    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"load average before: {load[0]:.2f}, after: "
          f"{os.getloadavg()[0]:.2f}")
    print(f"phases: start-up {startup:.1f} s, experiment (CV + baseline + "
          f"final model) {experiment:.1f} s, writing model and report "
          f"{wall - startup - experiment:.1f} s")
    print(f"peak RSS {peak_mb:.0f} MB (goal < 3072)")
    print(f"wall {wall:.1f} s (goal < 300)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
