"""Function-trial throughput of two source trees, interleaved in one run (a before/after of a change).

Each round runs, for every tree in turn, ``benchmarks.throughput``'s trivial function trials
(random tuner, durable SQLite) for the given isolation modes and concurrencies, and Optuna's
in-memory and journal-file storages beside them as a control of what the machine did meanwhile.
A tree is a checkout of tunelab (a ``git worktree`` of the commit before, say); its ``src`` is
put first on ``sys.path`` in a fresh interpreter, so each tree runs its own code.

Usage: ``nice -n 10 python -m benchmarks.throughput_ab --trees /tmp/before,. --rounds 2``
(prints a table; writes nothing but its runs' scratch files, in ``--scratch`` or the temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

_ONE = """
import json, sys, tempfile, time
from pathlib import Path
tree = sys.argv[1]
sys.path[:0] = [tree + "/src", tree]
from benchmarks.throughput import optuna_functions, tunelab_functions
n, contender, concurrency, scratch = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5] or None
storages = {"optuna-memory": "in-memory", "optuna-journal": "journal-file"}
def once(trials, folder):
    if contender in storages:
        return optuna_functions(trials, folder, "random", concurrency, storages[contender])
    return tunelab_functions(trials, folder, "random", concurrency, contender)
with tempfile.TemporaryDirectory(dir=scratch) as folder:
    once(50, Path(folder))  # imports and first-use costs outside the measurement
    cpu = time.process_time()
    wall = once(n, Path(folder))
    print(json.dumps({"wall": wall, "cpu": time.process_time() - cpu}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trees", required=True, help="comma-separated checkouts, e.g. /tmp/before,.")
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--isolation", default="inline,worker")
    parser.add_argument("--concurrency", default="1,2")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scratch", default="", help="the folder the runs write in (default: the temporary folder)")
    args = parser.parse_args()
    trees = [str(Path(t).resolve()) for t in args.trees.split(",")]
    contenders = [*args.isolation.split(","), "optuna-memory", "optuna-journal"]
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    print("| round | tree | concurrency | contender | trials/s | ms per trial | engine CPU ms per trial |")
    print("| ---: | --- | ---: | --- | ---: | ---: | ---: |")
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    for round_ in range(1, args.rounds + 1):
        for tree in trees:
            for concurrency in concurrencies:
                for contender in contenders:
                    run = [tree, str(args.trials), contender, str(concurrency), args.scratch]
                    argv = [sys.executable, "-c", _ONE, *run]
                    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
                    got = json.loads(out.strip().splitlines()[-1])
                    wall, cpu = got["wall"], got["cpu"]
                    print(
                        f"| {round_} | {tree} | {concurrency} | {contender} | {args.trials / wall:.0f} | "
                        f"{1000 * wall / args.trials:.2f} | {1000 * cpu / args.trials:.2f} |",
                        flush=True,
                    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
