"""The assignment problem, hand-written: scipy.optimize.linear_sum_assignment's contract.

Used by ``matching`` for the paper's bipartite matching of units (section
3): given a cost matrix, pick one column per row (or one row per column
when the matrix is tall), all distinct, with the least total cost.

References: Crouse, "On implementing 2D rectangular assignment algorithms",
IEEE Trans. Aerospace and Electronic Systems 52(4), 2016. Jonker and
Volgenant, "A shortest augmenting path algorithm for dense and sparse linear
assignment problems", Computing 38, 1987.
"""

import itertools
import math

import numpy as np

__all__ = ["brute_force_assignment", "linear_sum_assignment"]

_INFEASIBLE = (  # scipy's words first
    "cost matrix is infeasible: no assignment avoids every forbidden (infinite) entry"
)
_BIDS_PER_ROW = 8  # bidding budget before the shortest-path phase (tuned by bench)
_ROUND_COST = 32768  # a bidding round's fixed cost, in matrix entries scanned


def brute_force_assignment(cost, maximize: bool = False):
    """The assignment problem by its definition: try every injection, keep the best.

    The teaching reference for ``linear_sum_assignment`` (same arguments and
    results, first best in lexicographic order). Sums are exact for integer
    costs (Python integers). Refuses more than 10**6 candidate assignments.
    """
    c, flip = _cost_matrix(cost)
    nr, nc = c.shape
    if nr == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if math.perm(nc, nr) > 10**6:
        raise ValueError(f"cost of shape {np.shape(cost)} is too large for brute force")
    # Python ints stay exact (and negate without overflow), floats stay float64
    rows = [[-x if maximize else x for x in row] for row in c.tolist()]
    if any(math.isnan(x) or x == -math.inf for row in rows for x in row):
        raise ValueError("matrix contains invalid numeric entries")
    best, best_cols = None, None
    for cols in itertools.permutations(range(nc), nr):
        total = sum(rows[i][j] for i, j in enumerate(cols))
        if total != math.inf and (best is None or total < best):
            best, best_cols = total, cols
    if best is None:
        raise ValueError(_INFEASIBLE)
    return _result(np.arange(nr), np.array(best_cols, dtype=np.int64), flip)


def linear_sum_assignment(cost, maximize: bool = False):
    """Solve the assignment problem: scipy.optimize.linear_sum_assignment's contract.

    Finds row indices r and column indices c, one per row when the matrix
    is wide (one per column when tall), all distinct, minimising (or, with
    ``maximize``, maximising) ``cost[r, c].sum()``.

    Parameters
    ----------
    cost : array_like of shape (n_rows, n_cols)
        bool, integer or float (at most 64-bit) costs. +inf marks a forbidden
        pair (-inf when maximize is true).
    maximize : bool
        Maximise instead of minimise (any truthy value, as in scipy).

    Returns
    -------
    row_ind, col_ind : ndarray of shape (min(n_rows, n_cols),), int64
        The pairs; ``row_ind`` is sorted. Empty for an empty matrix.

    Raises
    ------
    ValueError
        If cost is not 2-D; if it holds NaN or an infinity on the wrong side
        ("matrix contains invalid numeric entries"); if no assignment avoids
        every forbidden pair ("cost matrix is infeasible").
    TypeError
        If the dtype is not bool, integer or float of at most 64 bits.

    Notes
    -----
    Algorithm: a bidding start, then shortest augmenting paths (Jonker and
    Volgenant 1987, in the rectangular form of Crouse 2016, as scipy), see
    ``_auction_start`` and ``_augment``. Both keep dual prices u (rows) and
    v (columns) with reduced costs ``cost[i, j] - u[i] - v[j] >= 0``, zero
    on every assigned pair, v <= 0, and v = 0 on unassigned columns. Once
    every row is assigned these prices prove that no assignment is cheaper:
    any assignment c_i costs sum_i (u[i] + v[c_i]) plus its reduced costs,
    at least sum(u) + sum(v), which is exactly the cost of ours. Written for
    NumPy: bidding treats all free rows at once with whole-matrix operations
    and assigns most rows; each remaining row costs one Dijkstra search
    whose every step is one vectorised scan over the columns, and which
    stops at the first free column. ``brute_force_assignment`` is the
    definition, for tiny inputs.

    Floats are solved in float64 after scaling by a power of two (exact) so
    values up to the float64 limit do not overflow; totals are optimal up to
    round-off. Integers are solved exactly, even near 2**63 where float64
    (and so scipy) rounds them: shifted to [0, span] they are solved in
    float64, where every intermediate value is an integer of magnitude at
    most 2 * (span + max|v|); when 4 * (span + max|v|) < 2**53 every
    operation was exact, else the problem is solved again in Python
    integers (slow, but exact for any int64 or uint64 values).
    """
    c, flip = _cost_matrix(cost)
    nr = c.shape[0]
    if nr == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if c.dtype.kind in "iu":
        # minimise c - min, or max - c to maximise: values in [0, span], and
        # with every row assigned the shift changes all totals alike
        c_lo, c_hi = c.min(), c.max()
        lo, hi = int(c_lo), int(c_hi)
        span = hi - lo
        if span < 2**51:  # the true differences fit: no int64 wrap-around
            exact = (c_hi - c) if maximize else (c - c_lo)
            col4row, v_min = _solve(exact.astype(np.float64))
            # u, v, distances are bounded by 2 * (span + max|v|) (see _augment)
            if 4 * (span - v_min) < 2**53:
                return _result(np.arange(nr), col4row, flip)
        big = c.astype(object)  # Python integers: exact at any size
        col4row, _ = _solve(hi - big if maximize else big - lo)
        return _result(np.arange(nr), col4row, flip)
    if maximize:
        c = -c
    c = c.astype(np.float64)
    low = c.min()  # NaN if any entry is NaN
    if not low > -np.inf:
        raise ValueError(
            "matrix contains invalid numeric entries: cost holds NaN or "
            f"{'+inf (maximize=True)' if maximize else '-inf'}"
        )
    allowed = c < np.inf
    if not allowed.any(axis=1).all():
        raise ValueError(_INFEASIBLE)  # a row with no allowed column
    top = max(-low, np.max(c, where=allowed, initial=0.0))  # max |finite entry|
    if top > 0:
        np.ldexp(c, -np.frexp(top)[1], out=c)  # max|c| now in [0.5, 1): no overflow
    col4row, _ = _solve(c)
    return _result(np.arange(nr), col4row, flip)


def _cost_matrix(cost):
    """Validate; return cost as an array with n_rows <= n_cols, and if it was transposed."""
    a = np.asarray(cost)
    if a.ndim != 2:
        raise ValueError(
            f"expected a matrix (2-D array), got a {a.ndim}-D array of shape {a.shape}"
        )
    if not (a.dtype.kind in "biu" or (a.dtype.kind == "f" and a.itemsize <= 8)):
        raise TypeError(
            f"cost must hold bool, integer or float values of at most 64 bits, got dtype {a.dtype}"
        )
    flip = a.shape[0] > a.shape[1]
    c = a.T if flip else a
    if c.dtype.kind in "bi" or (c.dtype.kind == "u" and c.itemsize < 8):
        c = c.astype(np.int64)  # room for differences; uint64 stays uint64
    return c, flip


def _result(rows, cols, flip):
    """Pairs in the caller's orientation, rows sorted (as scipy returns them)."""
    if not flip:
        return rows.astype(np.int64), cols.astype(np.int64)
    order = np.argsort(cols)
    return cols[order].astype(np.int64), rows[order].astype(np.int64)


def _solve(c):
    """Minimise over c (n_rows <= n_cols; float64 or Python ints) -> (col4row, min v).

    The second result is the lowest price v ever held: the integer path
    bounds every intermediate value with it.
    """
    nr, nc = c.shape
    u = np.zeros(nr, dtype=c.dtype)
    v = np.zeros(nc, dtype=c.dtype)
    col4row = np.full(nr, -1, dtype=np.int64)
    row4col = np.full(nc, -1, dtype=np.int64)
    free_rows = _auction_start(c, u, v, col4row, row4col)
    free_cols = np.flatnonzero(row4col < 0)
    v_min = v.min()  # v never rises while bidding, so this is its lowest yet
    for s in free_rows:
        sink = _augment(c, u, v, col4row, row4col, s, free_cols)
        free_cols = free_cols[free_cols != sink]
        v_min = min(v_min, v.min())
    return col4row, v_min


def _auction_start(c, u, v, col4row, row4col):
    """Assign most rows by bidding (JV's augmenting row reduction, all rows at once).

    Every free row i looks at its reduced values c[i, j] - v[j]: best a1 at
    column j1, second best a2. It "bids" for j1 by lowering v[j1] by a2 - a1,
    so that j1 is now exactly as good for it as its second choice, and sets
    u[i] = a2: row i is dual feasible and tight on j1. Lowering v elsewhere
    only raises other rows' reduced costs, so the invariants of the
    docstring of ``linear_sum_assignment`` hold; only assigned columns
    change v, so free columns keep v = 0 (needed for rectangular problems).
    Several rows may bid for one column in a round: the largest decrement
    wins, the others and the displaced owner bid again next round. Bidding
    wars on near-ties make slow progress, so after _BIDS_PER_ROW bids per
    row the remaining free rows go to the shortest-path phase (JV stop after
    two passes, for the same reason). Returns them. In any arithmetic
    a2 >= a1, so v never rises here.
    """
    nr, nc = c.shape
    free = np.arange(nr)
    chunk = max(1, 2**21 // nc)  # rows per block: at most 16 MB of scratch
    work = 0
    while free.size and work < _BIDS_PER_ROW * nr:
        work += free.size + _ROUND_COST // nc
        blocks = [
            _two_best(c, v, free[k : k + chunk]) for k in range(0, free.size, chunk)
        ]
        j1, a1, j2, a2 = (np.concatenate(x) for x in zip(*blocks))
        # JV's tie rule: a tie with a taken column -> take the equally good second
        tie = (a1 == a2) & (row4col[j1] >= 0)
        j1 = np.where(tie, j2, j1)
        has2 = a2 < np.inf  # a row with one allowed column raises no price
        dec = np.where(has2, a2 - a1, 0)
        order = np.argsort(-dec, kind="stable")
        _, first = np.unique(j1[order], return_index=True)
        win = order[first]  # the largest decrement for each column bid for
        lose = np.ones(free.size, dtype=bool)
        lose[win] = False
        rows, cols = free[win], j1[win]
        v[cols] -= dec[win]
        u[rows] = np.where(has2[win], a2[win], a1[win])
        old = row4col[cols]
        old = old[old >= 0]  # displaced owners become free
        col4row[old] = -1
        row4col[cols] = rows
        col4row[rows] = cols
        free = np.concatenate((free[lose], old))
    return free


def _two_best(c, v, rows):
    """For each row: best column j1, its value a1, second best j2 and a2 of c - v."""
    R = c[rows] - v  # (k, n_cols) reduced values without u
    k = np.arange(len(rows))
    j1 = R.argmin(axis=1)
    a1 = R[k, j1]
    R[k, j1] = np.inf
    j2 = R.argmin(axis=1)
    return j1, a1, j2, R[k, j2]


def _augment(c, u, v, col4row, row4col, s, free_cols):
    """Assign free row s by a shortest augmenting path (Dijkstra); returns the sink.

    dist[j] is the length, in reduced costs, of the shortest alternating
    path found so far from s to column j: row -> column by an unassigned
    pair, column -> its row by the assigned (zero reduced cost) pair. Each
    step settles the closest unsettled column with one vectorised scan over
    all columns; the search stops at the first free column it settles
    (preferring a free one on a tie, as scipy does), and the path is
    flipped. Settled columns and rows then shift their prices by
    mind - dist so reduced costs stay >= 0 and the new pairs are tight
    (Crouse 2016, Algorithm 4 with early exit).

    Integer bound (c in [0, span], v <= 0, K = span + max|v|): c - v is in
    [0, K]; u >= 0 (bidding sets u = a2 in [0, K], here u[s] starts at 0 and
    u only grows) and a tight u[i] = c - v is <= K; so mind <= K (u[s] ends
    at mind), path lengths r <= mind + K = 2K, and the gaps are in [0, K].
    """
    nc = c.shape[1]
    dist = np.full(nc, np.inf, dtype=c.dtype)
    pred = np.full(nc, -1, dtype=np.int64)
    w = -v  # -v[j], +inf once column j is settled (it can never improve)
    r = np.empty(nc, dtype=c.dtype)
    better = np.empty(nc, dtype=bool)
    settled, settled_dist = [], []
    u[s] = 0  # any start works; 0 keeps u >= 0 for the integer bound
    i, mind = s, 0
    while True:
        np.add(c[i], w, out=r)  # c[i, j] - v[j]
        r += mind - u.item(i)  # length of the path to column j through row i
        np.less(r, dist, out=better)
        pred[better] = i
        np.minimum(dist, r, out=dist)
        j = int(dist.argmin())
        mind = dist.item(j)  # a Python scalar: cheaper arithmetic in the loop
        if mind == np.inf:
            raise ValueError(_INFEASIBLE)  # no alternating path to a free column
        if row4col[j] >= 0:
            k = int(dist[free_cols].argmin())
            if dist[free_cols[k]] <= mind:
                j = int(free_cols[k])
        settled.append(j)
        settled_dist.append(mind)
        if row4col[j] < 0:
            break
        dist[j] = np.inf
        w[j] = np.inf
        i = row4col[j]
    cols = np.array(settled)
    gap = mind - np.array(settled_dist, dtype=c.dtype)  # (n_settled,) >= 0
    u[s] += mind
    u[row4col[cols[:-1]]] += gap[:-1]
    v[cols] -= gap
    j = cols[-1]
    while True:  # flip the path: each column takes the row it was reached from
        i = pred[j]
        row4col[j] = i
        j, col4row[i] = col4row[i], j
        if i == s:
            return cols[-1]
