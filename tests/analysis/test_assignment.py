"""Tests for convlearn.analysis.assignment: the hand-written assignment solver
against scipy and a brute force over permutations, on thousands of random and
adversarial cases (ties, integers, rectangular, infinities, huge values),
errors included."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment as scipy_lsa

from convlearn.analysis import assignment
from convlearn.analysis.assignment import brute_force_assignment, linear_sum_assignment


def exact_total(cost, rows, cols):
    """The total of the chosen entries, exact for integers (Python ints)."""
    a = np.asarray(cost)
    if a.dtype.kind in "biu":
        return sum(int(x) for x in a[rows, cols])
    return float(a[rows, cols].astype(np.float64).sum())


def check_valid(cost, rows, cols):
    """A well-formed answer: int64, rows sorted and distinct, columns distinct."""
    nr, nc = np.shape(cost)
    assert rows.dtype == np.int64 and cols.dtype == np.int64
    assert len(rows) == len(cols) == min(nr, nc)
    assert np.all(np.diff(rows) > 0)
    assert len(set(cols.tolist())) == len(cols)
    assert np.all((0 <= cols) & (cols < nc)) and np.all((0 <= rows) & (rows < nr))


def solve_or_error(solve, cost, maximize):
    try:
        return solve(cost, maximize=maximize), None
    except ValueError as e:
        return None, str(e)


def random_case(rng, kind, nr, nc):
    """One cost matrix of a given kind and shape, and whether to maximise."""
    maximize = bool(rng.integers(2))
    if kind == "uniform":
        c = rng.random((nr, nc))
    elif kind == "small_int":  # many ties
        c = rng.integers(-2, 3, (nr, nc))
    elif kind == "constant":
        c = np.full((nr, nc), rng.choice([0.0, 1.5, -7.0]))
    elif kind == "perm_noise":
        c = 0.05 * rng.standard_normal((nr, nc))
        n = min(nr, nc)
        c[rng.permutation(nr)[:n], rng.permutation(nc)[:n]] += 1.0
    elif kind == "huge":  # round-off at 1e300 with both signs, no overflow
        c = rng.choice([1e300, -1e300, 3e299, 0.5, 0.0], (nr, nc))
    elif kind == "forbidden":  # +inf (or -inf when maximising) edges
        c = rng.random((nr, nc))
        c[rng.random((nr, nc)) < rng.uniform(0.2, 0.7)] = np.inf
        c = -c if maximize else c
    elif kind == "hall":  # k + 1 rows (or columns) confined to k columns: infeasible
        c = rng.random((nr, nc))
        short, long_ = sorted((nr, nc))
        k = int(rng.integers(0, short))
        lines, allowed = rng.permutation(short)[: k + 1], rng.permutation(long_)[:k]
        block = np.full((k + 1, long_), np.inf)
        block[:, allowed] = 1.0
        if nr <= nc:
            c[lines] = block
        else:
            c[:, lines] = block.T
        c = -c if maximize else c
    elif kind == "int_wide":  # int64 well away from 0, exact in float64
        c = rng.integers(-(10**12), 10**12, (nr, nc)) + 10**15
    elif kind == "bool":
        c = rng.random((nr, nc)) < 0.5
    elif kind == "float32":
        c = rng.standard_normal((nr, nc)).astype(np.float32)
    else:
        raise AssertionError(kind)
    return c, maximize


KINDS = [
    "uniform",
    "small_int",
    "constant",
    "perm_noise",
    "huge",
    "forbidden",
    "hall",
    "int_wide",
    "bool",
    "float32",
]


def compare(c, maximize, oracle):
    """Ours and the oracle: the same error, or the same total (exact for ints)."""
    ours, err = solve_or_error(linear_sum_assignment, c, maximize)
    ref, ref_err = solve_or_error(oracle, c, maximize)
    assert (err is None) == (ref_err is None), (c, maximize, err, ref_err)
    if err is not None:
        assert err.split(":")[0] == ref_err.split(":")[0], (err, ref_err)
        return "error"
    check_valid(c, *ours)
    t, t_ref = exact_total(c, *ours), exact_total(c, *ref)
    if np.asarray(c).dtype.kind in "biu":
        assert t == t_ref, (c, maximize, t, t_ref)
    else:
        scale = max(1.0, float(np.abs(c[np.isfinite(c)]).max(initial=0.0)))
        assert abs(t - t_ref) <= 1e-12 * scale * c.size, (c, maximize, t, t_ref)
    return "solved"


def test_against_scipy_and_brute_force_on_thousands_of_cases():
    rng = np.random.default_rng(2016)
    outcomes = {"solved": 0, "error": 0}
    for case in range(3000):
        kind = KINDS[case % len(KINDS)]
        nr, nc = (int(x) for x in rng.integers(1, 7, 2))  # rectangular both ways
        c, maximize = random_case(rng, kind, nr, nc)
        outcomes[compare(c, maximize, scipy_lsa)] += 1
        if nr * nc <= 20:
            compare(c, maximize, brute_force_assignment)
    assert outcomes["solved"] > 2200 and outcomes["error"] > 300, outcomes


def test_against_scipy_on_larger_cases():
    # long augmenting paths, bidding wars and block-wise bidding
    rng = np.random.default_rng(7)
    for case in range(120):
        kind = KINDS[case % len(KINDS)]
        nr, nc = (int(x) for x in rng.integers(10, 90, 2))
        compare(*random_case(rng, kind, nr, nc), scipy_lsa)


def test_hall_violation_is_infeasible():
    # rows 0..2 may only use columns 0..1: no assignment avoids +inf
    c = np.ones((4, 4))
    c[:3, 2:] = np.inf
    for solve in (linear_sum_assignment, scipy_lsa, brute_force_assignment):
        with pytest.raises(ValueError, match="cost matrix is infeasible"):
            solve(c)
        with pytest.raises(ValueError, match="cost matrix is infeasible"):
            solve(-c, maximize=True)


BAD_INPUTS = [
    ("1-D", np.array([1.0, 2.0]), False, ValueError, "2-D"),
    ("3-D", np.zeros((2, 2, 2)), False, ValueError, "2-D"),
    ("0-D", np.array(1.0), False, ValueError, "2-D"),
    ("NaN", np.array([[np.nan, 1.0], [1.0, 2.0]]), False, ValueError, "invalid"),
    ("NaN max", np.array([[np.nan, 1.0], [1.0, 2.0]]), True, ValueError, "invalid"),
    ("-inf min", np.array([[-np.inf, 1.0], [1.0, 2.0]]), False, ValueError, "invalid"),
    ("+inf max", np.array([[np.inf, 1.0], [1.0, 2.0]]), True, ValueError, "invalid"),
    (
        "inf row",
        np.array([[np.inf, np.inf], [1.0, 2.0]]),
        False,
        ValueError,
        "infeasible",
    ),
    (
        "-inf row max",
        np.array([[-np.inf, -np.inf], [1, 2]]),
        True,
        ValueError,
        "infeasible",
    ),
    (
        "wide inf",
        np.array([[np.inf, np.inf, 1.0], [np.inf, np.inf, 2.0]]),
        False,
        ValueError,
        "infeasible",
    ),
    (
        "tall inf",
        np.array([[np.inf, np.inf, 1.0], [np.inf, np.inf, 2.0]]).T,
        False,
        ValueError,
        "infeasible",
    ),
    ("complex", np.array([[1 + 1j, 1.0], [1.0, 2.0]]), False, TypeError, "dtype"),
    ("object", np.array([[3, 1], [1, 3]], dtype=object), False, TypeError, "dtype"),
    ("str", np.array([["a", "b"], ["c", "d"]]), False, TypeError, "dtype"),
    ("longdouble", np.eye(2, dtype=np.longdouble), False, TypeError, "dtype"),
]


@pytest.mark.parametrize(
    "cost, maximize, error, match",
    [b[1:] for b in BAD_INPUTS],
    ids=[b[0] for b in BAD_INPUTS],
)
def test_errors_match_scipy(cost, maximize, error, match):
    with pytest.raises(error):
        scipy_lsa(cost, maximize=maximize)
    with pytest.raises(error, match=match):
        linear_sum_assignment(cost, maximize=maximize)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0)])
@pytest.mark.parametrize("maximize", [False, True])
def test_empty_matrices_give_empty_int64_arrays(shape, maximize):
    for solve in (linear_sum_assignment, brute_force_assignment):
        rows, cols = solve(np.zeros(shape), maximize=maximize)
        assert rows.shape == cols.shape == (0,)
        assert rows.dtype == cols.dtype == np.int64


def test_lists_and_small_dtypes_are_accepted_like_scipy():
    cases = [
        [[5, 1, 3], [2, 8, 1]],
        np.array([[5, 1, 3], [2, 8, 1]], dtype=np.uint8).T,
        np.array(
            [[-128, 127], [127, -128]], dtype=np.int8
        ),  # overflows int8 if shifted
        np.array([[1, 2], [3, 4]], dtype=np.float16),
        np.array([[True, False], [False, True]]),
    ]
    for cost in cases:
        for maximize in (False, True):
            rows, cols = linear_sum_assignment(cost, maximize=maximize)
            rs, cs = scipy_lsa(cost, maximize=maximize)
            assert exact_total(cost, rows, cols) == exact_total(cost, rs, cs)
            assert np.array_equal(rows, rs)


def test_int64_near_2_to_62_is_solved_exactly():
    # float64 keeps only 53 bits: scipy, which converts, can miss the optimum
    rng = np.random.default_rng(3)
    scipy_misses = scipy_beats_optimum = 0
    for _ in range(30):
        c = rng.integers(2**62 - 1000, 2**62, (5, 5))
        for maximize in (False, True):
            ours = linear_sum_assignment(c, maximize=maximize)
            best = exact_total(c, *brute_force_assignment(c, maximize=maximize))
            assert exact_total(c, *ours) == best
            t_scipy = exact_total(c, *scipy_lsa(c, maximize=maximize))
            scipy_misses += t_scipy != best
            scipy_beats_optimum += (t_scipy > best) if maximize else (t_scipy < best)
    assert scipy_misses > 0 and scipy_beats_optimum == 0


@pytest.mark.parametrize(
    "low, high, dtype",
    [
        (-(2**62), 2**62, np.int64),  # span above 2**51: the Python-int path
        (2**63 - 3000, 2**63, np.uint64),
        (0, 2**64 - 1, np.uint64),
        (-(2**49), 2**49, np.int64),  # float64 path with its exactness check
    ],
)
def test_extreme_integers_against_brute_force(low, high, dtype):
    rng = np.random.default_rng(11)
    for _ in range(10):
        nr, nc = (int(x) for x in rng.integers(1, 6, 2))
        c = rng.integers(low, high, (nr, nc), dtype=dtype, endpoint=True)
        for maximize in (False, True):
            rows, cols = linear_sum_assignment(c, maximize=maximize)
            check_valid(c, rows, cols)
            ref = brute_force_assignment(c, maximize=maximize)
            assert exact_total(c, rows, cols) == exact_total(c, *ref)


def test_python_integer_path_agrees_with_float64_path():
    rng = np.random.default_rng(5)
    for n in (1, 7, 40):
        c = rng.integers(0, 50, (n, n + 3))
        cols_f, vmin_f = assignment._solve(c.astype(np.float64))
        cols_o, vmin_o = assignment._solve(c.astype(object))
        assert c[np.arange(n), cols_f].sum() == c[np.arange(n), cols_o].sum()
        assert vmin_f == vmin_o  # the same arithmetic, exactly


def test_huge_finite_values_do_not_overflow():
    c = np.array([[1e308, 1e308], [1e308, -1e308]])
    for maximize in (False, True):
        cols = linear_sum_assignment(c, maximize=maximize)[1]
        assert np.array_equal(cols, scipy_lsa(c, maximize=maximize)[1])
    tiny = np.array([[3e-310, 1e-310], [2e-310, 5e-310]])  # subnormal scale
    assert np.array_equal(linear_sum_assignment(tiny)[1], [1, 0])


def test_invariances():
    rng = np.random.default_rng(9)
    for _ in range(20):
        nr, nc = (int(x) for x in rng.integers(2, 30, 2))
        c = rng.random((nr, nc))  # a unique optimum, almost surely
        rows, cols = linear_sum_assignment(c)
        total = c[rows, cols].sum()
        p, q = rng.permutation(nr), rng.permutation(nc)
        rp, cp = linear_sum_assignment(c[p][:, q])
        assert np.isclose(c[p][:, q][rp, cp].sum(), total, rtol=1e-13)
        # the answer permutes with the input
        assert set(zip(p[rp].tolist(), q[cp].tolist())) == set(
            zip(rows.tolist(), cols.tolist())
        )
        rt, ct = linear_sum_assignment(c.T)
        assert set(zip(ct.tolist(), rt.tolist())) == set(
            zip(rows.tolist(), cols.tolist())
        )
        affine = linear_sum_assignment(3.0 * c - 5.0)[1]  # the same answer
        assert np.array_equal(affine, cols)
        assert np.array_equal(linear_sum_assignment(-c, maximize=True)[1], cols)


def test_ties_give_a_valid_optimal_assignment():
    for c in (np.zeros((6, 6)), np.ones((4, 9)), np.tile([0.0, 1.0], (5, 2))):
        rows, cols = linear_sum_assignment(c)
        check_valid(c, rows, cols)
        assert c[rows, cols].sum() == c[scipy_lsa(c)].sum()


def test_brute_force_on_a_hand_example():
    # the optimum 1 + 2 + 2 = 5, checked by hand over the 6 permutations
    c = np.array([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
    rows, cols = brute_force_assignment(c)
    assert cols.tolist() == [1, 0, 2] and exact_total(c, rows, cols) == 5
    assert brute_force_assignment(c, maximize=True)[1].tolist() == [0, 2, 1]
    with pytest.raises(ValueError, match="too large"):
        brute_force_assignment(np.zeros((12, 12)))
