"""A 20-alpha lasso path: convlearn's FISTA on the Gram against scikit-learn's coordinate descent.

Run:  python bench/lasso_speed.py [--samples 20000] [--units 128] [--rounds 3]

The problem is the paper's section 4 at one layer: predict 128 units of a
"net B" from 128 units of a "net A" over 20,000 samples, both ReLU units
driven by the same 16 latent factors plus noise (so the features are
correlated, the condition number of G is printed), centred. The path is
``alpha_grid``: 20 alphas, log-spaced from alpha_max down to 1e-3 alpha_max.

Timed, each from the raw (samples, units) arrays to the 20 weight matrices:
- convlearn: ``lasso_path(X, Y, alphas)`` (tol 1e-6: gap <= 1e-6 P(0)); it
  computes G = X^T X / n, C = X^T Y / n and L once, inside the timing.
- sklearn: one ``Lasso(precompute=True, warm_start=True, tol=1e-6,
  fit_intercept=False)``, ``set_params(alpha=...)`` then ``fit(X, Y)`` per
  alpha (gap <= 1e-6 ||y||^2, twice as loose). Every fit recomputes
  X^T X and X^T Y itself: that is sklearn's API.
- sklearn, Gram once: the same with ``precompute=X.T @ X`` computed once
  inside the timing (fit still computes X^T Y each time; its API takes no Xy).
Reported: the median time of --rounds for each, and ours / sklearn for both
sklearn variants; the target is a ratio of at most 1.0. At every alpha the
summed objective sum_k 1/(2n) ||y_k - X w_k||^2 + alpha ||w_k||_1 must agree
with each sklearn run to 1e-6 relative, or the script fails.
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np

from convlearn.analysis.lasso import alpha_grid, lasso_path

OBJECTIVE_RTOL = 1e-6


def correlated_layers(n, units, latent=16, noise=0.1, seed=0):
    """Two (n, units) layers of ReLU units driven by shared latent factors, centred."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, latent))
    layers = []
    for _ in range(2):
        mix = rng.standard_normal((latent, units)) / np.sqrt(latent)
        a = np.maximum(z @ mix + noise * rng.standard_normal((n, units)) + 0.3, 0.0)
        layers.append(a - a.mean(axis=0))
    return layers


def objectives(X, Y, Ws, alphas):
    """The summed lasso objective at each alpha, computed from X and Y directly."""
    n = X.shape[0]
    return np.array(
        [
            ((Y - X @ W) ** 2).sum() / (2 * n) + a * np.abs(W).sum()
            for W, a in zip(Ws, alphas)
        ]
    )


def run_ours(X, Y, alphas):
    return lasso_path(X, Y, alphas)


def run_sklearn(X, Y, alphas, gram_once):
    from sklearn.linear_model import Lasso

    precompute = X.T @ X if gram_once else True
    model = Lasso(
        precompute=precompute,
        warm_start=True,
        tol=1e-6,
        fit_intercept=False,
        max_iter=100_000,
    )
    Ws = []
    for a in alphas:
        model.set_params(alpha=a)
        model.fit(X, Y)
        Ws.append(model.coef_.T.copy())  # coef_ is (n_targets, n_features)
    return Ws


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--samples", type=int, default=20_000)
    p.add_argument("--units", type=int, default=128)
    p.add_argument(
        "--rounds", type=int, default=3, help="timed runs of each; the median is kept"
    )
    args = p.parse_args()
    X, Y = correlated_layers(args.samples, args.units)
    G = X.T @ X / len(X)
    lam = np.linalg.eigvalsh(G)
    alphas = alpha_grid(X, Y, n_alphas=20, eps=1e-3)
    print(
        f"{args.samples} samples, {args.units} -> {args.units} units, cond(G) = {lam[-1] / lam[0]:.0f}, "
        f"20 alphas {alphas[0]:.3g} .. {alphas[-1]:.3g}"
    )
    runs = {
        "convlearn": lambda: run_ours(X, Y, alphas),
        "sklearn": lambda: run_sklearn(X, Y, alphas, gram_once=False),
        "sklearn, Gram once": lambda: run_sklearn(X, Y, alphas, gram_once=True),
    }
    times = {name: [] for name in runs}
    results = {}
    for _ in range(args.rounds):  # interleaved, so a busy spell hits every run alike
        for name, run in runs.items():
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # an unconverged solve is a failure here
                t = time.perf_counter()
                results[name] = run()
                times[name].append(time.perf_counter() - t)
    obj = {name: objectives(X, Y, Ws, alphas) for name, Ws in results.items()}
    nnz = np.array([np.count_nonzero(W) / W.shape[1] for W in results["convlearn"]])
    print(
        "mean non-zero weights per target along the path:",
        np.array2string(nnz, precision=1),
    )
    failed = False
    for peer in ("sklearn", "sklearn, Gram once"):
        rel = (obj["convlearn"] - obj[peer]) / obj[peer]
        worst = float(np.abs(rel).max())
        ok = worst <= OBJECTIVE_RTOL
        failed |= not ok
        print(
            f"objective vs {peer}: max relative difference {worst:.1e} over the 20 alphas "
            f"(ours lower at {(rel < 0).sum()}) {'ok' if ok else 'FAILED, limit 1e-6'}"
        )
    med = {name: statistics.median(ts) for name, ts in times.items()}
    for name, m in med.items():
        print(f"{name + ':':22s} {m:7.3f} s  (median of {args.rounds})")
    for peer in ("sklearn", "sklearn, Gram once"):
        print(
            f"ratio convlearn / {peer}: {med['convlearn'] / med[peer]:.2f}  (target <= 1.0)"
        )
    if failed:
        sys.exit(
            "FAILED: objectives differ from scikit-learn's by more than 1e-6 relative"
        )


if __name__ == "__main__":
    main()
