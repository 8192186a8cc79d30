"""Tests for convlearn.analysis.mutual_info: the binning against a brute-force
quantile oracle, the vectorised matrix against the pair loop and exact
histograms, the plug-in MI against scikit-learn, the bias correction, the
bivariate-normal limit, invariances, degenerate units and errors."""

import numpy as np
import pytest

from convlearn.analysis import mutual_info as mi_mod
from convlearn.analysis.mutual_info import (
    discretize,
    mutual_information,
    mutual_information_matrix,
    mutual_information_matrix_loop,
)


def relu_like(rng, shape, dtype=np.float64, shift=0.3):
    """Rectified Gaussians: about 60% exact zeros, as after a ReLU."""
    return np.maximum(rng.standard_normal(shape) - shift, 0).astype(dtype)


def random_case(rng, S, n, kind, dtype=np.float64):
    """(S, n) activations of one kind: ReLU-like, signed, heavily tied or mixed."""
    if kind == "relu":
        return relu_like(rng, (S, n), dtype)
    if kind == "signed":  # no exact zeros: the zero bin stays empty
        return rng.standard_normal((S, n)).astype(dtype)
    if kind == "ties":  # a few distinct values, zeros and negatives among them
        return np.round(rng.standard_normal((S, n)) * 1.5).astype(dtype)
    a = relu_like(rng, (S, n), dtype)  # "mixed": dead, constant, sparse units
    a[:, 0] = 0.0
    if n > 1:
        a[:, 1] = 2.5
    if n > 2:
        a[: S // 2, 2] = 0.0
    return a


def oracle_codes(col, bins):
    """Brute force: e_k is the smallest non-zero value whose empirical CDF
    over the non-zero values reaches k / K, counted in integers."""
    K = bins - 1
    codes = np.zeros(col.size, dtype=int)
    nz = col[col != 0]
    m = nz.size
    if m == 0:
        return codes
    at_or_below = (nz[None, :] <= nz[:, None]).sum(axis=1)  # m * CDF(v), (m,)
    edges = [nz[at_or_below * K >= k * m].min() for k in range(1, K)]
    # right=True: 1 + the number of edges strictly below the value
    codes[col != 0] = 1 + np.digitize(nz, edges, right=True)
    return codes


def oracle_plugin_mi(cx, cy):
    """Plug-in MI (nats) by explicit counting with a dict."""
    S = cx.size
    joint, px, py = {}, {}, {}
    for a, b in zip(cx.tolist(), cy.tolist()):
        joint[a, b] = joint.get((a, b), 0) + 1
        px[a] = px.get(a, 0) + 1
        py[b] = py.get(b, 0) + 1
    return sum(n / S * np.log(n * S / (px[a] * py[b])) for (a, b), n in joint.items())


KINDS = ["relu", "signed", "ties", "mixed"]


# ---------------------------------------------------------------- binning


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bins", [2, 3, 5, 10, 17])
def test_discretize_matches_bruteforce_quantile_oracle(kind, bins):
    rng = np.random.default_rng(bins * 10 + KINDS.index(kind))
    for S in (1, 4, 13, 200):
        a = random_case(rng, S, 5, kind)
        codes = discretize(a, bins)
        assert codes.shape == (S, 5) and codes.dtype == np.uint8
        for u in range(5):
            np.testing.assert_array_equal(codes[:, u], oracle_codes(a[:, u], bins))


def test_zero_bin_holds_exactly_the_zeros_and_bins_are_balanced():
    rng = np.random.default_rng(0)
    a = relu_like(rng, (1000, 3))
    a[:, 2] = rng.standard_normal(1000)  # no zeros: bin 0 empty
    codes = discretize(a, bins=10)
    np.testing.assert_array_equal(codes == 0, a == 0)
    for u in range(3):
        sizes = np.bincount(codes[a[:, u] != 0, u], minlength=10)[1:]
        # distinct values: bin j holds ranks [ceil((j-1) m/9), ceil(j m/9))
        m = int((a[:, u] != 0).sum())
        expected = [-(-j * m // 9) - -(-(j - 1) * m // 9) for j in range(1, 10)]
        np.testing.assert_array_equal(sizes, expected)


def test_tied_values_share_one_bin_and_coinciding_edges_leave_empty_bins():
    rng = np.random.default_rng(1)
    col = rng.choice([0.0, 1.0, 2.0, 3.0], size=500, p=[0.4, 0.5, 0.05, 0.05])
    codes = discretize(col[:, None], bins=10)[:, 0]
    for v in np.unique(col):
        assert np.unique(codes[col == v]).size == 1
    assert np.unique(codes).size == 4  # 9 percentile bins, 3 values: 6 empty
    mi, mc = mutual_information(col, rng.standard_normal(500), bins=10)
    assert np.isfinite(mi) and np.isfinite(mc) and mi >= 0


def test_discretize_accepts_nchw_as_samples():
    rng = np.random.default_rng(2)
    a = relu_like(rng, (3, 4, 5, 2), np.float32)
    flat = a.transpose(0, 2, 3, 1).reshape(-1, 4)
    np.testing.assert_array_equal(discretize(a, 7), discretize(flat, 7))


# ---------------------------------------- vectorised == loop == histograms


@pytest.mark.parametrize("chunk", [1, 7, 64, None])
def test_joint_counts_are_exact_histograms_for_any_chunk(chunk):
    rng = np.random.default_rng(3)
    bins = 6
    ca = rng.integers(0, bins, (150, 4)).astype(np.uint8)
    cb = rng.integers(0, bins, (150, 3)).astype(np.uint8)
    ca[:, 1] = 0  # a dead unit
    joint, na, nb = mi_mod._joint_counts(ca, cb, bins, chunk=chunk)
    edges = np.arange(bins + 1) - 0.5
    for a in range(4):
        np.testing.assert_array_equal(na[a], np.bincount(ca[:, a], minlength=bins))
    for b in range(3):
        np.testing.assert_array_equal(nb[b], np.bincount(cb[:, b], minlength=bins))
    for a in range(4):
        for b in range(3):
            h = np.histogram2d(ca[:, a], cb[:, b], bins=[edges, edges])[0]
            np.testing.assert_array_equal(joint[a, :, b, :], h)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matrix_equals_pair_loop_reference(kind, dtype):
    rng = np.random.default_rng(4 + KINDS.index(kind))
    for S, n_a, n_b, bins in [
        (1, 2, 3, 4),
        (9, 3, 1, 10),
        (300, 6, 5, 10),
        (257, 4, 7, 3),
    ]:
        A = random_case(rng, S, n_a, kind, dtype)
        B = random_case(rng, S, n_b, "relu", dtype) + 0.5 * A[:, :1]
        mi, mc = mutual_information_matrix(A, B, bins)
        ref_mi, ref_mc = mutual_information_matrix_loop(A, B, bins)
        assert mi.shape == mc.shape == (n_a, n_b) and mi.dtype == np.float64
        np.testing.assert_allclose(mi, ref_mi, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(mc, ref_mc, rtol=1e-12, atol=1e-14)


def test_plugin_matches_sklearn_on_the_same_codes():
    metrics = pytest.importorskip(
        "sklearn.metrics", reason="scikit-learn is the oracle for the plug-in MI"
    )
    rng = np.random.default_rng(5)
    for case in range(24):
        S, bins = int(rng.integers(2, 400)), int(rng.integers(2, 14))
        kind = KINDS[case % 4]
        x = random_case(rng, S, 1, kind)[:, 0]
        y = np.maximum(x + random_case(rng, S, 1, "signed")[:, 0], 0)
        cx, cy = discretize(x[:, None], bins)[:, 0], discretize(y[:, None], bins)[:, 0]
        mi, _ = mutual_information(x, y, bins)
        expected = metrics.mutual_info_score(cx, cy)
        assert mi == pytest.approx(expected, rel=1e-10, abs=1e-13)
        assert mi == pytest.approx(oracle_plugin_mi(cx, cy), rel=1e-10, abs=1e-13)


def test_miller_madow_term_counts_occupied_bins_and_cells():
    """The correction is (B_xy - B_x - B_y + 1) / (2 S) in nats (the original
    study's code subtracted a term in bits from an MI in nats)."""
    rng = np.random.default_rng(6)
    A, B = relu_like(rng, (80, 3)), random_case(rng, 80, 2, "ties")
    mi, mc = mutual_information_matrix(A, B, bins=8)
    ca, cb = discretize(A, 8), discretize(B, 8)
    for a in range(3):
        for b in range(2):
            b_x, b_y = np.unique(ca[:, a]).size, np.unique(cb[:, b]).size
            b_xy = len(set(zip(ca[:, a].tolist(), cb[:, b].tolist())))
            expected = (b_xy - b_x - b_y + 1) / (2 * 80)
            assert mi[a, b] - mc[a, b] == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------- statistics


def test_independent_units_plugin_is_biased_up_corrected_is_near_zero():
    rng = np.random.default_rng(7)
    S, bins = 5000, 10
    mi, mc = mutual_information_matrix(
        relu_like(rng, (S, 20)), relu_like(rng, (S, 20)), bins
    )
    # chi-square theory: E[plug-in] ~ (B_x - 1)(B_y - 1) / (2 S) = 81 / 10000
    assert np.all(mi > 0)
    assert mi.mean() == pytest.approx(81 / (2 * S), rel=0.1)
    # corrected: sd per pair ~ sqrt(2 * 81) / (2 S) = 0.0013, 400 pairs
    assert abs(mc.mean()) < 0.05 * mi.mean()
    assert np.all(np.abs(mc) < mi)


def test_miller_madow_is_first_order_and_under_corrects_sparse_tables():
    """With ~3.5 expected samples per cell the plug-in bias exceeds (B - 1)/(2S)
    terms: Miller-Madow removes most of it but leaves a positive remainder."""
    rng = np.random.default_rng(7)
    S = 2000
    mi, mc = mutual_information_matrix(relu_like(rng, (S, 20)), relu_like(rng, (S, 20)))
    assert 0.05 * mi.mean() < mc.mean() < 0.15 * mi.mean()


R_VALUES = [0.3, 0.6, 0.9]


@pytest.mark.parametrize("r", R_VALUES)
def test_bivariate_normal_approaches_the_gaussian_mi(r):
    true = -0.5 * np.log(1 - r * r)
    rng = np.random.default_rng(int(r * 10))
    S = 100_000
    x = rng.standard_normal(S)
    y = r * x + np.sqrt(1 - r * r) * rng.standard_normal(S)
    # more samples: the plug-in's upward sampling bias shrinks, and both
    # values end nearer the truth (not monotonically: at 41 bins the binning
    # loses a little, so a small upward bias can cancel it by chance)
    plugin = [mutual_information(x[:n], y[:n], 41)[0] for n in (1000, 10_000, S)]
    assert plugin[0] > plugin[1] > plugin[2]
    first = np.array(mutual_information(x[:1000], y[:1000], 41))
    mi, mc = mutual_information(x, y, 41)
    assert np.all(np.abs([mi - true, mc - true]) < np.abs(first - true))
    assert mc == pytest.approx(true, rel=0.04, abs=0.002)
    # the correction removes most of the sampling bias: at 10^4 samples the
    # corrected value is nearer the 10^5-sample value than the plug-in is
    mi_small, mc_small = mutual_information(x[:10_000], y[:10_000], 41)
    assert abs(mc_small - mc) < 0.5 * abs(mi_small - mc)
    # binning loses information: more bins, more MI, never (much) above the truth
    by_bins = [mutual_information(x, y, b)[1] for b in (3, 5, 11, 21, 41)]
    assert np.all(np.diff(by_bins) > 0) and by_bins[-1] < true + 0.003
    # rectified: a function of (x, y) carries less, but not nothing
    rx, ry = np.maximum(x, 0), np.maximum(y, 0)
    rmc = mutual_information(rx, ry, 21)[1]
    assert 0.5 * by_bins[3] < rmc < by_bins[3]


def test_rectified_mi_grows_with_correlation():
    rng = np.random.default_rng(8)
    x, e = rng.standard_normal(20_000), rng.standard_normal(20_000)
    values = [
        mutual_information(
            np.maximum(x, 0), np.maximum(r * x + np.sqrt(1 - r * r) * e, 0)
        )[1]
        for r in [0.0] + R_VALUES
    ]
    assert abs(values[0]) < 0.003 and np.all(np.diff(values) > 0)


# ------------------------------------------------------------ invariances


def test_symmetric():
    rng = np.random.default_rng(9)
    A, B = relu_like(rng, (500, 6)), random_case(rng, 500, 4, "ties")
    B[:, 0] += A[:, 0]
    mi, mc = mutual_information_matrix(A, B)
    mi_t, mc_t = mutual_information_matrix(B, A)
    np.testing.assert_allclose(mi, mi_t.T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mc, mc_t.T, rtol=1e-12, atol=1e-15)
    xy, yx = mutual_information(A[:, 0], B[:, 0]), mutual_information(B[:, 0], A[:, 0])
    assert xy == pytest.approx(yx, rel=1e-12) and xy[0] > 0.1


@pytest.mark.parametrize(
    "name, f",
    [
        ("3x", lambda v: 3.0 * v),
        ("x**3", lambda v: v**3),
        ("expm1", np.expm1),
        ("sinh", np.sinh),
        ("arctan", np.arctan),
    ],
)
def test_unchanged_by_increasing_maps_that_keep_zero(name, f):
    """Strictly increasing f with f(v) == 0 iff v == 0: same codes, same MI, bit for bit."""
    rng = np.random.default_rng(10)
    A = np.concatenate([relu_like(rng, (400, 3)), random_case(rng, 400, 2, "ties")], 1)
    B = relu_like(rng, (400, 2)) + 0.3 * A[:, :2]
    fA = f(A)
    np.testing.assert_array_equal(discretize(fA), discretize(A))
    for got, want in zip(
        mutual_information_matrix(fA, B), mutual_information_matrix(A, B)
    ):
        np.testing.assert_array_equal(got, want)


def test_a_map_that_moves_zero_changes_the_binning():
    """x + 1 is increasing, but the zeros leave the zero bin: not an invariance."""
    rng = np.random.default_rng(11)
    x = relu_like(rng, (400, 1))
    assert not np.array_equal(discretize(x + 1.0), discretize(x))


def test_units_permute_with_the_columns():
    rng = np.random.default_rng(12)
    A, B = relu_like(rng, (300, 5)), relu_like(rng, (300, 4))
    pa, pb = rng.permutation(5), rng.permutation(4)
    mi, mc = mutual_information_matrix(A, B)
    mi_p, mc_p = mutual_information_matrix(A[:, pa], B[:, pb])
    np.testing.assert_array_equal(mi_p, mi[np.ix_(pa, pb)])
    np.testing.assert_array_equal(mc_p, mc[np.ix_(pa, pb)])


# ---------------------------------------------------- degenerate and misc


def test_dead_and_constant_units_give_exactly_zero_and_no_nan():
    rng = np.random.default_rng(13)
    A = random_case(rng, 200, 4, "mixed")  # unit 0 all zero, unit 1 constant 2.5
    B = random_case(rng, 200, 3, "ties")
    B[:, 2] = 0.0
    with np.errstate(all="raise"):
        mi, mc = mutual_information_matrix(A, B, bins=30)  # many empty cells
    assert np.all(np.isfinite(mi)) and np.all(np.isfinite(mc))
    assert np.all(mi[:2] == 0) and np.all(mc[:2] == 0) and np.all(mi[:, 2] == 0)
    assert mutual_information(A[:, 1], A[:, 1]) == (0.0, 0.0)
    assert mutual_information(np.zeros(1), np.ones(1), bins=2) == (0.0, 0.0)


def test_deterministic_and_dtype_independent():
    rng = np.random.default_rng(14)
    A = relu_like(rng, (700, 5), np.float32)
    B = relu_like(rng, (700, 3), np.float32) + A[:, :3]
    first = mutual_information_matrix(A, B)
    second = mutual_information_matrix(A, B)
    as64 = mutual_information_matrix(A.astype(np.float64), B.astype(np.float64))
    for x, y, z in zip(first, second, as64):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)


def test_one_pair_equals_the_matrix_entry_and_nchw_is_samples():
    rng = np.random.default_rng(15)
    A, B = relu_like(rng, (2, 3, 4, 5)), relu_like(rng, (2, 2, 4, 5))
    mi, mc = mutual_information_matrix(A, B, bins=6)
    a2 = A.transpose(0, 2, 3, 1).reshape(-1, 3)
    b2 = B.transpose(0, 2, 3, 1).reshape(-1, 2)
    assert mi.shape == (3, 2)
    got = mutual_information(a2[:, 2], b2[:, 1], bins=6)
    assert isinstance(got[0], float) and got == (mi[2, 1], mc[2, 1])


# ------------------------------------------------------------------ errors


def test_bad_input_raises_naming_the_argument():
    x, y = np.ones(5), np.ones(5)
    with pytest.raises(
        ValueError, match=r"x and y must have the same length, got 5 and 4"
    ):
        mutual_information(x, np.ones(4))
    with pytest.raises(
        ValueError, match=r"x must be 1-D \(samples,\), got shape \(5, 1\)"
    ):
        mutual_information(x[:, None], y)
    with pytest.raises(ValueError, match=r"y must be 1-D"):
        mutual_information(x, np.ones((5, 2)))
    with pytest.raises(ValueError, match="at least one sample"):
        mutual_information(np.ones(0), np.ones(0))
    for bad in (1, 0, -3, 2.5, True, "10"):
        with pytest.raises(ValueError, match=r"bins must be an integer >= 2"):
            mutual_information(x, y, bins=bad)
        with pytest.raises(ValueError, match=r"bins must be an integer >= 2"):
            mutual_information_matrix(x[:, None], y[:, None], bins=bad)
    nan = np.array([1.0, 0.0, np.nan, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"x must be finite, got nan at index 2"):
        mutual_information(nan, y)
    with pytest.raises(ValueError, match=r"y must be finite, got inf at index 0"):
        mutual_information(x, np.array([np.inf, 1, 2, 3, 4.0]))
    with pytest.raises(
        ValueError, match=r"B must be finite, got nan at index \(2, 0\)"
    ):
        mutual_information_matrix(np.ones((5, 2)), nan[:, None])
    with pytest.raises(ValueError, match=r"a must be finite"):
        discretize(nan[:, None])
    with pytest.raises(
        TypeError, match="x must be float32 or float64, got dtype int64"
    ):
        mutual_information(np.arange(5), y)
    with pytest.raises(TypeError, match="y must be a numpy array, got list"):
        mutual_information(x, [1.0] * 5)
    with pytest.raises(ValueError, match=r"same number of samples, got 5 .* and 4"):
        mutual_information_matrix(np.ones((5, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"A must be 2-D \(samples, units\) or 4-D"):
        mutual_information_matrix(np.ones(5), np.ones((5, 1)))
    with pytest.raises(ValueError, match=r"B must be 2-D .* got shape \(5, 1, 1\)"):
        mutual_information_matrix(np.ones((5, 1)), np.ones((5, 1, 1)))
    with pytest.raises(ValueError, match="bins must be an integer >= 2"):
        discretize(np.ones((5, 1)), bins=1)


def test_layers_without_units_are_refused():
    A = np.zeros((10, 0))
    with pytest.raises(
        ValueError, match=r"A must hold at least one unit, got shape \(10, 0\)"
    ):
        mutual_information_matrix(A, np.ones((10, 2)))
    with pytest.raises(ValueError, match="B must hold at least one unit"):
        mutual_information_matrix(np.ones((10, 2)), A)
