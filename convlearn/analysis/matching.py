"""One-to-one alignment of the units of two nets (paper section 3).

Given the between-net correlation matrix ``corr[i, j]`` of unit i of net A
and unit j of net B (one layer, from ``stats.correlation``), the paper
pairs units in two ways:

- semi-matching: each unit of A takes its most correlated unit of B;
  several units of A may pick the same unit of B;
- bipartite matching: a one-to-one pairing (a permutation when the layers
  have as many units) that maximises the summed correlation of the pairs,
  the assignment problem, solved here by ``linear_sum_assignment``.

Dead units (zero variance) have all-NaN rows or columns; they are matched
last and flagged, never silently paired by an argmax over NaN.

References: Li, Yosinski, Clune, Lipson, Hopcroft, "Convergent Learning: Do
different neural networks learn the same representations?", ICLR 2016,
section 3. Crouse, "On implementing 2D rectangular assignment algorithms",
IEEE Trans. Aerospace and Electronic Systems 52(4), 2016. Jonker and
Volgenant, "A shortest augmenting path algorithm for dense and sparse linear
assignment problems", Computing 38, 1987.
"""

import math
from dataclasses import dataclass

import numpy as np

from .._checks import check_float_array
from .assignment import brute_force_assignment, linear_sum_assignment

__all__ = [
    "Alignment",
    "align_all",
    "align_units",
    "brute_force_assignment",
    "linear_sum_assignment",
    "partner_agreement",
    "semi_matching",
]


def semi_matching(corr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's best column: cols[i] = argmax_j corr[i, j], repeats allowed.

    Parameters
    ----------
    corr : ndarray of shape (n_a, n_b), float32 or float64
        Similarities, e.g. between-net correlations; NaN means "no value".

    Returns
    -------
    cols : ndarray of shape (n_a,), int64
        The best column of each row, the first one on a tie. NaN entries are
        ignored (a dead column never wins); a row that is all NaN (a dead
        unit), or a matrix without columns, gets -1.
    values : ndarray of shape (n_a,), the dtype of corr
        corr[i, cols[i]], or NaN where cols[i] is -1.
    """
    check_float_array("corr", corr, ndim=2, layout="(n_a, n_b)")
    nan = np.isnan(corr)
    dead = nan.all(axis=1)  # True for every row when n_b == 0
    if corr.shape[1] == 0:
        cols = np.full(corr.shape[0], -1, dtype=np.int64)
        return cols, np.full(corr.shape[0], np.nan, dtype=corr.dtype)
    # -inf can never beat a real value, so NaN entries lose every argmax
    cols = np.where(nan, -np.inf, corr).argmax(axis=1).astype(np.int64)
    values = corr[np.arange(corr.shape[0]), cols]
    cols[dead] = -1
    values[dead] = np.nan
    return cols, values


# ---------------------------------------------------------------- alignment


@dataclass(frozen=True)
class Alignment:
    """The one-to-one alignment of the units of nets A and B in one layer.

    Built by ``align_units``; n_a and n_b are the layer's unit counts and
    "corr" is the between-net matrix corr[i, j] (unit i of A, unit j of B).
    Arrays of unit indices are int64, with -1 for "no partner"; correlations
    are float64, NaN where there is none.

    Attributes
    ----------
    bipartite_ab : (n_a,) B partner of each unit of A under bipartite matching
        (the permutation maximising the summed correlation; -1 if n_a > n_b
        leaves the unit out).
    bipartite_ba : (n_b,) the inverse: A partner of each unit of B.
    bipartite_corr : (n_a,) corr[i, bipartite_ab[i]], NaN for dead pairs.
    semi_ab, semi_ab_corr : (n_a,) semi-matching A -> B: each unit's best
        between-net partner and its correlation.
    semi_ba, semi_ba_corr : (n_b,) semi-matching B -> A.
    within_a, within_a_corr : (n_a,) each unit's best other unit of A and
        their correlation (the diagonal excluded); None without corr_within_a.
    within_b, within_b_corr : (n_b,) the same in B, or None.
    dead_a, dead_b : unit indices with an all-NaN row (A) or column (B) of corr.
    unique_a, unique_b : unit indices (dead units excluded) whose best
        between-net correlation is below unique_threshold.
    unique_threshold : the threshold used.
    """

    bipartite_ab: np.ndarray
    bipartite_ba: np.ndarray
    bipartite_corr: np.ndarray
    semi_ab: np.ndarray
    semi_ab_corr: np.ndarray
    semi_ba: np.ndarray
    semi_ba_corr: np.ndarray
    within_a: np.ndarray | None
    within_a_corr: np.ndarray | None
    within_b: np.ndarray | None
    within_b_corr: np.ndarray | None
    dead_a: np.ndarray
    dead_b: np.ndarray
    unique_a: np.ndarray
    unique_b: np.ndarray
    unique_threshold: float

    def order(self, kind: str = "aligned") -> tuple[np.ndarray, np.ndarray]:
        """Unit orders (order_a, order_b) for drawing the paper's matrices.

        ``corr[np.ix_(order_a, order_b)]`` is the between-net matrix and
        ``corr_within_b[np.ix_(order_b, order_b)]`` B's within-net matrix in
        that order. kind is one of:

        - "natural": both nets in index order;
        - "aligned": A in index order, B permuted so that the partner of
          A's unit i sits at column i (the matched pairs on the diagonal);
        - "sorted": the matched pairs by decreasing matched correlation, dead
          pairs last, as in the paper's figures.

        Units without a partner (unequal layer sizes) come last, in index order.
        """
        n_a, n_b = len(self.bipartite_ab), len(self.bipartite_ba)
        if kind == "natural":
            return np.arange(n_a), np.arange(n_b)
        if kind not in ("aligned", "sorted"):
            raise ValueError(
                f"kind must be 'natural', 'aligned' or 'sorted', got {kind!r}"
            )
        a = np.flatnonzero(self.bipartite_ab >= 0)
        if kind == "sorted":
            key = -self.bipartite_corr[a]
            a = a[np.argsort(np.where(np.isnan(key), np.inf, key), kind="stable")]
        rest_a = np.flatnonzero(self.bipartite_ab < 0)
        rest_b = np.flatnonzero(self.bipartite_ba < 0)
        return np.concatenate((a, rest_a)), np.concatenate(
            (self.bipartite_ab[a], rest_b)
        )


def align_units(
    corr_between: np.ndarray,
    corr_within_a: np.ndarray | None = None,
    corr_within_b: np.ndarray | None = None,
    unique_threshold: float = 0.5,
) -> Alignment:
    """Align the units of two nets in one layer (paper section 3).

    Parameters
    ----------
    corr_between : ndarray of shape (n_a, n_b), float32 or float64
        corr_between[i, j]: correlation of unit i of net A and unit j of net
        B (``stats.correlation``). NaN (a dead unit) means "no value"; no inf.
    corr_within_a, corr_within_b : ndarray of shape (n_a, n_a) / (n_b, n_b), optional
        Within-net correlations, for each unit's best partner in its own net.
    unique_threshold : float
        A live unit is "unique" (no good partner in the other net) when its
        best between-net correlation is below this. The default 0.5 says
        that the best stand-in of the other net explains less than a quarter
        (0.5**2) of the unit's variance linearly. Set it from the data for
        other similarities (mutual information) or a stricter reading.

    Returns
    -------
    Alignment

    Notes
    -----
    Bipartite matching maximises sum_i corr[i, p(i)] over one-to-one p.
    NaN entries are replaced by lo = min - (min(n_a, n_b) + 1) * (max - min
    + 1) (min, max over the valid entries): one more NaN pair costs more than
    the valid pairs can ever gain, so the matching uses as few NaN pairs as
    possible (dead units pair with dead units first), then maximises the
    summed correlation of the rest. Dead units get leftover partners, with
    bipartite_corr NaN, and are listed in dead_a / dead_b.
    """
    corr = _similarity("corr_between", corr_between)
    n_a, n_b = corr.shape
    if isinstance(unique_threshold, bool) or not isinstance(
        unique_threshold, (int, float)
    ):
        raise TypeError(f"unique_threshold must be a number, got {unique_threshold!r}")
    if math.isnan(unique_threshold):
        raise ValueError("unique_threshold must not be NaN")
    ab, ba, values = _bipartite(corr)
    semi_ab, semi_ab_corr = semi_matching(corr)
    semi_ba, semi_ba_corr = semi_matching(corr.T)
    within = [
        _best_other(w, f"corr_within_{x}", n)
        for w, x, n in ((corr_within_a, "a", n_a), (corr_within_b, "b", n_b))
    ]
    return Alignment(
        bipartite_ab=ab,
        bipartite_ba=ba,
        bipartite_corr=values,
        semi_ab=semi_ab,
        semi_ab_corr=semi_ab_corr,
        semi_ba=semi_ba,
        semi_ba_corr=semi_ba_corr,
        within_a=within[0][0],
        within_a_corr=within[0][1],
        within_b=within[1][0],
        within_b_corr=within[1][1],
        dead_a=np.flatnonzero(semi_ab < 0),
        dead_b=np.flatnonzero(semi_ba < 0),
        unique_a=np.flatnonzero(semi_ab_corr < unique_threshold),  # NaN: never
        unique_b=np.flatnonzero(semi_ba_corr < unique_threshold),
        unique_threshold=float(unique_threshold),
    )


def align_all(
    corr_between: dict,
    corr_within: dict | None = None,
    unique_threshold: float = 0.5,
) -> dict:
    """``align_units`` for several pairs of nets: {(i, j): Alignment}.

    Parameters
    ----------
    corr_between : dict {(i, j): ndarray of shape (n_i, n_j)}
        Between-net correlations of net i's units (rows) and net j's units
        (columns), one layer; the result has exactly these keys.
    corr_within : dict {i: ndarray of shape (n_i, n_i)}, optional
        Within-net correlations; nets missing from it get None fields.
    unique_threshold : float
        As in ``align_units``.
    """
    if not isinstance(corr_between, dict):
        raise TypeError(
            f"corr_between must be a dict {{(i, j): matrix}}, got {type(corr_between).__name__}"
        )
    within = {} if corr_within is None else corr_within
    out = {}
    for key, corr in corr_between.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(
                f"corr_between keys must be pairs (i, j) of nets, got {key!r}"
            )
        i, j = key
        out[key] = align_units(corr, within.get(i), within.get(j), unique_threshold)
    return out


def partner_agreement(sim_1: np.ndarray, sim_2: np.ndarray) -> tuple[float, float]:
    """Share of units of A that get the same partner under two similarities.

    Used to compare matchings on mutual information and on correlation
    (paper section 3). Rows are units of A, columns units of B.

    Parameters
    ----------
    sim_1, sim_2 : ndarray of shape (n_a, n_b), float32 or float64
        Two similarity matrices of the same units (larger is more similar).

    Returns
    -------
    (semi, bipartite) : float, float
        The fraction of units of A whose semi-matching partner (resp.
        bipartite partner) is the same under sim_1 and sim_2, over the units
        that have a real partner (not NaN) under both; NaN if there are none.
    """
    sim_1, sim_2 = _similarity("sim_1", sim_1), _similarity("sim_2", sim_2)
    if sim_1.shape != sim_2.shape:
        raise ValueError(
            f"sim_1 and sim_2 must have one shape, got {sim_1.shape} and {sim_2.shape}"
        )
    shares = []
    for match in (semi_matching, lambda s: _bipartite(s)[::2]):
        (p1, v1), (p2, v2) = match(sim_1), match(sim_2)
        ok = ~np.isnan(v1) & ~np.isnan(v2)
        shares.append(float(np.mean(p1[ok] == p2[ok])) if ok.any() else math.nan)
    return shares[0], shares[1]


def _similarity(name, x):
    """A 2-D float similarity matrix without inf (NaN allowed) -> a float64 copy."""
    check_float_array(name, x, ndim=2, layout="(n_a, n_b)")
    x = x.astype(np.float64)
    if np.isinf(x).any():
        raise ValueError(
            f"{name} must not hold inf (NaN marks dead units), got {np.isinf(x).sum()} inf entries"
        )
    return x


def _bipartite(corr):
    """Bipartite matching of float64 corr, NaN pairs used as little as possible."""
    n_a, n_b = corr.shape
    nan = np.isnan(corr)
    c = corr.copy()
    if nan.any():
        valid = corr[~nan]
        lo, hi = (valid.min(), valid.max()) if valid.size else (0.0, 0.0)
        c[nan] = lo - (min(n_a, n_b) + 1) * (hi - lo + 1.0)  # see align_units
    rows, cols = linear_sum_assignment(c, maximize=True)
    ab = np.full(n_a, -1, dtype=np.int64)
    ba = np.full(n_b, -1, dtype=np.int64)
    ab[rows], ba[cols] = cols, rows
    values = np.full(n_a, np.nan)
    values[rows] = corr[rows, cols]
    return ab, ba, values


def _best_other(within, name, n):
    """Each unit's best other unit of its own net: (partner, corr), or (None, None)."""
    if within is None:
        return None, None
    check_float_array(name, within, ndim=2, layout="(units, units)")
    if within.shape != (n, n):
        raise ValueError(f"{name} must have shape {(n, n)}, got {within.shape}")
    w = within.astype(np.float64)
    np.fill_diagonal(w, np.nan)  # a unit is not its own partner
    return semi_matching(w)
