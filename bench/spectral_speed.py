"""Spectral clustering and k-means time against scikit-learn, side by side.

Run:  python bench/spectral_speed.py [--nodes 512] [--clusters 32] [--rounds 5]

The affinity is a noisy planted partition: --nodes nodes in --clusters equal
blocks, weight 0.6 inside a block and 0.1 between blocks plus uniform noise
in [0, 0.3), symmetric, nodes shuffled. Timed (best of --rounds, seconds):
convlearn's spectral_clustering(A, n_clusters, seed=0) against
sklearn.cluster.SpectralClustering(affinity="precomputed", n_clusters,
random_state=0).fit(A) on the same matrix; both run 10 k-means restarts.
Printed: both times, the ratio ours / sklearn (target <= 1.0), and the
adjusted Rand index (ARI) between the two labelings and against the blocks.
For information, kmeans(X, k) against sklearn.cluster.KMeans(k, n_init=10)
on the NJW embedding of the same matrix (rows of the top-k eigenvectors),
with both inertias. Thread counts are whatever the environment sets
(OPENBLAS_NUM_THREADS ...); both sides share them.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np
import scipy.linalg
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.metrics import adjusted_rand_score

from convlearn.analysis.spectral import kmeans, spectral_clustering


def planted(n, k, seed=0):
    """(n, n) noisy block affinity with k equal blocks, shuffled, and its blocks."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(k), -(-n // k))[:n]
    A = np.where(truth[:, None] == truth[None, :], 0.6, 0.1) + 0.3 * rng.random((n, n))
    A = (A + A.T) / 2
    perm = rng.permutation(n)
    return A[np.ix_(perm, perm)], truth[perm]


def best_time(f, rounds):
    """(best wall time in seconds over rounds, the last result)."""
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--nodes", type=int, default=512)
    p.add_argument("--clusters", type=int, default=32)
    p.add_argument("--rounds", type=int, default=5, help="timed runs; the best is kept")
    args = p.parse_args()
    n, k = args.nodes, args.clusters
    A, truth = planted(n, k)

    def sk_spectral():
        sc = SpectralClustering(n_clusters=k, affinity="precomputed", random_state=0)
        return sc.fit(A).labels_

    spectral_clustering(A, k)  # warm up both (imports, caches)
    sk_spectral()
    t_ours, ours = best_time(lambda: spectral_clustering(A, k, seed=0), args.rounds)
    t_sk, theirs = best_time(sk_spectral, args.rounds)
    print(f"spectral clustering, {n} nodes into {k} clusters (planted partition)")
    print(f"  convlearn: {t_ours * 1e3:8.1f} ms")
    print(f"  sklearn:   {t_sk * 1e3:8.1f} ms")
    print(f"  ratio ours/sklearn: {t_ours / t_sk:.2f}  (target <= 1.0)")
    print(
        f"  ARI ours vs sklearn: {adjusted_rand_score(ours, theirs):.4f}; vs the blocks: "
        f"ours {adjusted_rand_score(ours, truth):.4f}, sklearn {adjusted_rand_score(theirs, truth):.4f}"
    )

    # the NJW embedding, as spectral_clustering builds it (diagonal 0)
    B = A.copy()
    np.fill_diagonal(B, 0.0)
    s = 1.0 / np.sqrt(B.sum(axis=1))
    _, V = scipy.linalg.eigh(
        B * s[:, None] * s[None, :], subset_by_index=[n - k, n - 1]
    )
    X = V / np.linalg.norm(V, axis=1, keepdims=True)

    def sk_kmeans():
        return KMeans(k, n_init=10, random_state=0).fit(X)

    kmeans(X, k)
    sk_kmeans()
    t_km, (labels, centers) = best_time(lambda: kmeans(X, k, seed=0), args.rounds)
    t_skm, fitted = best_time(sk_kmeans, args.rounds)
    ours_inertia = float(((X - centers[labels]) ** 2).sum())
    print(f"k-means (information), {n} x {k} embedding into {k} clusters, 10 restarts")
    print(f"  convlearn: {t_km * 1e3:8.1f} ms   inertia {ours_inertia:.6f}")
    print(f"  sklearn:   {t_skm * 1e3:8.1f} ms   inertia {fitted.inertia_:.6f}")
    print(f"  ratio ours/sklearn: {t_km / t_skm:.2f}")


if __name__ == "__main__":
    main()
