"""Time per solve of convlearn's hand-written assignment against scipy's.

Run:  python bench/assignment_speed.py [--sizes 256 1024 4096] [--rounds 3]

Two kinds of n x n input, for each size:
- "uniform": costs drawn uniformly from [0, 1), minimised (the classic
  benchmark of assignment solvers);
- "corr": a correlation-like matrix with a hidden permutation, maximised
  (the study's real case): unit i of net A has a partner p(i) in net B with
  correlation s_i ~ U(0, 1) (some units have a strong partner, some none),
  on top of N(0, 0.1) noise everywhere, clipped to [-1, 1].
Reported: the median time per solve of convlearn.analysis.assignment
.linear_sum_assignment and of scipy.optimize.linear_sum_assignment, run side
by side on the same matrices, and the ratio ours/scipy. Times are CPU time
of this process (time.process_time; both solvers are single-threaded), so a
busy machine disturbs them less than wall-clock time. Target: within 10x
of scipy at 1024 units; 4096 is printed for information. Both totals must
agree to round-off, or the script fails.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
from scipy.optimize import linear_sum_assignment as scipy_lsa

from convlearn.analysis.assignment import linear_sum_assignment


def uniform(n, rng):
    return rng.random((n, n)), False


def corr_like(n, rng):
    corr = 0.1 * rng.standard_normal((n, n))
    corr[np.arange(n), rng.permutation(n)] += rng.random(n)
    return np.clip(corr, -1.0, 1.0), True


def timed(solve, cost, maximize, rounds):
    times, result = [], None
    for _ in range(rounds):
        t = time.process_time()
        result = solve(cost, maximize=maximize)
        times.append(time.process_time() - t)
    return statistics.median(times), result


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 4096])
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="solves timed per case; the median is kept",
    )
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{'n':>6} {'input':>8} {'ours ms':>10} {'scipy ms':>10} {'ours/scipy':>11}")
    for n in args.sizes:
        for name, make in (("uniform", uniform), ("corr", corr_like)):
            cost, maximize = make(n, rng)
            rounds = 1 if n > 2048 else args.rounds
            t_ours, (r, c) = timed(linear_sum_assignment, cost, maximize, rounds)
            t_ref, (rs, cs) = timed(scipy_lsa, cost, maximize, rounds)
            total, ref = cost[r, c].sum(), cost[rs, cs].sum()
            assert abs(total - ref) <= 1e-9 * n, (n, name, total, ref)
            print(
                f"{n:>6} {name:>8} {t_ours * 1e3:>10.1f} {t_ref * 1e3:>10.1f}"
                f" {t_ours / t_ref:>11.2f}"
            )


if __name__ == "__main__":
    main()
