"""Throughput of the streaming between-net correlation against a bare matrix product.

Run:  python bench/stats_speed.py [--samples 1000000] [--units 256] [--batches 10]

Two float32 layers of --units units over --samples samples in --batches
batches (ReLU-like activations: rectified, correlated Gaussians). Timed,
side by side in one process, the median of --rounds:

- convlearn: ActivationStats(within=False).update(a, b) over the batches,
  then corr_between (centring, the chunked float32 products, the float64
  accumulation, the sums and sums of squares);
- peer: the bare float32 product a.T @ b of the same batches, inputs ready,
  which is all a correlation could cost at least. Target: at least half
  its throughput (ratio >= 0.5);
- for information: ActivationStats() with the within-net matrices too,
  np.corrcoef on all samples at once (float64, holding every sample), and
  the float64 path.

The float32 result must agree with the float64 one within 1e-5, or the
script fails.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np

from convlearn.analysis.stats import ActivationStats


def relu_layers(rng, S, U):
    """Two correlated float32 (S, U) layers of rectified Gaussians."""
    shared = rng.standard_normal((S, U), dtype=np.float32)
    a = np.maximum(shared + rng.standard_normal((S, U), dtype=np.float32), 0)
    b = np.maximum(
        shared[:, rng.permutation(U)] + rng.standard_normal((S, U), dtype=np.float32), 0
    )
    return a, b


def timed(fn, rounds):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--samples", type=int, default=1_000_000)
    p.add_argument("--units", type=int, default=256)
    p.add_argument("--batches", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    S, U = args.samples // args.batches, args.units
    rng = np.random.default_rng(0)
    a, b = relu_layers(rng, S, U)
    # the same batch data over and over keeps memory small; the work is the same
    batches = [(a, b)] * args.batches

    def streaming(within, dtype):
        stats = ActivationStats(within=within)
        for x, y in batches:
            stats.update(x.astype(dtype, copy=False), y.astype(dtype, copy=False))
        return stats.corr_between

    def bare_product():
        for x, y in batches:
            x.T @ y

    t_peer, _ = timed(bare_product, args.rounds)
    t_ours, r32 = timed(lambda: streaming(False, np.float32), args.rounds)
    t_within, _ = timed(lambda: streaming(True, np.float32), args.rounds)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)

    def streaming64():
        stats = ActivationStats(within=False)
        for _ in range(args.batches):
            stats.update(a64, b64)
        return stats.corr_between

    t_64, r64 = timed(streaming64, 1)
    err = float(np.max(np.abs(r32 - r64)))
    n_corrcoef = min(S * args.batches, 200_000)
    t_cc, _ = timed(
        lambda: np.corrcoef(a[:n_corrcoef], b[:n_corrcoef], rowvar=False), 1
    )
    t_cc *= S * args.batches / n_corrcoef  # per the same number of samples

    n = S * args.batches

    def rate(t):
        return n / t / 1e6

    print(
        f"{n} samples, {U} + {U} float32 units, {args.batches} batches, numpy {np.__version__}"
    )
    print(
        f"between-net: convlearn {rate(t_ours):6.2f} M samples/s   "
        f"bare a.T @ b {rate(t_peer):6.2f} M samples/s   ratio {t_peer / t_ours:.2f}  (target >= 0.5)"
    )
    print(
        f"with within-net matrices: {rate(t_within):6.2f} M samples/s   "
        f"ratio {t_peer / t_within:.2f} (information)"
    )
    print(
        f"np.corrcoef (float64, all at once, {n_corrcoef} samples timed): "
        f"{rate(t_cc):6.2f} M samples/s   convlearn/corrcoef speed {t_cc / t_ours:.1f}x"
    )
    print(f"float64 path: {rate(t_64):6.2f} M samples/s; max |r32 - r64| = {err:.1e}")
    if not err <= 1e-5:
        sys.exit(f"FAIL: float32 and float64 correlations differ by {err:.1e} > 1e-5")


if __name__ == "__main__":
    main()
