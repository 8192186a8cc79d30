"""Time of `mutual_information_matrix` on a layer-sized problem, against a pair loop.

Run:  python bench/mutual_info_speed.py [--samples 100000] [--units 256] [--bins 10] [--pairs 8]

Measured: the MI matrices between two ReLU layers of --units units each over
--samples samples (float32 activations with about 58% exact zeros, the two
"nets" sharing a random subspace), in wall and CPU seconds, split into the
binning and the histograms + MI. The peer, run in the same process: a loop
over unit pairs, one numpy.histogram2d per pair on the same integer codes
(convlearn's `mutual_information_matrix_loop`), on a --pairs x --pairs block,
extrapolated to all pairs; the ratio is peer / convlearn. The block's values
must agree with the vectorised ones, or the script fails. Target: 256 x 256
units over 10^5 samples in under a minute (BLAS threads as set by
OPENBLAS_NUM_THREADS).
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np

from convlearn.analysis import mutual_info


def timed(f):
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--samples", type=int, default=100_000)
    p.add_argument("--units", type=int, default=256)
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--pairs", type=int, default=8, help="block side for the pair loop")
    args = p.parse_args()
    S, n, bins, k = args.samples, args.units, args.bins, args.pairs

    rng = np.random.default_rng(0)
    shared = rng.standard_normal((S, 64)).astype(np.float32)  # (S, 64)

    def layer():
        # (S, 64) @ (64, n): units mixing a shared subspace, rectified
        w = rng.standard_normal((64, n)).astype(np.float32) / 8
        return np.maximum(shared @ w - 0.2, 0)

    A, B = layer(), layer()
    _, w_bin, c_bin = timed(
        lambda: (mutual_info._codes(A, bins), mutual_info._codes(B, bins))
    )
    (mi, mc), w_all, c_all = timed(
        lambda: mutual_info.mutual_information_matrix(A, B, bins)
    )
    (ref_mi, ref_mc), w_loop, c_loop = timed(
        lambda: mutual_info.mutual_information_matrix_loop(A[:, :k], B[:, :k], bins)
    )
    assert np.allclose(ref_mi, mi[:k, :k], rtol=1e-10, atol=1e-13)
    assert np.allclose(ref_mc, mc[:k, :k], rtol=1e-10, atol=1e-13)
    scale = (n * n) / (k * k)

    print(
        f"{n} x {n} units, {S} samples, {bins} bins; zero fraction {np.mean(A == 0):.2f}"
    )
    print(f"binning both layers       wall {w_bin:7.2f} s  cpu {c_bin:7.2f} s")
    print(f"mutual_information_matrix wall {w_all:7.2f} s  cpu {c_all:7.2f} s")
    print(
        f"pair loop, {k}x{k} pairs     wall {w_loop:7.2f} s  cpu {c_loop:7.2f} s"
        f"  -> all pairs ~{w_loop * scale:.0f} s wall"
    )
    print(
        f"ratio loop / vectorised (extrapolated, wall): {w_loop * scale / w_all:.0f}x"
    )
    print(f"target: under 60 s for 256 x 256 over 1e5 samples; measured {w_all:.1f} s")


if __name__ == "__main__":
    main()
