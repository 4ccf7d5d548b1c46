#!/usr/bin/env python
"""Several results, as in Auptimizer's ``Examples/2dfunc_diff_mult_res``.

The first value of the list is the result the proposer optimizes; the others are kept
under the experiment's ``resource_args.multi_res_labels``.
"""

import sys

from aup import aup_args


@aup_args
def rosenbrock(x, y, a=1, b=100):
    return [(a - x) * (a - x) + b * (y - x * x) * (y - x * x), x, y]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("config file required")
        exit(1)
    rosenbrock(sys.argv[1])
