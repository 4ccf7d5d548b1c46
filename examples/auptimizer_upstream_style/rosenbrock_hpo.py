#!/usr/bin/env python
"""The Rosenbrock function, written as Auptimizer's ``Examples/2dfunc_diff_opt`` writes it.

``@aup_args`` reads the job's config file (``argv[1]``), passes ``x`` and ``y`` (``a`` and
``b`` keep their defaults unless the config sets them) and reports the return value.
"""

import sys

from aup import aup_args


@aup_args
def rosenbrock(x, y, a=1, b=100):
    return (a - x) * (a - x) + b * (y - x * x) * (y - x * x)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("config file required")
        exit(1)
    rosenbrock(sys.argv[1])
