"""Spectral clustering and k-means: the paper's many-to-many mapping (section 5).

One-to-one matching pairs single units; the paper's section 5 asks instead
which *groups* of units of net A and net B span the same subspace. Put the
units of both nets into one graph whose edge weights come from the combined
correlation matrix

    C = [[C_aa, C_ab], [C_ab^T, C_bb]]    (U_a + U_b) x (U_a + U_b)

and cluster that graph: a cluster holding units of both nets is a shared
subspace, a cluster of one net's units only is a subspace the other net did
not learn. ``shared_subspaces`` does this on plain correlation matrices;
``spectral_clustering`` and ``kmeans`` are the two general algorithms
under it.

References: A. Ng, M. Jordan, Y. Weiss, "On spectral clustering: analysis
and an algorithm", NIPS 2002 (NJW); D. Arthur, S. Vassilvitskii,
"k-means++: the advantages of careful seeding", SODA 2007; U. von Luxburg,
"A tutorial on spectral clustering", 2007 (the eigengap heuristic).
"""

import dataclasses
import numbers

import numpy as np
import scipy.linalg

from .._checks import check_float_array, check_positive_int, to_generator

__all__ = ["SharedSubspaces", "kmeans", "shared_subspaces", "spectral_clustering"]

MAX_EIGENGAP_CLUSTERS = 50  # the eigengap looks at k = 2 .. min(n - 1, this)
SYMMETRY_RTOL = 1e-8  # affinity: max|A - A^T| <= SYMMETRY_RTOL * max|A|
CORR_TOL = 1e-6  # correlations: symmetric and inside [-1, 1] up to this
TRANSFORMS = ("abs", "clip")


# --- k-means -----------------------------------------------------------------------


def _sq_distances(P, p_sq, Q, q_sq):
    """(len(P), len(Q)) squared distances ||p - q||^2 = ||p||^2 - 2 p.q + ||q||^2 of rows."""
    d2 = p_sq[:, None] - 2.0 * (P @ Q.T) + q_sq[None, :]
    # the expansion cancels badly for nearby points and can dip below 0
    return np.maximum(d2, 0.0, out=d2)


def _kmeans_plus_plus(X, x_sq, k, rng):
    """k initial centres (k, F) by greedy k-means++ seeding."""
    n = X.shape[0]
    n_trials = 2 + int(np.log(k))
    first = int(rng.integers(n))
    centers = [X[first]]
    closest = _sq_distances(X[first : first + 1], x_sq[first : first + 1], X, x_sq)[0]
    for _ in range(1, k):
        cum = np.cumsum(closest)
        if cum[-1] > 0:
            # draw with probability D(x)^2 / sum D^2; zero-weight points are never drawn
            draws = rng.random(n_trials) * cum[-1]
            cand = np.minimum(np.searchsorted(cum, draws, side="right"), n - 1)
        else:  # every point already sits on a centre: fewer distinct points than k
            cand = rng.integers(n, size=n_trials)
        # (n_trials, n): one row per candidate keeps the sums below contiguous
        d2 = _sq_distances(X[cand], x_sq[cand], X, x_sq)
        # greedy step: keep the candidate that lowers the potential sum D^2 most
        best = int(np.argmin(np.minimum(closest, d2).sum(axis=1)))
        centers.append(X[cand[best]])
        closest = np.minimum(closest, d2[best])
    return np.array(centers)


def _update_centers(X, labels, d2, k):
    """Cluster means (k, F); an empty cluster is re-seeded at a far point."""
    n = X.shape[0]
    labels = labels.copy()
    counts = np.bincount(labels, minlength=k)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        dist = d2[np.arange(n), labels]
        # the points worst served by their centre, farthest first; never take
        # the last point of a cluster (that would just move the hole)
        far = iter(np.argsort(-dist, kind="stable"))
        for c in empty:
            i = next(i for i in far if counts[labels[i]] > 1)
            if dist[i] == 0:  # every point sits on a centre: nothing to gain
                break
            counts[labels[i]] -= 1
            labels[i], counts[c] = c, 1
    onehot = (labels[:, None] == np.arange(k)).astype(X.dtype)  # (n, k)
    sums = onehot.T @ X  # (k, F)
    centers = sums / np.maximum(counts, 1)[:, None]
    # a cluster still empty (duplicate points) keeps a duplicate centre
    return centers, labels


def _lloyd(X, x_sq, centers, max_iter, tol_abs):
    """Lloyd's iterations from ``centers`` -> (labels, centers, inertia)."""
    k = centers.shape[0]
    labels = np.full(X.shape[0], -1)
    for _ in range(max_iter):
        d2 = _sq_distances(X, x_sq, centers, np.einsum("ij,ij->i", centers, centers))
        new_labels = np.argmin(d2, axis=1)
        if np.array_equal(new_labels, labels):
            break  # a fixed point: the centres are the means of these labels
        new_centers, labels = _update_centers(X, new_labels, d2, k)
        shift = float(np.sum((new_centers - centers) ** 2))
        centers = new_centers
        if shift <= tol_abs:
            break
    d2 = _sq_distances(X, x_sq, centers, np.einsum("ij,ij->i", centers, centers))
    labels = np.argmin(d2, axis=1)
    return labels, centers, float(d2[np.arange(X.shape[0]), labels].sum())


def _first_appearance(labels, k):
    """Relabel so cluster ids appear in order 0, 1, 2, ... -> (labels, perm), perm[new] = old."""
    used, first = np.unique(labels, return_index=True)
    perm = np.concatenate([used[np.argsort(first)], np.setdiff1d(np.arange(k), used)])
    new_id = np.empty(k, dtype=np.int64)
    new_id[perm] = np.arange(k)
    return new_id[labels], perm


def kmeans(
    X: np.ndarray,
    n_clusters: int,
    seed=0,
    n_init: int = 10,
    max_iter: int = 300,
    tol: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray]:
    """k-means clustering: Lloyd's algorithm from k-means++ seeds, best of n_init.

    Minimises the inertia sum_i ||x_i - c_{label_i}||^2 over labels and
    centres. Each restart seeds centres by greedy k-means++ (Arthur &
    Vassilvitskii 2007: the first centre uniformly, each next one the best of
    2 + floor(ln k) candidates drawn with probability proportional to D(x)^2,
    the squared distance to the nearest centre so far, "best" meaning the
    lowest resulting sum of D^2), then alternates assignment and mean updates.
    The restart of lowest inertia is kept.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        Finite data; computed in float64.
    n_clusters : int
        1 <= n_clusters <= n_samples (more clusters than samples is an error).
    seed : int or numpy Generator
        The same seed gives the same result, bit for bit.
    n_init : int
        Restarts; the one of lowest inertia is returned.
    max_iter : int
        Lloyd iterations per restart at most.
    tol : float
        A restart stops when its labels stop changing, or when the summed
        squared shift of the centres is at most ``tol * mean(var(X, axis=0))``
        (relative to the data's spread, so the units of X do not matter).

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64
        The nearest centre of each sample (ties: the lower index), numbered
        in order of first appearance (labels[0] == 0).
    centers : ndarray of shape (n_clusters, n_features), float64

    Notes
    -----
    Squared distances are ||x||^2 - 2 x.c + ||c||^2 (one matrix product),
    clipped at 0. A cluster that empties during the iterations is re-seeded
    at the point farthest from its own centre (taken from a cluster with more
    than one point). If X has fewer than n_clusters distinct rows some
    clusters stay empty; their centres duplicate other centres and come last.
    """
    check_float_array("X", X, ndim=2, layout="(n_samples, n_features)")
    n, F = X.shape
    if n == 0 or F == 0:
        raise ValueError(
            f"X must have at least one sample and one feature, got shape {X.shape}"
        )
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite, got NaN or inf")
    k = check_positive_int("n_clusters", n_clusters)
    if k > n:
        raise ValueError(
            f"n_clusters={k} is larger than the number of samples {n}: "
            "k-means needs at least one sample per cluster"
        )
    n_init = check_positive_int("n_init", n_init)
    max_iter = check_positive_int("max_iter", max_iter)
    if not (isinstance(tol, numbers.Real) and np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    rng = to_generator(seed)

    # k-means is unchanged by a shift and a uniform scale of the data; centring
    # and scaling first keeps ||x||^2 - 2 x.c + ||c||^2 from cancelling (data
    # far from the origin) or overflowing (huge values)
    X = X.astype(np.float64)
    shift = X.mean(axis=0)
    X -= shift
    scale = float(np.max(np.abs(X))) or 1.0
    X /= scale
    x_sq = np.einsum("ij,ij->i", X, X)
    tol_abs = tol * float(np.mean(np.var(X, axis=0)))
    best = None
    for _ in range(n_init):
        centers = _kmeans_plus_plus(X, x_sq, k, rng)
        labels, centers, inertia = _lloyd(X, x_sq, centers, max_iter, tol_abs)
        if best is None or inertia < best[2]:
            best = (labels, centers, inertia)
    labels, perm = _first_appearance(best[0], k)
    return labels, best[1][perm] * scale + shift


# --- spectral clustering -----------------------------------------------------------


def _check_affinity(affinity):
    """Validated float64 copy of a square, symmetric, finite, non-negative matrix."""
    if not isinstance(affinity, np.ndarray):
        raise TypeError(
            f"affinity must be a numpy array, got {type(affinity).__name__}"
        )
    if affinity.dtype.kind not in "biuf":
        raise TypeError(f"affinity must hold real numbers, got dtype {affinity.dtype}")
    if (
        affinity.ndim != 2
        or affinity.shape[0] != affinity.shape[1]
        or affinity.size == 0
    ):
        raise ValueError(
            f"affinity must be a non-empty square (n, n) matrix, got shape {affinity.shape}"
        )
    A = affinity.astype(np.float64)  # a copy: the caller's array is never changed
    if not np.all(np.isfinite(A)):
        raise ValueError("affinity must be finite, got NaN or inf")
    if A.min() < 0:
        i, j = np.unravel_index(np.argmin(A), A.shape)
        raise ValueError(f"affinity must be non-negative, got {A[i, j]} at ({i}, {j})")
    skew = A - A.T
    asym = float(np.max(np.abs(skew)))
    if asym > SYMMETRY_RTOL * A.max():
        raise ValueError(
            f"affinity must be symmetric: max|A - A^T| = {asym:.3g} exceeds "
            f"{SYMMETRY_RTOL:g} * max|A| = {SYMMETRY_RTOL * A.max():.3g}"
        )
    skew *= 0.5
    A -= skew  # (A + A^T) / 2: exactly symmetric for eigh
    np.fill_diagonal(A, 0.0)
    return A


def _top_eigen(M, q):
    """The q largest eigenvalues (descending) and eigenvectors (columns) of symmetric M (overwritten)."""
    m = M.shape[0]
    # only the top q: LAPACK's MRRR (syevr) skips the rest of the spectrum
    w, V = scipy.linalg.eigh(
        M, subset_by_index=[m - q, m - 1], overwrite_a=True, check_finite=False
    )
    return w[::-1], V[:, ::-1]


def _spectral(A, k, rng, n_init):
    """NJW on a validated affinity (diagonal 0) -> (labels, top eigenvalues of the connected part)."""
    n = A.shape[0]
    degree = A.sum(axis=1)
    live = np.flatnonzero(degree > 0)
    n_iso = n - live.size
    if k is not None and live.size and k < n_iso + 1:
        raise ValueError(
            f"n_clusters={k} is too small: the affinity has {n_iso} isolated nodes "
            "(no edges), each its own cluster, and the rest needs at least one more"
        )
    if k is not None and not live.size and k != n:
        raise ValueError(
            f"n_clusters={k}: every node of the affinity is isolated, so n_clusters must be {n}"
        )
    m = live.size
    eigenvalues = np.empty(0)
    k_live = None if k is None else k - n_iso
    if m:
        s = 1.0 / np.sqrt(degree[live])
        M = (A if m == n else A[np.ix_(live, live)]) * s[:, None]
        M *= s[None, :]  # D^-1/2 A D^-1/2, (m, m), a new array
        if k_live is None and m < 3:
            k_live = 1  # two connected nodes: one cluster, nothing to choose
        elif k_live is None:
            q = min(m - 1, MAX_EIGENGAP_CLUSTERS)
            eigenvalues, V = _top_eigen(M, q + 1)
            # gaps[j] = lambda_k - lambda_{k+1} for k = j + 2 (eigenvalues[0] is lambda_1)
            gaps = eigenvalues[1:q] - eigenvalues[2 : q + 1]
            k_live = 2 + int(np.argmax(gaps))
            V = V[:, :k_live]
        else:
            eigenvalues, V = _top_eigen(M, k_live)
    labels = np.empty(n, dtype=np.int64)
    if m and k_live == 1:
        labels[live] = 0
    elif m:
        norms = np.linalg.norm(V, axis=1, keepdims=True)
        Y = V / np.where(norms > 0, norms, 1.0)  # rows on the unit sphere (NJW step 4)
        labels[live] = kmeans(Y, k_live, seed=rng, n_init=n_init)[0]
    labels[degree == 0] = (k_live or 0) + np.arange(n_iso)
    return _first_appearance(labels, n_iso + (k_live or 0))[0], eigenvalues


def spectral_clustering(
    affinity: np.ndarray, n_clusters: int | None = None, seed=0, n_init: int = 10
) -> np.ndarray:
    """Cluster the nodes of a weighted graph: normalised spectral clustering (NJW 2002).

    With A the affinity (diagonal set to 0) and D = diag(sum_j A_ij), take the
    normalised affinity M = D^-1/2 A D^-1/2, the eigenvectors of its k largest
    eigenvalues as the columns of V (n, k), scale each row of V to unit
    length, and run ``kmeans`` on those rows. If the graph splits into k
    groups with no edges between them, M has eigenvalue 1 k times and the
    rows of one group all land on one point, so k-means finds the groups;
    weak edges between groups only move the points a little.

    Parameters
    ----------
    affinity : ndarray of shape (n, n)
        Square, symmetric (max|A - A^T| <= 1e-8 * max|A|; it is then
        symmetrised), finite, non-negative weights; any real dtype. The
        diagonal is ignored (set to 0, as NJW do: a self-affinity says
        nothing about where a node belongs, and a unit's correlation with
        itself is always 1). The caller's array is not changed.
    n_clusters : int or None
        1 <= n_clusters <= n. None chooses it by the eigengap (Notes).
    seed : int or numpy Generator
        Seeds the k-means; the same seed gives the same labels.
    n_init : int
        k-means restarts.

    Returns
    -------
    labels : ndarray of shape (n,), int64
        Cluster ids 0 .. n_clusters - 1, numbered in order of first
        appearance (labels[0] == 0), so equal partitions give equal arrays.

    Notes
    -----
    Isolated nodes (no edge once the diagonal is 0: M would divide by 0)
    each form their own cluster, counted in n_clusters, and the other
    nodes share the remaining n_clusters - n_isolated clusters (so
    n_clusters must be at least n_isolated + 1 unless every node is
    isolated). Separate components are never split while n_clusters is at
    most their number; which of them are merged is then arbitrary (any basis
    of the eigenvalue-1 space) but deterministic.

    Eigengap (n_clusters=None): with lambda_1 >= lambda_2 >= ... the
    eigenvalues of M over the non-isolated nodes (m of them), the number of
    clusters k is the k in 2 .. min(m - 1, 50) with the largest gap
    lambda_k - lambda_{k+1} (the smallest such k on ties), plus one per
    isolated node. k = 1 is not a candidate: in a dense affinity (all
    correlations count) lambda_1 = 1 stands far above the rest, so its gap
    would win almost always and say nothing. With m = 2, k = 1.
    """
    A = _check_affinity(affinity)
    n = A.shape[0]
    k = None
    if n_clusters is not None:
        k = check_positive_int("n_clusters", n_clusters)
        if k > n:
            raise ValueError(
                f"n_clusters={k} is larger than the number of nodes {n} (affinity shape {affinity.shape})"
            )
    n_init = check_positive_int("n_init", n_init)
    return _spectral(A, k, to_generator(seed), n_init)[0]


# --- shared subspaces of two nets --------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SharedSubspaces:
    """The clusters of the units of two nets' layer (``shared_subspaces``).

    Combined indices: 0 .. U_a - 1 are net A's units, U_a .. U_a + U_b - 1
    net B's. Clusters are numbered by size, largest first (ties: the one
    whose first unit comes first).

    Attributes
    ----------
    affinity : (U_a + U_b, U_a + U_b) float64, the clustered graph: the
        transformed combined correlation, NaN -> 0, diagonal 0.
    labels : (U_a + U_b,) int64, the cluster of each unit; -1 for dead units.
    n_units_a : int, U_a.
    n_clusters : int, the number of clusters (given, or from the eigengap).
    units_a, units_b : tuples of n_clusters int64 arrays, the unit indices
        (within its own net, ascending) of A's and B's units in each cluster.
    shared : (n_clusters,) bool, the clusters holding units of both nets.
    shared_fraction : float, shared.mean(): the share of shared subspaces.
    order : (U_a + U_b,) int64, combined indices grouped by cluster (cluster
        0 first; inside one, A's units then B's, ascending), dead units last:
        ``C[np.ix_(order, order)]`` draws the cluster-sorted matrix.
    dead_a, dead_b : int64 arrays of the dead units of A and B (own indices).
    eigenvalues : float64, the top eigenvalues (descending) of the normalised
        affinity of the clustered units (non-isolated live units, m of them):
        lambda_1 .. lambda_{q+1}, q = min(m - 1, 50), when the eigengap chose
        n_clusters, else the top n_clusters - n_isolated (what was used).
    transform : str, "abs" or "clip".
    """

    affinity: np.ndarray
    labels: np.ndarray
    n_units_a: int
    n_clusters: int
    units_a: tuple
    units_b: tuple
    shared: np.ndarray
    shared_fraction: float
    order: np.ndarray
    dead_a: np.ndarray
    dead_b: np.ndarray
    eigenvalues: np.ndarray
    transform: str

    @property
    def labels_a(self) -> np.ndarray:
        """(U_a,) clusters of A's units."""
        return self.labels[: self.n_units_a]

    @property
    def labels_b(self) -> np.ndarray:
        """(U_b,) clusters of B's units."""
        return self.labels[self.n_units_a :]


def _check_corr(name, c, shape, square):
    """c: a float (shape) correlation matrix, NaN allowed; symmetric when square."""
    check_float_array(name, c, ndim=2)
    if c.shape != shape or 0 in shape:
        raise ValueError(f"{name} must have shape {shape} (non-empty), got {c.shape}")
    nan = np.isnan(c)
    values = np.abs(c[~nan])
    if values.size and not values.max() <= 1 + CORR_TOL:
        raise ValueError(
            f"{name} must hold correlations in [-1, 1] (or NaN), got {values.max():.6g}"
        )
    if square and np.any(np.abs(np.nan_to_num(c - c.T, nan=0.0)) > CORR_TOL):
        raise ValueError(f"{name} must be symmetric (to {CORR_TOL:g})")
    if square and np.any(nan != nan.T):
        raise ValueError(f"{name} must be symmetric: its NaN entries are not")


def shared_subspaces(
    corr_within_a: np.ndarray,
    corr_within_b: np.ndarray,
    corr_between: np.ndarray,
    n_clusters: int | None = None,
    seed=0,
    transform: str = "abs",
) -> SharedSubspaces:
    """Many-to-many mapping: spectral clusters of the units of two nets (paper section 5).

    Parameters
    ----------
    corr_within_a : ndarray of shape (U_a, U_a)
        Correlations between net A's units (``ActivationStats.corr_within_a``).
    corr_within_b : ndarray of shape (U_b, U_b)
    corr_between : ndarray of shape (U_a, U_b)
        Correlations of A's units (rows) with B's (columns).
    n_clusters : int or None
        Clusters of the live units; None chooses it by the eigengap, as in
        ``spectral_clustering``.
    seed : int or numpy Generator
    transform : {"abs", "clip"}
        Affinity from correlation r: "abs" uses |r| (default: a unit and its
        negation carry the same signal and span the same one-dimensional
        subspace, so strong anti-correlation ties units as strongly as
        correlation); "clip" uses max(r, 0) (only units that fire together
        are tied).

    Returns
    -------
    SharedSubspaces

    Notes
    -----
    The affinity is W = f(C), f = |.| or max(., 0), of the combined matrix
    C = [[C_aa, C_ab], [C_ab^T, C_bb]], with the diagonal set to 0, clustered
    by ``spectral_clustering`` (NJW). A unit is dead when its row of C is NaN
    everywhere off its own diagonal (a zero-variance unit: see
    ``stats.correlation``); dead units are left out of the clustering, get
    label -1 and are listed in dead_a / dead_b. Any other NaN correlation
    counts as affinity 0. A live unit left without any affinity (possible
    with "clip": anti-correlated with every other unit) is an isolated node,
    hence a cluster of its own. Fewer than n_clusters clusters come back only
    when the spectral embedding has fewer distinct rows (see ``kmeans``).

    References: Li et al., "Convergent Learning", ICLR 2016, section 5.
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
    for name, c in (("corr_within_a", corr_within_a), ("corr_within_b", corr_within_b)):
        check_float_array(name, c, ndim=2)
    Ua, Ub = corr_within_a.shape[0], corr_within_b.shape[0]
    _check_corr("corr_within_a", corr_within_a, (Ua, Ua), True)
    _check_corr("corr_within_b", corr_within_b, (Ub, Ub), True)
    _check_corr("corr_between", corr_between, (Ua, Ub), False)
    C = np.block(
        [[corr_within_a, corr_between], [corr_between.T, corr_within_b]]
    ).astype(np.float64)
    U = Ua + Ub
    nan = np.isnan(C)
    np.fill_diagonal(nan, True)
    dead = nan.all(axis=1)
    affinity = np.abs(C) if transform == "abs" else np.maximum(C, 0.0)
    # NaN entries (so every row and column of a dead unit) and the diagonal
    affinity[nan] = 0.0

    live = np.flatnonzero(~dead)
    if live.size == 0:
        raise ValueError(
            f"every unit is dead (all-NaN correlations): {Ua} of A, {Ub} of B"
        )
    k = None
    if n_clusters is not None:
        k = check_positive_int("n_clusters", n_clusters)
        if k > live.size:
            raise ValueError(
                f"n_clusters={k} is larger than the number of live units {live.size}"
            )
    live_labels, eigenvalues = _spectral(
        affinity[np.ix_(live, live)], k, to_generator(seed), 10
    )
    n_found = int(live_labels.max()) + 1
    # renumber clusters by size, largest first; ties keep first appearance
    sizes = np.bincount(live_labels, minlength=n_found)
    by_size = np.argsort(-sizes, kind="stable")
    new_id = np.empty(n_found, dtype=np.int64)
    new_id[by_size] = np.arange(n_found)
    labels = np.full(U, -1, dtype=np.int64)
    labels[live] = new_id[live_labels]

    idx = np.arange(U)
    units_a = tuple(idx[:Ua][labels[:Ua] == c] for c in range(n_found))
    units_b = tuple(idx[Ua:][labels[Ua:] == c] - Ua for c in range(n_found))
    shared = np.array([a.size > 0 and b.size > 0 for a, b in zip(units_a, units_b)])
    order = np.argsort(np.where(labels < 0, n_found, labels), kind="stable")
    return SharedSubspaces(
        affinity=affinity,
        labels=labels,
        n_units_a=Ua,
        n_clusters=n_found,
        units_a=units_a,
        units_b=units_b,
        shared=shared,
        shared_fraction=float(shared.mean()),
        order=order,
        dead_a=np.flatnonzero(dead[:Ua]),
        dead_b=np.flatnonzero(dead[Ua:]),
        eigenvalues=eigenvalues,
        transform=transform,
    )
