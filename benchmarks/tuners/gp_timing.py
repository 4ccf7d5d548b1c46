"""The GP's suggestion time on a long history: 300 restored random trials of Levy-10 (10 parameters).

    nice -n 10 python -m benchmarks.tuners.gp_timing

Times 10 suggestions after one untimed one (which absorbs the catch-up on the restored
history), in wall and CPU seconds, with the BLAS threads as a user's process has them
(``--blas-threads 1`` limits them from outside, as the tuner benchmark's workers do); the
target is under 1 s (issue 17).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.tuners.problems import PROBLEMS
from tunelab.space import parse_search_space
from tunelab.tuners import create_tuner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--blas-threads", type=int, default=None, help="limit BLAS threads (default: no limit)")
    args = parser.parse_args(argv)
    problem = next(p for p in PROBLEMS if p.name == "levy10")
    space = parse_search_space(problem.space)
    rng = np.random.default_rng(0)
    wall, cpu = [], []
    with threadpool_limits(args.blas_threads):
        tuner = create_tuner("gp", space, seed=0)
        for i in range(args.trials):
            config = space.sample(rng)
            tuner.restore(i, config, problem.objective(config))
        for i in range(args.repeats + 1):
            start, start_cpu = time.perf_counter(), time.process_time()
            trial_id, config = tuner.suggest()
            if i:
                wall.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            tuner.observe(trial_id, problem.objective(config))
    print(
        f"GP at {args.trials} trials, 10 parameters, per suggestion: wall {np.mean(wall):.3f} s mean "
        f"({np.max(wall):.3f} s max), CPU {np.mean(cpu):.3f} s mean ({np.max(cpu):.3f} s max)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
