"""Mutual information between the units of two nets, on percentile bins.

The paper (section 2, and the MI variant of the matching in section 3)
measures how much one unit tells about another with the mutual information
of their binned activations, as well as with correlation. The estimator here:

1. Binning, per unit, into ``bins`` bins. Bin 0, the *zero bin*, holds the
   samples whose value is exactly 0 (after a ReLU that is often most of
   them). The non-zero values fill bins 1..K, K = bins - 1, split at the
   k/K quantiles of that unit's non-zero values (k = 1..K-1): bin j holds
   the values in (e_{j-1}, e_j], with e_0 = -inf and e_K = +inf. An edge
   e_k is the inverted-CDF quantile, the ceil(k m / K)-th smallest of the
   m non-zero values, so it is always a data value (no interpolation).
2. A 2-D histogram n_ij of the codes of the two units over the S samples.
3. The plug-in MI, in nats: MI = sum_ij (n_ij / S) ln(n_ij S / (n_i n_j)).
4. The Miller-Madow bias correction, in nats too (below).

Conventions, written down because libraries differ on each of them:

- Natural logarithms: every MI, and its correction, is in nats.
- Negative values (input that is not a ReLU output) go to the percentile
  bins with the positive ones: the zero bin holds exact zeros only (0.0
  and -0.0).
- Input with no exact zeros keeps its zero bin, empty: it has bins - 1
  occupied percentile bins. So ``bins`` means the same for every unit.
- Ties: the binning depends on values only, so equal values always share a
  bin. Ties (or fewer than K non-zero values) can make edges coincide and
  leave bins empty; empty bins and empty cells add nothing (0 ln 0 = 0) and
  never give NaN. A constant unit (or an all-zero one) has one bin: MI 0.
- Invariance: the codes depend only on which samples are exactly 0 and on
  the order of the non-zero values. Any map that is strictly increasing on
  the sample's values and sends 0, and only 0, to 0 (3 x, x**3, expm1(x),
  sinh(x), ...) leaves the codes, and so both MIs, unchanged bit for bit.
  A map that moves 0 (x + 1 on ReLU outputs) changes the binning.

Bias correction (Miller 1955). The plug-in entropy of B occupied bins from
S samples is low by about (B - 1) / (2 S) nats, so H_mm = H + (B - 1) / (2 S).
With MI = H(X) + H(Y) - H(X, Y) the three corrections combine into

    MI_mm = MI - (B_xy - B_x - B_y + 1) / (2 S),

B_x, B_y the occupied bins of each unit and B_xy the occupied cells of the
joint histogram. For independent units with every cell occupied this
subtracts (B_x - 1)(B_y - 1) / (2 S), the known chi-square bias of the
plug-in MI. MI_mm is not clipped: near 0 it is negative about half the time,
as an estimate of 0 with little bias must be. It is a first-order correction:
with only a few samples per cell it removes most of the bias, not all (about
90% of it for 10 x 10 bins over 2,000 samples of independent ReLU units). (The original study's code
subtracted a bias term in bits from an MI in nats; here both are in nats.)

Speed: every unit is binned once to integer codes; then one float32 matrix
product of one-hot codes per chunk of samples gives all n_a x n_b joint
histograms at once (no loop over unit pairs). The products are exact: the
one-hot entries are 0/1 and every partial sum is an integer below 2**24
(chunks hold at most 2**16 samples); chunks are summed in float64.

References: Li et al., "Convergent Learning", ICLR 2016, sections 2-3;
G. Miller, "Note on the bias of information estimates", 1955; L. Paninski,
"Estimation of entropy and mutual information", Neural Computation, 2003.
"""

import numpy as np

from .._checks import check_float_array, check_positive_int
from ._samples import as_samples

__all__ = [
    "discretize",
    "mutual_information",
    "mutual_information_matrix",
    "mutual_information_matrix_loop",
]

# Both one-hot blocks of one chunk of samples stay under this many bytes.
_CHUNK_BYTES = 1 << 26
# float32 sums of 0/1 products are exact integers below 2**24; stay far below.
_MAX_CHUNK = 1 << 16


def _check_finite(name, a):
    """a must hold no NaN or infinity; the message shows the first bad entry."""
    bad = ~np.isfinite(a)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        idx = idx[0] if len(idx) == 1 else idx
        raise ValueError(f"{name} must be finite, got {a[idx]} at index {idx}")


def _samples_pair(A, B):
    """Validate A, B -> two (S, U) matrices of one S."""
    A, B = as_samples(A, "A"), as_samples(B, "B")
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            f"A and B must have the same number of samples, got {A.shape[0]} "
            f"(A of shape {A.shape}) and {B.shape[0]} (B of shape {B.shape})"
        )
    if A.shape[0] == 0:
        raise ValueError("A and B must hold at least one sample, got 0")
    for name, x in (("A", A), ("B", B)):
        if x.shape[1] == 0:
            raise ValueError(f"{name} must hold at least one unit, got shape {x.shape}")
    _check_finite("A", A)
    _check_finite("B", B)
    return A, B


def _codes(a, bins):
    """Bin codes (S, U) of a validated (S, U) array: 0 = exact zero, 1..bins-1."""
    S, U = a.shape
    K = bins - 1  # percentile bins
    k = np.arange(1, K)
    # one unit per row, contiguous: (S, U) -> (U, S)
    units = np.ascontiguousarray(a.T)
    codes = np.zeros((U, S), dtype=np.min_scalar_type(K))
    for u, col in enumerate(units):
        nonzero = col != 0
        z = np.sort(col[nonzero])
        m = z.size
        if m == 0:
            continue
        # e_k = the ceil(k m / K)-th smallest non-zero value (1-based), in integers
        edges = z[-(-k * m // K) - 1]
        # side="left" counts the edges strictly below v: bin j holds (e_{j-1}, e_j]
        codes[u, nonzero] = 1 + np.searchsorted(edges, col[nonzero], side="left")
    return np.ascontiguousarray(codes.T)  # (U, S) -> (S, U)


def discretize(a: np.ndarray, bins: int = 10) -> np.ndarray:
    """Bin every unit's activations: the zero bin, then percentile bins.

    Parameters
    ----------
    a : ndarray of shape (S, U), or (N, C, H, W) (every position a sample)
        float32 or float64 activations, finite.
    bins : int, >= 2
        Bins per unit, the zero bin included.

    Returns
    -------
    codes : ndarray of shape (S, U), unsigned integers (uint8 for bins <= 256)
        0 where the value is exactly 0, else 1 + the number of edges e_k
        strictly below the value, e_k being the ceil(k m / K)-th smallest of
        the unit's m non-zero values, K = bins - 1, k = 1..K-1 (see the
        module docstring).
    """
    a = as_samples(a, "a")
    _check_finite("a", a)
    bins = check_positive_int("bins", bins, minimum=2)
    return _codes(a, bins)


def _bin_counts(codes, bins):
    """(U, bins) float64: samples of each unit in each bin."""
    return np.stack([np.bincount(c, minlength=bins) for c in codes.T]).astype(float)


def _joint_counts(codes_a, codes_b, bins, chunk=None):
    """All joint histograms: (n_a, bins, n_b, bins) float64 integer counts.

    Only bins 1..K are one-hot coded; the zero row and column of each table
    follow from its margins (n_0j = n_j - sum_{i>=1} n_ij), which saves
    1 - (K / bins)**2 of the matrix product.
    """
    S, n_a = codes_a.shape
    n_b = codes_b.shape[1]
    K = bins - 1
    if chunk is None:
        chunk = max(1, min(_MAX_CHUNK, _CHUNK_BYTES // (4 * K * (n_a + n_b))))
    # one-hot rows by table look-up: code 0 -> zeros, code i -> row i-1 of I_K
    table = np.vstack([np.zeros(K, np.float32), np.eye(K, dtype=np.float32)])
    inner = np.zeros((n_a * K, n_b * K))
    for start in range(0, S, chunk):
        ca, cb = codes_a[start : start + chunk], codes_b[start : start + chunk]
        # (c, n) codes -> (c, n, K) -> (c, n*K): column u*K + i-1 is 1 where
        # unit u is in bin i
        oa = np.take(table, ca, axis=0).reshape(len(ca), n_a * K)
        ob = np.take(table, cb, axis=0).reshape(len(cb), n_b * K)
        # (n_a*K, c) @ (c, n_b*K): entry (a*K + i-1, b*K + j-1) = n_ij of pair (a, b)
        inner += oa.T @ ob
    counts_a, counts_b = _bin_counts(codes_a, bins), _bin_counts(codes_b, bins)
    joint = np.empty((n_a, bins, n_b, bins))
    joint[:, 1:, :, 1:] = inner.reshape(n_a, K, n_b, K)
    # every sum below is of integers in float64, hence exact
    joint[:, 0, :, 1:] = counts_b[None, :, 1:] - joint[:, 1:, :, 1:].sum(axis=1)
    joint[:, 1:, :, 0] = counts_a[:, 1:, None] - joint[:, 1:, :, 1:].sum(axis=3)
    both_nonzero = joint[:, 1:, :, 1:].sum(axis=(1, 3))  # (n_a, n_b)
    joint[:, 0, :, 0] = (
        S - counts_a[:, 1:].sum(1)[:, None] - counts_b[:, 1:].sum(1)[None, :]
    ) + both_nonzero
    return joint, counts_a, counts_b


def _mi_from_counts(joint, counts_a, counts_b):
    """Plug-in and Miller-Madow MI (nats), (n_a, n_b) each, from the counts."""
    S = counts_a[0].sum()
    n_a, bins, n_b, _ = joint.shape
    mi = np.empty((n_a, n_b))
    # a block of A's units at a time keeps the (block, bins, n_b, bins)
    # temporaries near 8 MB each
    step = max(1, (1 << 20) // (bins * bins * n_b))
    for lo in range(0, n_a, step):
        nij = joint[lo : lo + step]
        # n_i n_j of every cell: (blk, bins, 1, 1) * (1, 1, n_b, bins)
        expected = counts_a[lo : lo + step, :, None, None] * counts_b[None, None]
        occupied = nij > 0  # then n_i, n_j > 0 too; an empty cell adds 0 ln 0 = 0
        ratio = np.where(occupied, nij * S, 1.0) / np.where(occupied, expected, 1.0)
        mi[lo : lo + step] = (nij * np.log(ratio)).sum(axis=(1, 3)) / S
    # a KL divergence is >= 0; summation round-off can leave -1e-17
    np.maximum(mi, 0.0, out=mi)
    b_xy = (joint > 0).sum(axis=(1, 3))
    b_x = (counts_a > 0).sum(axis=1)[:, None]
    b_y = (counts_b > 0).sum(axis=1)[None, :]
    return mi, mi - (b_xy - b_x - b_y + 1) / (2.0 * S)


def mutual_information_matrix(
    A: np.ndarray, B: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Mutual information between every unit of A and every unit of B.

    Parameters
    ----------
    A : ndarray of shape (S, n_a), or (N, C, H, W) (then n_a = C, S = N*H*W)
    B : ndarray of shape (S, n_b), or (N, C, H, W), the same S
        float32 or float64 activations (after the ReLU), finite.
    bins : int, >= 2
        Bins per unit, the zero bin included (``discretize``).

    Returns
    -------
    mi : ndarray of shape (n_a, n_b), float64
        Plug-in MI in nats: sum_ij (n_ij / S) ln(n_ij S / (n_i n_j)), >= 0.
    mi_corrected : ndarray of shape (n_a, n_b), float64
        Miller-Madow corrected, in nats:
        mi - (B_xy - B_x - B_y + 1) / (2 S), with B_x, B_y the occupied bins
        of each unit and B_xy the occupied cells of their joint histogram.
        May be slightly negative for independent units.

    Notes
    -----
    Cost: one float32 product (S, n_a*(bins-1))^T (S, n_b*(bins-1)) in chunks
    of samples, exact (see the module docstring). A unit that is constant
    (all zeros: a dead unit) has MI 0 with everything, both values.
    """
    A, B = _samples_pair(A, B)
    bins = check_positive_int("bins", bins, minimum=2)
    return _mi_matrix(A, B, bins)


def _mi_matrix(A, B, bins):
    """Both MI matrices of validated (S, n_a) and (S, n_b) arrays."""
    joint, counts_a, counts_b = _joint_counts(_codes(A, bins), _codes(B, bins), bins)
    return _mi_from_counts(joint, counts_a, counts_b)


def mutual_information(
    x: np.ndarray, y: np.ndarray, bins: int = 10
) -> tuple[float, float]:
    """Mutual information of two 1-D samples, in nats: (plug-in, corrected).

    Parameters
    ----------
    x, y : ndarray of shape (S,), float32 or float64, finite, one length
    bins : int, >= 2
        Bins per variable, the zero bin included.

    Returns
    -------
    (mi, mi_bias_corrected) : two Python floats, as for
    ``mutual_information_matrix`` of the two one-unit columns.
    """
    check_float_array("x", x, ndim=1, layout="(samples,)")
    check_float_array("y", y, ndim=1, layout="(samples,)")
    if x.shape != y.shape:
        raise ValueError(
            f"x and y must have the same length, got {x.shape[0]} and {y.shape[0]}"
        )
    if x.size == 0:
        raise ValueError("x and y must hold at least one sample, got 0")
    _check_finite("x", x)
    _check_finite("y", y)
    bins = check_positive_int("bins", bins, minimum=2)
    mi, mc = _mi_matrix(x[:, None], y[:, None], bins)  # x, y checked above
    return float(mi[0, 0]), float(mc[0, 0])


def mutual_information_matrix_loop(
    A: np.ndarray, B: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Slow, obviously-correct twin of ``mutual_information_matrix``.

    For teaching and testing: one ``np.histogram2d`` per pair of units, then
    MI = H(X) + H(Y) - H(X, Y) from plug-in entropies and the Miller-Madow
    correction from each entropy's (B - 1) / (2 S). Same arguments, results
    equal to round-off; one pass over the samples per pair, so far slower
    (about 25x at 256 x 256 units, see bench/mutual_info_speed.py).
    """
    A, B = _samples_pair(A, B)
    bins = check_positive_int("bins", bins, minimum=2)
    codes_a, codes_b = _codes(A, bins), _codes(B, bins)
    S = A.shape[0]
    edges = np.arange(bins + 1) - 0.5  # one histogram bin per code

    def entropy(counts):
        """Plug-in entropy (nats) and occupied bins of a histogram."""
        p = counts[counts > 0] / S
        return -np.sum(p * np.log(p)), p.size

    shape = (codes_a.shape[1], codes_b.shape[1])
    mi, mi_corrected = np.empty(shape), np.empty(shape)
    for a in range(shape[0]):
        for b in range(shape[1]):
            n_ij = np.histogram2d(codes_a[:, a], codes_b[:, b], bins=[edges, edges])[0]
            (h_x, b_x), (h_y, b_y) = entropy(n_ij.sum(1)), entropy(n_ij.sum(0))
            h_xy, b_xy = entropy(n_ij)
            mi[a, b] = max(h_x + h_y - h_xy, 0.0)
            mi_corrected[a, b] = (
                (h_x + (b_x - 1) / (2 * S))
                + (h_y + (b_y - 1) / (2 * S))
                - (h_xy + (b_xy - 1) / (2 * S))
            )
    return mi, mi_corrected
